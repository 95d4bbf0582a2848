"""Idempotent demo data for `make run`: a consular post, staff accounts, a citizen with a
registration, and a small imported register of travellers around Fiji, Tonga and Samoa.

Passwords are generated on first creation and written to .local/demo-credentials.txt
(mode 0600); a second run finds the accounts and creates nothing.
"""

from __future__ import annotations

import io
import json
import secrets
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import Role, User
from accounts.services import post_upsert, user_create
from consular.crypto import email_blind_index
from crises.models import Crisis
from crises.services.lifecycle import crisis_declare, crisis_transition
from registrations.importer import import_file
from registrations.models import Traveller
from registrations.services.profiles import profile_write
from registrations.services.trips import trip_create

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
        self._demo_register()
        self._demo_crisis()
        if created:
            # An account made again (a new database, an erased demo citizen) replaces its old
            # line: a stale password listed first would no longer log in.
            emails = {line.split("\t")[1] for line in created}
            kept = [
                line
                for line in (credentials_file.read_text().splitlines() if credentials_file.exists() else [])
                if line.count("\t") == 2 and line.split("\t")[1] not in emails
            ]
            credentials_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            credentials_file.touch(mode=0o600)
            credentials_file.chmod(0o600)
            credentials_file.write_text("\n".join(kept + created) + "\n")
            self.stdout.write(f"Demo accounts created; credentials in {credentials_file}.")
        else:
            self.stdout.write(f"Demo data already present; credentials in {credentials_file}.")

    def _demo_register(self) -> None:
        citizen = User.objects.get(email_bidx=email_blind_index("traveller@demo.invalid"))
        if not Traveller.objects.filter(user=citizen).exists():
            profile_write(user=citizen, data=_demo_profile(0, "Demo", "Traveller"), partial=False)
            today = timezone.localdate()
            trip_create(user=citizen, data=_demo_trip(today, "FJ", city="Suva"))
        lines = [json.dumps(_with_household({"profile": _demo_profile(n, given, family), "trips": [_demo_trip(
            timezone.localdate(), country, city=city, point=point)]}, given))
            for n, (given, family, country, city, point) in enumerate(DEMO_REGISTER, start=1)]  # fmt: skip
        report = import_file(io.BytesIO("\n".join(lines).encode()), workers=1)
        self.stdout.write(
            f"Demo register: {report.imported} travellers imported, {len(report.duplicates)} already there."
        )

    def _demo_crisis(self) -> None:
        if Crisis.objects.filter(title=DEMO_CRISIS_TITLE).exists():
            return
        # Declared by the demo post's officer, so the demo post's staff may also edit and close it.
        officer = User.objects.get(email_bidx=email_blind_index("officer@demo.invalid"))
        crisis = crisis_declare(
            user=officer,
            title=DEMO_CRISIS_TITLE,
            description="Demo: a cyclone passing over Viti Levu, drawn as a 150 km circle around Suva.",
            severity="severe",
            starts_at=timezone.now() - timedelta(days=1),
            area={"type": "Circle", "center": [178.44, -18.14], "radius_km": 150},
            public=True,
        )
        crisis_transition(crisis=crisis, user=officer, action="activate")
        self.stdout.write("Demo crisis declared and activated.")


DEMO_CRISIS_TITLE = "Demo: Tropical Cyclone over Viti Levu"

DEMO_REGISTER = [
    ("Mele", "Fifita", "TO", None, (-21.1394, -175.2049)),
    ("Sione", "Havili", "TO", None, None),
    ("Losa", "Taufa", "FJ", "Nadi", None),
    ("Tevita", "Lolohea", "FJ", None, (-18.1300, 178.4250)),
    ("Salote", "Naufahu", "FJ", "Lautoka", None),
    ("Ioane", "Ravu", "WS", "Apia", None),
    ("Mere", "Koroi", "WS", None, (-13.8400, -171.7500)),
    ("Pita", "Tuilagi", "VU", "Port Vila", None),
]

# A family travelling together in Suva (the trip names them by ref, as an import line
# does) and a citizen living in Apia, so the demo counts show people beside registrations.
DEMO_HOUSEHOLDS: dict[str, dict[str, Any]] = {
    "Tevita": {
        "companions": [
            {"ref": "wife", "given_name": "Ana", "family_name": "Lolohea", "date_of_birth": "1982-03-14",
             "nationality": "TO", "relation": "spouse"},
            {"ref": "daughter", "given_name": "Lesieli", "family_name": "Lolohea", "date_of_birth": "2016-09-02",
             "nationality": "NZ", "relation": "daughter"},
        ],
    },
    "Ioane": {"residences": [{"country": "WS", "city": "Apia", "since": "2021-06-01"}]},
}  # fmt: skip


def _demo_profile(n: int, given: str, family: str) -> dict:
    return {
        "given_name": given,
        "family_name": family,
        "date_of_birth": f"19{60 + n}-0{1 + n % 9}-1{n % 10}",
        "nationality": "NZ",
        "passport_number": f"DEMO{n:05d}",
        "phone": f"+64 21 555 {n:04d}",
        "email": f"demo.traveller{n}@demo.invalid",
        "language": ["en", "fr", "to", "sm"][n % 4],
        "emergency_contact": None,
        "consent": {"contact": True, "share_with_partners": n % 2 == 0},
    }


def _demo_trip(today: date, country: str, *, city: str | None = None, point: tuple | None = None) -> dict:
    start, end = today - timedelta(days=7), today + timedelta(days=21)
    stay: dict[str, Any] = {"country": country, "start_date": start.isoformat(), "end_date": end.isoformat()}
    if city:
        stay["city"] = city
    if point:
        stay["location"] = {"lat": point[0], "lon": point[1]}
    return {"title": "Demo trip", "start_date": start.isoformat(), "end_date": end.isoformat(), "stays": [stay]}


def _with_household(line: dict[str, Any], given: str) -> dict[str, Any]:
    household = DEMO_HOUSEHOLDS.get(given, {})
    refs = [companion["ref"] for companion in household.get("companions", [])]
    for trip in line["trips"]:
        trip["companions"] = refs
    return line | household
