"""A dump of the database shows no identifying value in clear."""

import os
import shutil
import subprocess
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection

from privacy.services.erasure import person_erase
from registrations.models import Companion, Residence, Traveller
from tests.factories import companion_payload, household, profile_payload, registered_citizen, trip_payload

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
    "companion_given_name": "Wilhelminetta",
    "companion_passport": "QZ5551234",
    "companion_relation": "goddaughter",
    "relative_name": "Ottoline Brackenbury",
    "residence_address": "12 Quinceylane Heights",
}
COMPANION_BIRTH_DATE = "2013-07-19"


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
    _household_of_canaries()
    text = _dump()
    assert "registrations_traveller" in text  # the dump really holds the register
    assert "registrations_companion" in text and "registrations_residence" in text
    for name, value in DISTINCTIVE.items():
        assert value.lower() not in text, f"{name} found in clear in the dump"
    assert "login.zephyrinella" not in text
    assert "1990-04-12" not in text  # date of birth
    assert COMPANION_BIRTH_DATE not in text


def _household_of_canaries():
    relatives = {"tell": "relatives", "relatives": [{"name": DISTINCTIVE["relative_name"], "phone": "+6493770011"}]}
    return household(
        email="login.household@example.test",
        companions=[
            companion_payload(
                given_name=DISTINCTIVE["companion_given_name"],
                passport_number=DISTINCTIVE["companion_passport"],
                relation=DISTINCTIVE["companion_relation"],
                date_of_birth=COMPANION_BIRTH_DATE,
                disclosure=relatives,
            )
        ],
        residences=[
            {"country": "FJ", "city": "Suva", "address": DISTINCTIVE["residence_address"], "since": "2020-01-01"}
        ],
    )


def _dump() -> str:
    url = urlunsplit(urlsplit(settings.DATABASE_URL)._replace(path="/" + connection.settings_dict["NAME"]))
    dump = subprocess.run([pg_dump_path(), "--data-only", url], capture_output=True, check=True, timeout=120).stdout
    return dump.decode("utf-8", errors="replace").lower()


def _rows_of(text: str, table: str) -> list[str]:
    """The data lines of a table's COPY block in a plain dump."""
    block = text.split(f"copy public.{table} ", 1)[1].split("\\.\n", 1)[0]
    return block.splitlines()[1:]


@pytest.mark.django_db(transaction=True)
def test_an_erased_household_leaves_no_companion_or_residence_in_a_dump():
    user, (companion_id,) = _household_of_canaries()
    traveller_id = str(Traveller.objects.get(user=user).pk)
    person_erase(user=user)
    assert not Companion.objects.exists() and not Residence.objects.exists()
    text = _dump()
    for table in ("registrations_companion", "registrations_residence", "registrations_trip_companions",
                  "registrations_residence_companions"):  # fmt: skip
        assert _rows_of(text, table) == [], table
    # The companion's id is nowhere; the registration's only in the records of its erasure.
    holding = {block.split(" ", 1)[0] for block in text.split("copy public.")[1:] if companion_id in block}
    assert holding == set()
    holding = {block.split(" ", 1)[0] for block in text.split("copy public.")[1:] if traveller_id in block}
    assert holding <= {"privacy_erasure", "consular_auditentry"}
