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


def register_line(index: int, rng: random.Random, *, start: date) -> dict:
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
    return {
        "profile": {
            "given_name": rng.choice(GIVEN),
            "family_name": rng.choice(FAMILY),
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
            }
        ],
    }


def register_lines(count: int, *, seed: int = 7, start: date | None = None) -> Iterator[str]:
    rng = random.Random(seed)
    start = start or date.today() - timedelta(days=30)
    for index in range(count):
        yield json.dumps(register_line(index, rng, start=start))
