"""A dump of the database shows no identifying value in clear."""

import os
import shutil
import subprocess
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection

from tests.factories import profile_payload, registered_citizen, trip_payload

DISTINCTIVE = {
    "given_name": "Zephyrinella",
    "family_name": "Quattlebaumova",
    "passport_number": "QZ9876543",
    "phone": "+6799991234",
    "email": "zephyrinella.q@example.test",
    "contact_name": "Bartholomewtina",
    "contact_phone": "+6493770099",
    "address": "77 Xylophonestrasse",
    "city": "Savusavu",
    "title": "Secret pilgrimage",
}


def pg_dump_path() -> str:
    candidate = os.path.join(os.environ.get("PG_BIN_DIR", "/usr/lib/postgresql/15/bin"), "pg_dump")
    found = candidate if os.path.exists(candidate) else shutil.which("pg_dump")
    if found is None:
        pytest.fail("pg_dump not found: set PG_BIN_DIR to the PostgreSQL binaries' directory")
    return found


@pytest.mark.django_db(transaction=True)
def test_a_database_dump_contains_no_personal_value_in_clear():
    registered_citizen(
        email="login.zephyrinella@example.test",
        profile=profile_payload(
            given_name=DISTINCTIVE["given_name"],
            family_name=DISTINCTIVE["family_name"],
            passport_number=DISTINCTIVE["passport_number"],
            phone=DISTINCTIVE["phone"],
            email=DISTINCTIVE["email"],
            emergency_contact={
                "name": DISTINCTIVE["contact_name"],
                "phone": DISTINCTIVE["contact_phone"],
                "relation": "aunt",
            },
        ),
        trips=[
            trip_payload(
                title=DISTINCTIVE["title"],
                stays=[
                    {"country": "FJ", "city": DISTINCTIVE["city"], "address": DISTINCTIVE["address"],
                     "start_date": "2026-11-02", "end_date": "2026-11-05"},
                ],
            )
        ],
    )  # fmt: skip
    url = urlunsplit(urlsplit(settings.DATABASE_URL)._replace(path="/" + connection.settings_dict["NAME"]))
    dump = subprocess.run([pg_dump_path(), "--data-only", url], capture_output=True, check=True, timeout=120).stdout
    text = dump.decode("utf-8", errors="replace").lower()
    assert "registrations_traveller" in text  # the dump really holds the register
    for name, value in DISTINCTIVE.items():
        assert value.lower() not in text, f"{name} found in clear in the dump"
    assert "login.zephyrinella" not in text
    assert "1990-04-12" not in text  # date of birth
