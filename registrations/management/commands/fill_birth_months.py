from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from registrations.services.upgrades import fill_birth_months


class Command(BaseCommand):
    help = (
        "Give every registration written before households its month of birth in clear, from its encrypted "
        "date of birth, so the crisis counts find its minors. Run once after migrating; safe to re-run."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        result = fill_birth_months()
        self.stdout.write(f"registrations given their month of birth: {result.filled}")
        for traveller_id in result.unreadable:  # ids only
            self.stderr.write(f"registration {traveller_id}: date of birth does not decrypt; left without a month")
