"""The register's input rules, as plain functions.

One implementation serves the API and the bulk importer, and it is fast enough
for the importer's target (tens of thousands of travellers a second): DRF
serializers describe the shapes for the OpenAPI schema, these functions decide.

Each function takes parsed JSON and returns clean values or raises
:class:`Invalid` carrying every problem found, keyed by field path
(``trips.0.stays.1.end_date``), so a client can point at the field.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from consular.validation import (
    EARLIEST_DATE,
    LATEST_DATE,
    Errors,
    check_unknown_keys,
    clean_bool,
    clean_coordinate,
    clean_date,
    clean_email,
    clean_object,
    clean_text,
    join_path,
    normalise_country,
    normalise_language,
    normalise_passport,
    normalise_phone,
)
from registrations import gazetteer
from registrations.models import Precision

MAX_STAYS_PER_TRIP = 50
# Companions one registration may list: a school group with its teachers.
MAX_COMPANIONS = 50
MAX_RELATIVES = 5  # named in a disclosure choice
# Longest text accepted per field (as sent, white space included); the API's schema shows the same
# numbers (api/registrations/serializers.py, checked by tests/api/test_field_limits.py).
NAME_MAX_LENGTH = 100
RELATION_MAX_LENGTH = 50
CITY_MAX_LENGTH = 100
ADDRESS_MAX_LENGTH = 300
TITLE_MAX_LENGTH = 200
MAX_TRIP_YEARS = 2
EARLIEST_TRAVEL_DATE = EARLIEST_DATE  # trips and stays: consular.validation's window
LATEST_TRAVEL_DATE = LATEST_DATE


def _travel_date(value: Any, path: str, errors: Errors) -> date | None:
    day = clean_date(value, path, errors)
    if day is not None and not EARLIEST_TRAVEL_DATE <= day <= LATEST_TRAVEL_DATE:
        errors.add(path, f"Expected a date between {EARLIEST_TRAVEL_DATE} and {LATEST_TRAVEL_DATE}.")
        return None
    return day


PROFILE_FIELDS = frozenset(
    {
        "given_name",
        "family_name",
        "date_of_birth",
        "nationality",
        "passport_number",
        "phone",
        "email",
        "language",
        "emergency_contact",
        "consent",
        "disclosure",
    }
)
REQUIRED_PROFILE_FIELDS = frozenset(
    {"given_name", "family_name", "date_of_birth", "nationality", "language", "consent"}
)
CONTACT_FIELDS = frozenset({"name", "phone", "relation"})
CONSENT_FIELDS = frozenset({"contact", "share_with_partners"})
DISCLOSURE_FIELDS = frozenset({"tell", "relatives"})
TELL_CHOICES = ("emergency_contact", "relatives", "nobody")


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def _date_of_birth(value: Any, path: str, errors: Errors, today: date) -> date | None:
    born = clean_date(value, path, errors)
    if born is not None and not (date(1900, 1, 1) <= born <= today):
        errors.add(path, "Expected a date between 1900-01-01 and today.")
        return None
    return born


def _disclosure(value: Any, path: str, errors: Errors) -> dict[str, Any] | None:
    """Whom the ministry may tell about this person in a crisis; None is the default (the emergency contact)."""
    if value is None:
        return None
    obj = clean_object(value, path, errors)
    if obj is None:
        return None
    check_unknown_keys(obj, DISCLOSURE_FIELDS, path, errors)
    tell = obj.get("tell")
    if tell not in TELL_CHOICES:
        errors.add(join_path(path, "tell"), f"One of {', '.join(TELL_CHOICES)}.")
        return None
    raw = obj.get("relatives", [])
    relatives_path = join_path(path, "relatives")
    if not isinstance(raw, list):
        errors.add(relatives_path, "Expected a list.")
        return None
    if tell == "relatives" and not raw:
        errors.add(relatives_path, "Name at least one relative, or choose another answer.")
    if tell != "relatives" and raw:
        errors.add(relatives_path, "Relatives are named only when the answer is relatives.")
    if len(raw) > MAX_RELATIVES:
        errors.add(relatives_path, f"At most {MAX_RELATIVES} relatives.")
        return None
    relatives = [_person_to_tell(item, f"{relatives_path}.{index}", errors) for index, item in enumerate(raw)]
    return {"tell": tell, "relatives": [relative for relative in relatives if relative is not None]}


def _person_to_tell(value: Any, path: str, errors: Errors) -> dict[str, str | None] | None:
    obj = clean_object(value, path, errors)
    if obj is None:
        return None
    check_unknown_keys(obj, CONTACT_FIELDS, path, errors)
    return {
        "name": clean_text(obj.get("name"), join_path(path, "name"), errors, max_length=NAME_MAX_LENGTH, required=True),
        "phone": normalise_phone(obj.get("phone"), join_path(path, "phone"), errors, required=True),
        "relation": clean_text(
            obj.get("relation"), join_path(path, "relation"), errors, max_length=RELATION_MAX_LENGTH, required=False
        ),
    }


def validate_profile(
    data: Any, *, partial: bool = False, today: date | None = None, prefix: str = ""
) -> dict[str, Any]:
    """Clean profile values; with ``partial`` only the fields present are checked and returned."""
    errors = Errors()
    obj = clean_object(data, prefix, errors)
    if obj is None:
        raise errors.invalid()
    check_unknown_keys(obj, PROFILE_FIELDS, prefix, errors)
    today = today or date.today()
    clean: dict[str, Any] = {}

    def wanted(name: str) -> bool:
        return name in obj or not partial

    def required(name: str) -> bool:
        return name in REQUIRED_PROFILE_FIELDS

    for name in ("given_name", "family_name"):
        if wanted(name):
            clean[name] = clean_text(
                obj.get(name), join_path(prefix, name), errors, max_length=NAME_MAX_LENGTH, required=required(name)
            )
    if wanted("date_of_birth"):
        clean["date_of_birth"] = _date_of_birth(
            obj.get("date_of_birth"), join_path(prefix, "date_of_birth"), errors, today
        )
    if wanted("nationality"):
        clean["nationality"] = normalise_country(obj.get("nationality"), join_path(prefix, "nationality"), errors)
    if wanted("passport_number"):
        clean["passport_number"] = normalise_passport(
            obj.get("passport_number"), join_path(prefix, "passport_number"), errors
        )
    if wanted("phone"):
        clean["phone"] = normalise_phone(obj.get("phone"), join_path(prefix, "phone"), errors, required=False)
    if wanted("email"):
        clean["email"] = clean_email(obj.get("email"), join_path(prefix, "email"), errors)
    if wanted("language"):
        clean["language"] = normalise_language(
            obj.get("language"), join_path(prefix, "language"), errors, required=True
        )
    if wanted("emergency_contact"):
        clean["emergency_contact"] = _emergency_contact(
            obj.get("emergency_contact"), join_path(prefix, "emergency_contact"), errors
        )
    if wanted("consent"):
        clean["consent"] = _consent(obj.get("consent"), join_path(prefix, "consent"), errors)
    if wanted("disclosure"):
        clean["disclosure"] = _disclosure(obj.get("disclosure"), join_path(prefix, "disclosure"), errors)
    errors.raise_if_any()
    return clean


# --- Companions -------------------------------------------------------------------

COMPANION_FIELDS = frozenset(
    {
        "id",  # read-only, ignored: a companion read back may be sent again
        "given_name",
        "family_name",
        "date_of_birth",
        "nationality",
        "relation",
        "passport_number",
        "phone",
        "email",
        "language",
        "contact_directly",
        "disclosure",
    }
)


def validate_companion(data: Any, *, today: date | None = None, prefix: str = "") -> dict[str, Any]:
    """A companion, whole (a PATCH is merged first): the profile's rules, a relation, and whether to contact them.

    ``nationality`` may be any country's: family members who are not citizens travel too.
    """
    errors = Errors()
    obj = clean_object(data, prefix, errors)
    if obj is None:
        raise errors.invalid()
    check_unknown_keys(obj, COMPANION_FIELDS, prefix, errors)
    today = today or date.today()
    clean: dict[str, Any] = {}
    for name in ("given_name", "family_name"):
        clean[name] = clean_text(
            obj.get(name), join_path(prefix, name), errors, max_length=NAME_MAX_LENGTH, required=True
        )
    clean["date_of_birth"] = _date_of_birth(obj.get("date_of_birth"), join_path(prefix, "date_of_birth"), errors, today)
    clean["nationality"] = normalise_country(obj.get("nationality"), join_path(prefix, "nationality"), errors)
    clean["relation"] = clean_text(
        obj.get("relation"), join_path(prefix, "relation"), errors, max_length=RELATION_MAX_LENGTH, required=True
    )
    clean["passport_number"] = normalise_passport(
        obj.get("passport_number"), join_path(prefix, "passport_number"), errors
    )
    clean["phone"] = normalise_phone(obj.get("phone"), join_path(prefix, "phone"), errors, required=False)
    clean["email"] = clean_email(obj.get("email"), join_path(prefix, "email"), errors)
    clean["language"] = normalise_language(obj.get("language"), join_path(prefix, "language"), errors, required=False)
    contact_directly = obj.get("contact_directly", False)
    clean["contact_directly"] = clean_bool(contact_directly, join_path(prefix, "contact_directly"), errors)
    if clean["contact_directly"] and not (obj.get("phone") or obj.get("email")):
        errors.add(join_path(prefix, "contact_directly"), "Give their phone or email to have them contacted.")
    clean["disclosure"] = _disclosure(obj.get("disclosure"), join_path(prefix, "disclosure"), errors)
    errors.raise_if_any()
    return clean


def _companion_ids(value: Any, path: str, errors: Errors) -> list[uuid.UUID]:
    """The ids of the companions named (on a trip, a residence), in order: each once, at most MAX_COMPANIONS."""
    if not isinstance(value, list):
        errors.add(path, "Expected a list of companion ids.")
        return []
    if len(value) > MAX_COMPANIONS:
        errors.add(path, f"At most {MAX_COMPANIONS} companions.")
        return []
    ids: list[uuid.UUID] = []
    for index, item in enumerate(value):
        try:
            companion_id = uuid.UUID(item) if isinstance(item, str) else None
        except ValueError:
            companion_id = None
        if companion_id is None:
            errors.add(f"{path}.{index}", "Expected a companion id.")
            continue
        if companion_id in ids:
            errors.add(f"{path}.{index}", "Named twice.")
        ids.append(companion_id)
    return ids


def _emergency_contact(value: Any, path: str, errors: Errors) -> dict[str, str | None] | None:
    if value is None:
        return None
    obj = clean_object(value, path, errors)
    if obj is None:
        return None
    check_unknown_keys(obj, CONTACT_FIELDS, path, errors)
    contact = {
        "name": clean_text(obj.get("name"), join_path(path, "name"), errors, max_length=NAME_MAX_LENGTH, required=True),
        "phone": normalise_phone(obj.get("phone"), join_path(path, "phone"), errors, required=True),
        "relation": clean_text(
            obj.get("relation"), join_path(path, "relation"), errors, max_length=RELATION_MAX_LENGTH, required=False
        ),
    }
    return contact


def _consent(value: Any, path: str, errors: Errors) -> dict[str, bool | None] | None:
    obj = clean_object(value, path, errors)
    if obj is None:
        return None
    check_unknown_keys(obj, CONSENT_FIELDS, path, errors)
    consent: dict[str, bool | None] = {}
    for name in ("contact", "share_with_partners"):
        if name not in obj:
            errors.add(join_path(path, name), "This field is required.")
        else:
            consent[name] = clean_bool(obj[name], join_path(path, name), errors)
    return consent


# --- Trips and stays --------------------------------------------------------------

TRIP_FIELDS = frozenset({"id", "title", "start_date", "end_date", "stays", "companions"})  # "id" is read-only
STAY_FIELDS = frozenset({"id", "country", "city", "location", "address", "start_date", "end_date", "precision"})
LOCATION_FIELDS = frozenset({"lat", "lon"})


@dataclass(frozen=True)
class CleanStay:
    country: str
    city: str | None
    address: str | None
    latitude: float | None
    longitude: float | None
    precision: str
    start_date: date
    end_date: date


@dataclass(frozen=True)
class CleanTrip:
    title: str | None
    start_date: date
    end_date: date
    stays: list[CleanStay]
    warnings: list[str]
    companions: list[uuid.UUID] = field(default_factory=list)  # ids, whose owner the service checks


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _location(value: Any, path: str, errors: Errors) -> tuple[float, float] | None:
    if value is None:
        return None
    obj = clean_object(value, path, errors)
    if obj is None:
        return None
    check_unknown_keys(obj, LOCATION_FIELDS, path, errors)
    lat = clean_coordinate(obj.get("lat"), join_path(path, "lat"), errors, limit=90)
    lon = clean_coordinate(obj.get("lon"), join_path(path, "lon"), errors, limit=180)
    if lat is None or lon is None:
        return None
    return lat, lon


@dataclass(frozen=True)
class CleanPlace:
    """Where a stay or a residence is: the point given, else its city's from the gazetteer, else the country."""

    country: str
    city: str | None
    address: str | None
    latitude: float | None
    longitude: float | None
    precision: str


