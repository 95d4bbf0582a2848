"""Synthetic register lines for the import benchmark and load tests (no real person's data)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import date, timedelta

GIVEN = ["Ana", "Sione", "Mele", "Ioane", "Losa", "Tevita", "Mere", "Pita", "Salote", "Viliami", "Jean", "Marie"]
FAMILY = ["Tuilagi", "Fifita", "Havili", "Taufa", "Lolohea", "Naufahu", "Dupont", "Martin", "Ravu", "Koroi"]
# (country, city or None, lat, lon, calling code prefix for a valid mobile number)
PLACES = [
    ("FJ", "Suva", -18.1416, 178.4419),
    ("FJ", "Nadi", -17.80, 177.42),
    ("TO", None, -21.1394, -175.2049),
    ("WS", "Apia", -13.8333, -171.7667),
    ("PE", "Lima", -12.0464, -77.0428),
    ("NZ", "Auckland", -36.8485, 174.7633),
    ("JP", "Tokyo", 35.6762, 139.6503),
    ("TR", "Izmir", 38.4237, 27.1428),
]


RELATIONS = ["spouse", "son", "daughter", "partner", "friend", "colleague"]
COMPANION_SLOTS = 4  # 0-4 companions a line, `companions_per_registration` on average


def companion(index: int, number: int, rng: random.Random, family_name: str) -> dict:
    """A companion named by ref ``c<number>``: a fifth with a phone of their own, contacted directly."""
    reachable = rng.random() < 0.2
    return {
        "ref": f"c{number}",
        "given_name": rng.choice(GIVEN),
        "family_name": family_name,
        "date_of_birth": (date(1940, 1, 1) + timedelta(days=rng.randint(0, 30_000))).isoformat(),
        "nationality": rng.choice(["NZ", "NZ", "NZ", "FJ", "TO"]),
        "relation": rng.choice(RELATIONS),
        "passport_number": f"LC{index:08d}{number}" if rng.random() < 0.6 else None,
        "phone": f"+6427{(index * 4 + number) % 10_000_000:07d}" if reachable else None,
        "contact_directly": reachable,
    }


def register_line(
    index: int, rng: random.Random, *, start: date, companions_per_registration: float = 0.0, residents: float = 0.0
) -> dict:
    country, city, lat, lon = rng.choice(PLACES)
    trip_start = start + timedelta(days=rng.randint(0, 60))
    trip_end = trip_start + timedelta(days=rng.randint(1, 30))
    stay_mode = index % 3
    stay: dict[str, object] = {
        "country": country,
        "start_date": trip_start.isoformat(),
        "end_date": trip_end.isoformat(),
    }
    if stay_mode == 0:
        stay["location"] = {
            "lat": round(lat + rng.uniform(-0.05, 0.05), 5),
            "lon": round(lon + rng.uniform(-0.05, 0.05), 5),
        }
        stay["address"] = f"{rng.randint(1, 400)} Harbour Road"
    elif stay_mode == 1 and city:
        stay["city"] = city
    family_name = rng.choice(FAMILY)
    share = companions_per_registration / COMPANION_SLOTS
    companions = [
        companion(index, number, rng, family_name)
        for number in range(COMPANION_SLOTS)
        if share and rng.random() < share
    ]
    refs = [c["ref"] for c in companions]
    line: dict = {
        "profile": {
            "given_name": rng.choice(GIVEN),
            "family_name": family_name,
            "date_of_birth": (date(1950, 1, 1) + timedelta(days=rng.randint(0, 20000))).isoformat(),
            "nationality": "NZ",
            "passport_number": f"LX{index:08d}",
            "phone": f"+6421{index % 10_000_000:07d}",
            "email": f"traveller{index}@example.test",
            "language": rng.choice(["en", "fr", "to", "sm", "en-NZ"]),
            "emergency_contact": {"name": rng.choice(GIVEN), "phone": "+6493771234", "relation": "parent"},
            "consent": {"contact": rng.random() < 0.9, "share_with_partners": rng.random() < 0.5},
        },
        "trips": [
            {
                "title": "Work trip",
                "start_date": trip_start.isoformat(),
                "end_date": trip_end.isoformat(),
                "stays": [stay],
                "companions": refs,
            }
        ],
    }
    if companions:
        line["companions"] = companions
    if residents and rng.random() < residents:
        home_country, home_city, home_lat, home_lon = rng.choice(PLACES)
        residence: dict[str, object] = {
            "country": home_country,
            "since": (start - timedelta(days=rng.randint(30, 3000))).isoformat(),
            "companions": refs,
        }
        if home_city:
            residence["city"] = home_city
        else:
            residence["location"] = {"lat": home_lat, "lon": home_lon}
        line["residences"] = [residence]
    return line


def register_lines(
    count: int,
    *,
    seed: int = 7,
    start: date | None = None,
    companions_per_registration: float = 0.0,
    residents: float = 0.0,
) -> Iterator[str]:
    """Lines of the import format; with companions (each on the trip and the residence) and residences if asked."""
    rng = random.Random(seed)
    start = start or date.today() - timedelta(days=30)
    for index in range(count):
        line = register_line(
            index, rng, start=start, companions_per_registration=companions_per_registration, residents=residents
        )
        yield json.dumps(line)
