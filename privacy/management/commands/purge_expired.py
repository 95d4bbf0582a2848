from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from privacy.services.retention import purge_expired


class Command(BaseCommand):
    help = "Erase (crypto-shred) registrations whose last trip ended more than RETENTION_DAYS ago."

    def handle(self, *args: Any, **options: Any) -> None:
        count, _ = purge_expired()
        self.stdout.write(f"purged {count} registrations older than {settings.RETENTION_DAYS} days")