def _place(obj: dict, path: str, errors: Errors, warnings: list[str], *, label: str = "") -> CleanPlace | None:
    """``label`` names the place in warnings (``path`` by default, which is empty for a residence)."""
    label = label or path
    country = normalise_country(obj.get("country"), join_path(path, "country"), errors)
    city = clean_text(obj.get("city"), join_path(path, "city"), errors, max_length=CITY_MAX_LENGTH, required=False)
    address = clean_text(
        obj.get("address"), join_path(path, "address"), errors, max_length=ADDRESS_MAX_LENGTH, required=False
    )
    location = _location(obj.get("location"), join_path(path, "location"), errors)
    precision = obj.get("precision")
    if precision is not None and precision not in Precision.values:
        # Read-only, but a client may send a stay back as it read it: only a value
        # the API itself shows is accepted.
        errors.add(join_path(path, "precision"), "Expected point, city or country.")
    elif precision in (Precision.CITY, Precision.COUNTRY):
        # A stay read back and sent again: its location was derived, not given,
        # so it is derived again from the city instead of becoming a "point".
        location = None
    if country is None:
        return None
    if location is not None:
        return CleanPlace(country, city, address, location[0], location[1], Precision.POINT)
    if city is not None:
        place = gazetteer.find_city(country, city)
        if isinstance(place, gazetteer.Place):
            return CleanPlace(country, city, address, place.latitude, place.longitude, Precision.CITY)
        if place == gazetteer.AMBIGUOUS:
            warnings.append(
                f"{label}: city matches several places in this country; recorded at country precision."
                " Send a location to place the stay exactly."
            )
        else:
            warnings.append(f"{label}: city not found in the gazetteer; recorded at country precision.")
    return CleanPlace(country, city, address, None, None, Precision.COUNTRY)


