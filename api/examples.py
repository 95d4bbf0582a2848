"""A valid request body for each write operation, shown in the schema and the docs page.

Client developers copy these; the contract gate (tests/contract) sends each one and
expects it taken, so an example the rules refuse fails the build.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample


def _example(summary: str, value: dict[str, object]) -> list[OpenApiExample]:
    return [OpenApiExample(summary, value=value, request_only=True)]


SIGN_UP = _example(
    "A citizen signs up", {"email": "ana.tuilagi@example.org", "password": "five words make a passphrase"}
)
LOG_IN = _example("A login", {"email": "ana.tuilagi@example.org", "password": "five words make a passphrase"})

PROFILE = _example(
    "A whole profile",
    {
        "given_name": "Ana",
        "family_name": "Tuilagi",
        "date_of_birth": "1990-04-12",
        "nationality": "NZ",
        "passport_number": "LA123456",
        "phone": "+64 21 123 4567",
        "email": "ana.tuilagi@example.org",
        "language": "en",
        "emergency_contact": {"name": "Sione Tuilagi", "phone": "+64 9 377 1234", "relation": "brother"},
        "consent": {"contact": True, "share_with_partners": False},
    },
)
PROFILE_PATCH = _example(
    "A new phone number, and no more emergency contact", {"phone": "+679 331 2345", "emergency_contact": None}
)

COMPANION = _example(
    "A daughter travelling with the registrant",
    {
        "given_name": "Mele",
        "family_name": "Tuilagi",
        "date_of_birth": "2014-06-02",
        "nationality": "NZ",
        "relation": "daughter",
        "passport_number": "LA765432",
        "contact_directly": False,
        "disclosure": {"tell": "relatives", "relatives": [{"name": "Sione Tuilagi", "phone": "+64 9 377 1234"}]},
    },
)
COMPANION_PATCH = _example(
    "Her own phone, and permission to text her", {"phone": "+64 21 765 4321", "contact_directly": True}
)
RESIDENCE = _example(
    "Living in Suva since 2019, open-ended",
    {"country": "FJ", "city": "Suva", "address": "4 Cakobau Road", "since": "2019-08-01", "until": None},
)
RESIDENCE_PATCH = _example("Moving out at the end of the year", {"until": "2027-12-31"})

TRIP = _example(
    "A trip with its stays",
    {
        "title": "Fiji field visit",
        "start_date": "2027-03-01",
        "end_date": "2027-03-21",
        "stays": [
            {
                "country": "FJ",
                "city": "Suva",
                "location": {"lat": -18.1416, "lon": 178.4419},
                "address": "12 Victoria Parade",
                "start_date": "2027-03-01",
                "end_date": "2027-03-10",
            },
            {"country": "FJ", "city": "Nadi", "start_date": "2027-03-10", "end_date": "2027-03-14"},
            {"country": "TO", "start_date": "2027-03-14", "end_date": "2027-03-21"},
        ],
    },
)
TRIP_PATCH = _example("A new title", {"title": "Fiji and Tonga field visit"})

CRISIS = _example(
    "A cyclone's track over Viti Levu",
    {
        "title": "Cyclone over Viti Levu",
        "description": "Category 4 cyclone; landfall expected near Nadi.",
        "severity": "severe",
        "starts_at": "2027-02-10T06:00:00Z",
        "ends_at": None,
        "public": False,
        "area": {
            "type": "Polygon",
            "coordinates": [[[177.0, -19.0], [179.0, -19.0], [179.0, -17.0], [177.0, -17.0], [177.0, -19.0]]],
        },
    },
)
CRISIS_PATCH = _example("A worse forecast", {"severity": "extreme", "description": "Upgraded to category 5."})

REVEAL = _example(
    "Names for a flight manifest", {"reason": "Manifest for the evacuation flight from Nadi", "country": "FJ"}
)
CAMPAIGN = _example(
    "Counting first: a dry run",
    {
        "messages": {
            "en": "Cyclone warning for Viti Levu. Are you safe? {checkin_url}",
            "fr": "Alerte cyclone sur Viti Levu. Êtes-vous en sécurité ? {checkin_url}",
        },
        "default_language": "en",
        "channels": ["email"],
        "ask_checkin": True,
        "dry_run": True,
    },
)
CHECK_IN = _example("I am safe", {"status": "safe", "message": "At the Nadi evacuation centre."})

FEED_SOURCE = _example(
    "GDACS, every 10 minutes, red and orange events with people inside activated at once",
    {
        "name": "GDACS 24 hours",
        "kind": "gdacs",
        "url": "https://www.gdacs.org/xml/rss_24h.xml",
        "poll_minutes": 10,
        "enabled": True,
        "activate_min_severity": "severe",
        "activate_min_located": 1,
    },
)

FEED_SOURCE_PATCH = _example("Pause a source", {"enabled": False})

ADVISORY_LOOKUP = _example("A point in Suva", {"lat": -18.1416, "lon": 178.4419})

ADVISORY = _example(
    "Fiji, level 2, in English and French",
    {
        "level": 2,
        "texts": {
            "en": {
                "title": "Exercise a high degree of caution",
                "summary": "Cyclone season runs from November to April.",
            },
            "fr": {
                "title": "Faire preuve d'une grande prudence",
                "summary": "Saison des cyclones de novembre à avril.",
            },
        },
        "regional_notes": {"en": "Avoid the outer islands during warnings."},
    },
)
