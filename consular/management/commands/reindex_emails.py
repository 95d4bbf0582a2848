from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from accounts.services import reindex_account_emails
from registrations.services import reindex_traveller_emails


class Command(BaseCommand):
    help = (
        "Recompute the email blind indexes of accounts and registrations from their decrypted emails. "
        "Run once after upgrading past the change that made internationalised email domains one form."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = reindex_account_emails()
        travellers = reindex_traveller_emails()
        self.stdout.write(f"accounts re-indexed: {accounts.updated}; registrations re-indexed: {travellers}")
        for user_id in accounts.conflicts:
            # Ids only: which two accounts share a mailbox is for an operator to settle.
            self.stderr.write(f"account {user_id}: its email now matches another account's; left unchanged")
