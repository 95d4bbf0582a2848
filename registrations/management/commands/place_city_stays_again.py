from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from registrations.services.upgrades import place_city_stays_again


class Command(BaseCommand):
    help = (
        "Place every stay that has a city and no point of its own again with the current gazetteer (names "
        "shared by cities far apart become country precision). Run once after upgrading past that change; "
        "safe to re-run."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        result = place_city_stays_again()
        self.stdout.write(
            f"stays placed at another city: {result.placed}; "
            f"stays now at country precision (ambiguous or unknown name): {result.coarsened}"
        )
        for stay_id in result.unreadable:  # ids only: which stays, for an operator to look into
            self.stderr.write(f"stay {stay_id}: city does not decrypt; left unchanged")
