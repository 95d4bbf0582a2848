"""The API's schema and the register's rules agree on how long each text may be.

The serializers in api/registrations/ only describe the JSON for the OpenAPI schema;
registrations.validation decides. Every max_length the schema announces is checked
here against the validator: that many characters pass its length rule, one more fails.
"""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework import serializers

from api.registrations.serializers import CompanionInput, ProfileInput, ResidenceInput, TripInput
from consular.validation import Invalid
from registrations.validation import validate_companion, validate_profile, validate_residence, validate_trip
from tests.factories import companion_payload, profile_payload, residence_payload, trip_payload


def _limited_fields(schema: serializers.Serializer, prefix: str = "") -> list[tuple[str, int]]:
    """(dotted path, max_length) of every string field with a limit, nested objects and lists included."""
    found = []
    for name, field in schema.fields.items():
        path = f"{prefix}{name}"
        if isinstance(field, serializers.ListSerializer | serializers.ListField):
            if isinstance(field.child, serializers.Serializer):
                found += _limited_fields(field.child, f"{path}.0.")
        elif isinstance(field, serializers.Serializer):
            found += _limited_fields(field, f"{path}.")
        elif isinstance(field, serializers.CharField) and field.max_length and not field.read_only:
            found.append((path, field.max_length))
    return found


def _with(body: dict[str, Any], path: str, value: str) -> dict[str, Any]:
    target: Any = body
    *parents, last = path.split(".")
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target.setdefault(key, {})
    target[last] = value
    return body


def _length_errors(validate: Any, body: dict[str, Any], path: str) -> list[str]:
    try:
        validate(body)
    except Invalid as exc:
        return [message for message in exc.errors.get(path, []) if "characters" in message]
    return []


def _profile() -> dict[str, Any]:
    return profile_payload(
        emergency_contact={"name": "Sione", "phone": "+6421555000", "relation": "brother"},
        disclosure={"tell": "relatives", "relatives": [{"name": "Sione", "phone": "+6421555000"}]},
    )


def _companion() -> dict[str, Any]:
    return companion_payload(disclosure={"tell": "relatives", "relatives": [{"name": "Sione", "phone": "+6421555000"}]})


def _trip() -> dict[str, Any]:
    return trip_payload(stays=[{"country": "FJ", "start_date": "2026-11-01", "end_date": "2026-11-10"}])


PROFILE_LIMITS = _limited_fields(ProfileInput())
TRIP_LIMITS = _limited_fields(TripInput())
COMPANION_LIMITS = _limited_fields(CompanionInput())
RESIDENCE_LIMITS = _limited_fields(ResidenceInput())


def test_the_schema_announces_limits_for_the_free_text_fields():
    limited = {path for path, _ in PROFILE_LIMITS + TRIP_LIMITS}
    assert {
        "given_name",
        "family_name",
        "emergency_contact.name",
        "title",
        "stays.0.city",
        "stays.0.address",
    } <= limited


@pytest.mark.parametrize(("path", "limit"), PROFILE_LIMITS, ids=[path for path, _ in PROFILE_LIMITS])
def test_a_profile_field_at_its_announced_limit_passes_the_length_rule_and_one_more_fails(path, limit):
    assert _length_errors(validate_profile, _with(_profile(), path, "a" * limit), path) == []
    assert _length_errors(validate_profile, _with(_profile(), path, "a" * (limit + 1)), path) != []


@pytest.mark.parametrize(("path", "limit"), TRIP_LIMITS, ids=[path for path, _ in TRIP_LIMITS])
def test_a_trip_field_at_its_announced_limit_passes_the_length_rule_and_one_more_fails(path, limit):
    assert _length_errors(validate_trip, _with(_trip(), path, "a" * limit), path) == []
    assert _length_errors(validate_trip, _with(_trip(), path, "a" * (limit + 1)), path) != []


@pytest.mark.parametrize(("path", "limit"), COMPANION_LIMITS, ids=[path for path, _ in COMPANION_LIMITS])
def test_a_companion_field_at_its_announced_limit_passes_the_length_rule_and_one_more_fails(path, limit):
    assert _length_errors(validate_companion, _with(_companion(), path, "a" * limit), path) == []
    assert _length_errors(validate_companion, _with(_companion(), path, "a" * (limit + 1)), path) != []


@pytest.mark.parametrize(("path", "limit"), RESIDENCE_LIMITS, ids=[path for path, _ in RESIDENCE_LIMITS])
def test_a_residence_field_at_its_announced_limit_passes_the_length_rule_and_one_more_fails(path, limit):
    assert _length_errors(validate_residence, _with(residence_payload(), path, "a" * limit), path) == []
    assert _length_errors(validate_residence, _with(residence_payload(), path, "a" * (limit + 1)), path) != []