def _stay(value: Any, path: str, trip_start: date | None, trip_end: date | None, errors: Errors, warnings: list[str]):
    obj = clean_object(value, path, errors)
    if obj is None:
        return None
    check_unknown_keys(obj, STAY_FIELDS, path, errors)
    start = _travel_date(obj.get("start_date"), join_path(path, "start_date"), errors)
    end = _travel_date(obj.get("end_date"), join_path(path, "end_date"), errors)
    if start and end and end < start:
        errors.add(join_path(path, "end_date"), "The stay ends before it starts.")
    if trip_start and trip_end and start and end and (start < trip_start or end > trip_end):
        errors.add(path, "A stay must lie within its trip's dates.")
    place = _place(obj, path, errors, warnings)
    if place is None or start is None or end is None:
        return None
    return CleanStay(
        place.country, place.city, place.address, place.latitude, place.longitude, place.precision, start, end
    )


def validate_trip(data: Any, *, prefix: str = "") -> CleanTrip:
    errors = Errors()
    obj = clean_object(data, prefix, errors)
    if obj is None:
        raise errors.invalid()
    check_unknown_keys(obj, TRIP_FIELDS, prefix, errors)
    title = clean_text(
        obj.get("title"), join_path(prefix, "title"), errors, max_length=TITLE_MAX_LENGTH, required=False
    )
    start = _travel_date(obj.get("start_date"), join_path(prefix, "start_date"), errors)
    end = _travel_date(obj.get("end_date"), join_path(prefix, "end_date"), errors)
    if start and end:
        if end < start:
            errors.add(join_path(prefix, "end_date"), "The trip ends before it starts.")
        elif end > _add_years(start, MAX_TRIP_YEARS):
            errors.add(join_path(prefix, "end_date"), f"A trip lasts at most {MAX_TRIP_YEARS} years.")
    raw_stays = obj.get("stays", [])
    stays: list[CleanStay] = []
    warnings: list[str] = []
    stays_path = join_path(prefix, "stays")
    if not isinstance(raw_stays, list):
        errors.add(stays_path, "Expected a list.")
    elif len(raw_stays) > MAX_STAYS_PER_TRIP:
        errors.add(stays_path, f"At most {MAX_STAYS_PER_TRIP} stays per trip.")
    else:
        for index, raw in enumerate(raw_stays):
            stay = _stay(raw, f"{stays_path}.{index}", start, end, errors, warnings)
            if stay is not None:
                stays.append(stay)
    companions = _companion_ids(obj.get("companions", []), join_path(prefix, "companions"), errors)
    if errors.items or start is None or end is None:  # a missing date is among the errors
        raise errors.invalid()
    return CleanTrip(title, start, end, stays, warnings, companions)


