from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from accounts.services import reindex_account_emails
from registrations.services.upgrades import reindex_traveller_emails


class Command(BaseCommand):
    help = (
        "Rewrite the emails of accounts and registrations in their one normalised form and recompute their "
        "blind indexes. Run once after upgrading past the change that gave internationalised email domains "
        "one (ASCII) form; safe to re-run."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = reindex_account_emails()
        travellers = reindex_traveller_emails()
        self.stdout.write(f"accounts re-indexed: {accounts.updated}; registrations re-indexed: {travellers.updated}")
        # Ids only: which accounts share a mailbox, or hold an unreadable value, is for an operator to look into.
        for user_id in accounts.conflicts:
            self.stderr.write(f"account {user_id}: its email now matches another account's; left unchanged")
        for user_id in accounts.unreadable:
            self.stderr.write(f"account {user_id}: email does not decrypt; left unchanged")
        for traveller_id in travellers.unreadable:
            self.stderr.write(f"registration {traveller_id}: email does not decrypt; left unchanged")
