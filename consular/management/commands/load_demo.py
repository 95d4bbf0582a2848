"""Idempotent demo data for `make run`: a consular post, staff accounts and a citizen.

Passwords are generated on first creation and written to .local/demo-credentials.txt
(mode 0600); a second run finds the accounts and creates nothing.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Role, User
from accounts.services import post_upsert, user_create
from consular.crypto import email_blind_index

DEMO_POST = ("Demo Pacific Post", ["FJ", "TO", "WS", "VU"])
DEMO_ACCOUNTS = [
    ("officer@demo.invalid", Role.OFFICER),
    ("supervisor@demo.invalid", Role.SUPERVISOR),
    ("analyst@demo.invalid", Role.ANALYST),
    ("admin@demo.invalid", Role.ADMIN),
    ("traveller@demo.invalid", Role.CITIZEN),
]


class Command(BaseCommand):
    help = "Load demo data (development only; safe to run repeatedly)."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("Demo data is never loaded in production.")
        credentials_file = Path(settings.LOCAL_DIR) / "demo-credentials.txt"
        post = post_upsert(name=DEMO_POST[0], countries=DEMO_POST[1])
        created: list[str] = []
        for email, role in DEMO_ACCOUNTS:
            if User.objects.filter(email_bidx=email_blind_index(email)).exists():
                continue
            password = secrets.token_urlsafe(12)
            user_create(
                email=email, password=password, role=role, post=post if role not in {Role.CITIZEN, Role.ADMIN} else None
            )
            created.append(f"{role}\t{email}\t{password}")
        if created:
            credentials_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            with credentials_file.open("a") as handle:
                credentials_file.chmod(0o600)
                handle.write("\n".join(created) + "\n")
            self.stdout.write(f"Demo accounts created; credentials in {credentials_file}.")
        else:
            self.stdout.write(f"Demo data already present; credentials in {credentials_file}.")