# --- Residences -------------------------------------------------------------------

RESIDENCE_FIELDS = frozenset(
    {
        "id", "country", "city", "location", "address", "precision", "since", "until", "companions",
        "confirmed_at", "confirm_by", "unconfirmed",  # read-only, ignored: a residence read back may be sent again
    }
)  # fmt: skip


@dataclass(frozen=True)
class CleanResidence:
    place: CleanPlace
    since: date
    until: date | None
    companions: list[uuid.UUID]
    warnings: list[str]


def validate_residence(data: Any, *, prefix: str = "") -> CleanResidence:
    """A residence abroad: a place by the stay's rules, since when, until when (open-ended if absent)."""
    errors = Errors()
    obj = clean_object(data, prefix, errors)
    if obj is None:
        raise errors.invalid()
    check_unknown_keys(obj, RESIDENCE_FIELDS, prefix, errors)
    since = _travel_date(obj.get("since"), join_path(prefix, "since"), errors)
    until = None
    if obj.get("until") is not None:
        until = _travel_date(obj.get("until"), join_path(prefix, "until"), errors)
        if since and until and until < since:
            errors.add(join_path(prefix, "until"), "The residence ends before it begins.")
    warnings: list[str] = []
    place = _place(obj, prefix, errors, warnings, label=prefix or "residence")
    companions = _companion_ids(obj.get("companions", []), join_path(prefix, "companions"), errors)
    if errors.items or place is None or since is None:  # each None is among the errors
        raise errors.invalid()
    return CleanResidence(place, since, until, companions, warnings)
