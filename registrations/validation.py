"""The register's input rules, as plain functions.

One implementation serves the API and the bulk importer, and it is fast enough
for the importer's target (tens of thousands of travellers a second): DRF
serializers describe the shapes for the OpenAPI schema, these functions decide.

Each function takes parsed JSON and returns clean values or raises
:class:`Invalid` carrying every problem found, keyed by field path
(``trips.0.stays.1.end_date``), so a client can point at the field.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

import langcodes
import phonenumbers
import pycountry
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from consular.crypto import normalise_email
from registrations import gazetteer
from registrations.models import Precision

MAX_STAYS_PER_TRIP = 50
MAX_TRIP_YEARS = 2
# Trips and stays are dated within this window: wide enough for any real journey
# and a legacy register's history, narrow enough that date arithmetic (a trip's
# two-year limit, retention) can never run past Python's year 9999.
EARLIEST_TRAVEL_DATE = date(1970, 1, 1)
LATEST_TRAVEL_DATE = date(2100, 12, 31)
_PASSPORT = re.compile(r"^[A-Z0-9]{5,20}$")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
# date.fromisoformat also reads week dates ("2026-W45-1") and, in 10 characters,
# "20261101  ": only the one form the API documents is a date here.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
UNKNOWN_FIELD = "Unknown field."


class Invalid(Exception):
    def __init__(self, errors: dict[str, list[str]], unknown_fields: dict[str, str] | None = None) -> None:
        super().__init__("Invalid input.")
        self.errors = errors
        # Path of each unknown field's error -> the path of the object it was found in. The
        # API shows the field's name to the client who sent it; the import's report must
        # not (a name taken from the file can be a person's data), and the key may itself
        # hold dots, so its object cannot be read back from the path.
        self.unknown_fields = unknown_fields or {}


@dataclass
class Errors:
    items: dict[str, list[str]] = field(default_factory=dict)
    unknown_fields: dict[str, str] = field(default_factory=dict)

    def add(self, path: str, message: str) -> None:
        self.items.setdefault(path, []).append(message)

    def raise_if_any(self) -> None:
        if self.items:
            raise Invalid(self.items, self.unknown_fields)


@lru_cache(maxsize=1)
def country_codes() -> frozenset[str]:
    return frozenset(country.alpha_2 for country in pycountry.countries)


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _unknown_keys(data: dict, allowed: frozenset[str], prefix: str, errors: Errors) -> None:
    for key in data:
        if key not in allowed:
            path = _join(prefix, str(key))
            errors.add(path, UNKNOWN_FIELD)
            errors.unknown_fields[path] = prefix


def _object(value: Any, path: str, errors: Errors) -> dict | None:
    if not isinstance(value, dict):
        errors.add(path or "non_field_errors", "Expected a JSON object.")
        return None
    return value


def _text(value: Any, path: str, errors: Errors, *, max_length: int, required: bool, min_length: int = 1) -> str | None:
    if value is None:
        if required:
            errors.add(path, "This field is required.")
        return None
    if not isinstance(value, str):
        errors.add(path, "Expected a string.")
        return None
    value = value.strip()
    if not value:
        if required:
            errors.add(path, "This field may not be blank.")
        return None
    if len(value) < min_length or len(value) > max_length:
        errors.add(path, f"Expected {min_length} to {max_length} characters.")
        return None
    if _CONTROL_CHARACTERS.search(value):
        errors.add(path, "Control characters are not allowed.")
        return None
    return value


def _date(value: Any, path: str, errors: Errors, *, required: bool = True) -> date | None:
    if value is None:
        if required:
            errors.add(path, "This field is required.")
        return None
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        errors.add(path, "Expected a date as YYYY-MM-DD.")
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.add(path, "Expected a valid date as YYYY-MM-DD.")
        return None


def _travel_date(value: Any, path: str, errors: Errors) -> date | None:
    day = _date(value, path, errors)
    if day is not None and not EARLIEST_TRAVEL_DATE <= day <= LATEST_TRAVEL_DATE:
        errors.add(path, f"Expected a date between {EARLIEST_TRAVEL_DATE} and {LATEST_TRAVEL_DATE}.")
        return None
    return day


def _bool(value: Any, path: str, errors: Errors) -> bool | None:
    if not isinstance(value, bool):
        errors.add(path, "Expected true or false.")
        return None
    return value


# Keep every compiled metadata pattern: the re module's own cache (512 entries) is
# smaller than the library's working set, so it recompiled patterns on every number.
phonenumbers.enable_pattern_cache()
_PLAIN_E164 = re.compile(r"\+([1-9][0-9]{2,16})")


@lru_cache(maxsize=256)  # one entry per country code
def _national_prefix_pattern(country_code: int) -> re.Pattern | None:
    region = phonenumbers.region_code_for_country_code(country_code)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    pattern = metadata.national_prefix_for_parsing if metadata is not None else None
    return re.compile(pattern) if pattern else None


def _parse_plain_e164(text: str) -> phonenumbers.PhoneNumber | None:
    """What ``phonenumbers.parse`` returns for the common case, without its general machinery.

    Only for ``+`` and ASCII digits whose national part neither starts with 0 nor
    with the country's national prefix: for those, parsing is only splitting off the
    country code (the library's own table, shortest match first). Anything else
    returns None and goes through the library's parser; validity is always the
    library's. The import spends a third of its validation time in ``parse``.
    """
    match = _PLAIN_E164.fullmatch(text)
    if match is None:
        return None
    digits = match.group(1)
    for size in (1, 2, 3):
        country_code = int(digits[:size])
        if country_code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return None
    national = digits[size:]
    if not 2 <= len(national) <= 17 or national[0] == "0":
        return None
    prefix = _national_prefix_pattern(country_code)
    if prefix is not None and prefix.match(national):
        return None
    return phonenumbers.PhoneNumber(country_code=country_code, national_number=int(national))


def normalise_phone(value: Any, path: str, errors: Errors, *, required: bool) -> str | None:
    text = _text(value, path, errors, max_length=32, required=required)
    if text is None:
        return None
    if not text.startswith("+"):
        errors.add(path, "Expected an international number starting with + (E.164).")
        return None
    number = _parse_plain_e164(text)
    if number is None:
        try:
            number = phonenumbers.parse(text, None)
        except phonenumbers.NumberParseException:
            errors.add(path, "Not a phone number.")
            return None
    if not phonenumbers.is_valid_number(number):
        errors.add(path, "Not a valid phone number for its country code.")
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_country(value: Any, path: str, errors: Errors, *, required: bool = True) -> str | None:
    text = _text(value, path, errors, max_length=2, required=required, min_length=2)
    if text is None:
        return None
    code = text.upper()
    if code not in country_codes():
        errors.add(path, "Not an ISO 3166-1 alpha-2 country code.")
        return None
    return code


MAX_LANGUAGE_TAG_LENGTH = 35  # the columns that store a tag


@lru_cache(maxsize=4096)
def _language_tag(text: str) -> str | None:
    if not langcodes.tag_is_valid(text):
        return None
    return langcodes.standardize_tag(text)


def normalise_language(value: Any, path: str, errors: Errors, *, required: bool) -> str | None:
    text = _text(value, path, errors, max_length=MAX_LANGUAGE_TAG_LENGTH, required=required)
    if text is None:
        return None
    tag = _language_tag(text)
    if tag is None:
        errors.add(path, "Not a valid BCP 47 language tag.")
    elif len(tag) > MAX_LANGUAGE_TAG_LENGTH:
        # Standardising can lengthen a tag (sh → sr-Latn): the stored form is what must fit.
        errors.add(path, f"Expected at most {MAX_LANGUAGE_TAG_LENGTH} characters once standardised.")
        return None
    return tag


def normalise_passport(value: Any, path: str, errors: Errors) -> str | None:
    text = _text(value, path, errors, max_length=40, required=False)
    if text is None:
        return None
    compact = re.sub(r"[\s-]", "", text).upper()
    if not _PASSPORT.match(compact):
        errors.add(path, "Expected 5 to 20 letters and digits.")
        return None
    return compact


def _email(value: Any, path: str, errors: Errors) -> str | None:
    text = _text(value, path, errors, max_length=254, required=False)
    if text is None:
        return None
    text = normalise_email(text)
    try:
        validate_email(text)
    except ValidationError:
        errors.add(path, "Enter a valid email address.")
        return None
    return text


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
    }
)
REQUIRED_PROFILE_FIELDS = frozenset(
    {"given_name", "family_name", "date_of_birth", "nationality", "language", "consent"}
)
CONTACT_FIELDS = frozenset({"name", "phone", "relation"})
CONSENT_FIELDS = frozenset({"contact", "share_with_partners"})


def validate_profile(
    data: Any, *, partial: bool = False, today: date | None = None, prefix: str = ""
) -> dict[str, Any]:
    """Clean profile values; with ``partial`` only the fields present are checked and returned."""
    errors = Errors()
    obj = _object(data, prefix, errors)
    if obj is None:
        errors.raise_if_any()
    _unknown_keys(obj, PROFILE_FIELDS, prefix, errors)
    today = today or date.today()
    clean: dict[str, Any] = {}

    def wanted(name: str) -> bool:
        return name in obj or not partial

    def required(name: str) -> bool:
        return name in REQUIRED_PROFILE_FIELDS

    for name in ("given_name", "family_name"):
        if wanted(name):
            clean[name] = _text(obj.get(name), _join(prefix, name), errors, max_length=100, required=required(name))
    if wanted("date_of_birth"):
        path = _join(prefix, "date_of_birth")
        born = _date(obj.get("date_of_birth"), path, errors)
        if born is not None and not (date(1900, 1, 1) <= born <= today):
            errors.add(path, "Expected a date between 1900-01-01 and today.")
        clean["date_of_birth"] = born
    if wanted("nationality"):
        clean["nationality"] = normalise_country(obj.get("nationality"), _join(prefix, "nationality"), errors)
    if wanted("passport_number"):
        clean["passport_number"] = normalise_passport(
            obj.get("passport_number"), _join(prefix, "passport_number"), errors
        )
    if wanted("phone"):
        clean["phone"] = normalise_phone(obj.get("phone"), _join(prefix, "phone"), errors, required=False)
    if wanted("email"):
        clean["email"] = _email(obj.get("email"), _join(prefix, "email"), errors)
    if wanted("language"):
        clean["language"] = normalise_language(obj.get("language"), _join(prefix, "language"), errors, required=True)
    if wanted("emergency_contact"):
        clean["emergency_contact"] = _emergency_contact(
            obj.get("emergency_contact"), _join(prefix, "emergency_contact"), errors
        )
    if wanted("consent"):
        clean["consent"] = _consent(obj.get("consent"), _join(prefix, "consent"), errors)
    errors.raise_if_any()
    return clean


def _emergency_contact(value: Any, path: str, errors: Errors) -> dict[str, str] | None:
    if value is None:
        return None
    obj = _object(value, path, errors)
    if obj is None:
        return None
    _unknown_keys(obj, CONTACT_FIELDS, path, errors)
    contact = {
        "name": _text(obj.get("name"), _join(path, "name"), errors, max_length=100, required=True),
        "phone": normalise_phone(obj.get("phone"), _join(path, "phone"), errors, required=True),
        "relation": _text(obj.get("relation"), _join(path, "relation"), errors, max_length=50, required=False),
    }
    return contact


def _consent(value: Any, path: str, errors: Errors) -> dict[str, bool] | None:
    obj = _object(value, path, errors)
    if obj is None:
        return None
    _unknown_keys(obj, CONSENT_FIELDS, path, errors)
    consent = {}
    for name in ("contact", "share_with_partners"):
        if name not in obj:
            errors.add(_join(path, name), "This field is required.")
        else:
            consent[name] = _bool(obj[name], _join(path, name), errors)
    return consent


# --- Trips and stays --------------------------------------------------------------

TRIP_FIELDS = frozenset({"id", "title", "start_date", "end_date", "stays"})  # "id" is read-only, ignored
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


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _coordinate(value: Any, path: str, errors: Errors, *, limit: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        errors.add(path, "Expected a number.")
        return None
    number = float(value)
    if not math.isfinite(number) or not -limit <= number <= limit:
        errors.add(path, f"Expected a number between {-limit:g} and {limit:g}.")
        return None
    return number


def _location(value: Any, path: str, errors: Errors) -> tuple[float, float] | None:
    if value is None:
        return None
    obj = _object(value, path, errors)
    if obj is None:
        return None
    _unknown_keys(obj, LOCATION_FIELDS, path, errors)
    lat = _coordinate(obj.get("lat"), _join(path, "lat"), errors, limit=90)
    lon = _coordinate(obj.get("lon"), _join(path, "lon"), errors, limit=180)
    if lat is None or lon is None:
        return None
    return lat, lon


def _stay(value: Any, path: str, trip_start: date | None, trip_end: date | None, errors: Errors, warnings: list[str]):
    obj = _object(value, path, errors)
    if obj is None:
        return None
    _unknown_keys(obj, STAY_FIELDS, path, errors)
    country = normalise_country(obj.get("country"), _join(path, "country"), errors)
    city = _text(obj.get("city"), _join(path, "city"), errors, max_length=100, required=False)
    address = _text(obj.get("address"), _join(path, "address"), errors, max_length=300, required=False)
    location = _location(obj.get("location"), _join(path, "location"), errors)
    precision = obj.get("precision")
    if precision is not None and precision not in Precision.values:
        # Read-only, but a client may send a stay back as it read it: only a value
        # the API itself shows is accepted.
        errors.add(_join(path, "precision"), "Expected point, city or country.")
    elif precision in (Precision.CITY, Precision.COUNTRY):
        # A stay read back and sent again: its location was derived, not given,
        # so it is derived again from the city instead of becoming a "point".
        location = None
    start = _travel_date(obj.get("start_date"), _join(path, "start_date"), errors)
    end = _travel_date(obj.get("end_date"), _join(path, "end_date"), errors)
    if start and end and end < start:
        errors.add(_join(path, "end_date"), "The stay ends before it starts.")
    if trip_start and trip_end and start and end and (start < trip_start or end > trip_end):
        errors.add(path, "A stay must lie within its trip's dates.")
    if country is None or start is None or end is None:
        return None
    if location is not None:
        return CleanStay(country, city, address, location[0], location[1], Precision.POINT, start, end)
    if city is not None:
        place = gazetteer.find_city(country, city)
        if isinstance(place, gazetteer.Place):
            return CleanStay(country, city, address, place.latitude, place.longitude, Precision.CITY, start, end)
        if place == gazetteer.AMBIGUOUS:
            warnings.append(
                f"{path}: city matches several places in this country; recorded at country precision."
                " Send a location to place the stay exactly."
            )
        else:
            warnings.append(f"{path}: city not found in the gazetteer; recorded at country precision.")
    return CleanStay(country, city, address, None, None, Precision.COUNTRY, start, end)


def validate_trip(data: Any, *, prefix: str = "") -> CleanTrip:
    errors = Errors()
    obj = _object(data, prefix, errors)
    if obj is None:
        errors.raise_if_any()
    _unknown_keys(obj, TRIP_FIELDS, prefix, errors)
    title = _text(obj.get("title"), _join(prefix, "title"), errors, max_length=200, required=False)
    start = _travel_date(obj.get("start_date"), _join(prefix, "start_date"), errors)
    end = _travel_date(obj.get("end_date"), _join(prefix, "end_date"), errors)
    if start and end:
        if end < start:
            errors.add(_join(prefix, "end_date"), "The trip ends before it starts.")
        elif end > _add_years(start, MAX_TRIP_YEARS):
            errors.add(_join(prefix, "end_date"), f"A trip lasts at most {MAX_TRIP_YEARS} years.")
    raw_stays = obj.get("stays", [])
    stays: list[CleanStay] = []
    warnings: list[str] = []
    stays_path = _join(prefix, "stays")
    if not isinstance(raw_stays, list):
        errors.add(stays_path, "Expected a list.")
    elif len(raw_stays) > MAX_STAYS_PER_TRIP:
        errors.add(stays_path, f"At most {MAX_STAYS_PER_TRIP} stays per trip.")
    else:
        for index, raw in enumerate(raw_stays):
            stay = _stay(raw, f"{stays_path}.{index}", start, end, errors, warnings)
            if stay is not None:
                stays.append(stay)
    errors.raise_if_any()
    return CleanTrip(title, start, end, stays, warnings)
