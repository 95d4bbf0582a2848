"""Input rules shared by every app, as plain functions: text, dates, booleans, objects,
phone numbers, country codes, language tags, passport numbers, email addresses, coordinates.

Each takes a parsed JSON value and the path of the field (``trips.0.stays.1.end_date``),
returns the clean value or records the problem in an :class:`Errors` and returns None,
so one pass reports every problem of a body. :class:`Invalid` carries them to the
caller; the API maps it to a 400 naming each field. The apps' own rules (a profile, a
trip, a campaign's messages) are built from these.
"""

from __future__ import annotations

import calendar
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any, TypeVar

import langcodes
import phonenumbers
import pycountry
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from consular.crypto import normalise_email
from consular.errors import DomainError

_PASSPORT = re.compile(r"^[A-Z0-9]{5,20}$")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
# date.fromisoformat also reads week dates ("2026-W45-1") and, in 10 characters,
# "20261101  ": only the one form the API documents is a date here.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
UNKNOWN_FIELD = "Unknown field."
# Dates of events (trips, stays, crises) lie in this window: wide enough for any real
# journey and a legacy register's history, narrow enough that date arithmetic (a
# trip's two-year limit, retention, a crisis's open end) never runs past year 9999.
EARLIEST_DATE = date(1970, 1, 1)
LATEST_DATE = date(2100, 12, 31)
# Longest input accepted, before normalising (spaces, dashes), for the values that have
# a format of their own; the API's schema shows the same numbers (api/*/serializers.py).
PHONE_MAX_LENGTH = 32
PASSPORT_MAX_LENGTH = 40
EMAIL_MAX_LENGTH = 254  # RFC 5321's limit on a path


class Invalid(Exception):
    def __init__(self, errors: dict[str, list[str]], unknown_fields: dict[str, str] | None = None) -> None:
        super().__init__("Invalid input.")
        self.errors = errors
        # Path of each unknown field's error -> the path of the object it was found in. The
        # API shows the field's name to the client who sent it; the import's report must
        # not (a name taken from the file can be a person's data), and the key may itself
        # hold dots, so its object cannot be read back from the path.
        self.unknown_fields = unknown_fields or {}


def invalid_input(exc: Invalid) -> DomainError:
    """The API's 400 for a body that broke the rules: every field path with its messages."""
    return DomainError("invalid", "Invalid input.", fields=exc.errors)


@dataclass
class Errors:
    items: dict[str, list[str]] = field(default_factory=dict)
    unknown_fields: dict[str, str] = field(default_factory=dict)

    def add(self, path: str, message: str) -> None:
        self.items.setdefault(path, []).append(message)

    def raise_if_any(self) -> None:
        if self.items:
            raise self.invalid()

    def invalid(self) -> Invalid:
        """The exception carrying every problem recorded, for a caller that cannot go on."""
        return Invalid(self.items, self.unknown_fields)


@lru_cache(maxsize=1)
def country_codes() -> frozenset[str]:
    return frozenset(country.alpha_2 for country in pycountry.countries)


def join_path(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def check_unknown_keys(data: dict, allowed: frozenset[str], prefix: str, errors: Errors) -> None:
    for key in data:
        if key not in allowed:
            path = join_path(prefix, str(key))
            errors.add(path, UNKNOWN_FIELD)
            errors.unknown_fields[path] = prefix


def clean_object(value: Any, path: str, errors: Errors) -> dict | None:
    if not isinstance(value, dict):
        errors.add(path or "non_field_errors", "Expected a JSON object.")
        return None
    return value


def clean_text(
    value: Any, path: str, errors: Errors, *, max_length: int, required: bool, min_length: int = 1
) -> str | None:
    if value is None:
        if required:
            errors.add(path, "This field is required.")
        return None
    if not isinstance(value, str):
        errors.add(path, "Expected a string.")
        return None
    # The longest accepted is counted as sent, white space around it included, as the
    # API's schema counts it (maxLength), and before a blank value counts as absent;
    # the shortest once trimmed.
    if len(value) > max_length:
        errors.add(path, f"Expected {min_length} to {max_length} characters.")
        return None
    value = value.strip()
    if not value:
        if required:
            errors.add(path, "This field may not be blank.")
        return None
    if len(value) < min_length:
        errors.add(path, f"Expected {min_length} to {max_length} characters.")
        return None
    if _CONTROL_CHARACTERS.search(value):
        errors.add(path, "Control characters are not allowed.")
        return None
    return value


def clean_date(value: Any, path: str, errors: Errors, *, required: bool = True) -> date | None:
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


def clean_bool(value: Any, path: str, errors: Errors) -> bool | None:
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
    text = clean_text(value, path, errors, max_length=PHONE_MAX_LENGTH, required=required)
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
    text = clean_text(value, path, errors, max_length=2, required=required, min_length=2)
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
    text = clean_text(value, path, errors, max_length=MAX_LANGUAGE_TAG_LENGTH, required=required)
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
    text = clean_text(value, path, errors, max_length=PASSPORT_MAX_LENGTH, required=False)
    if text is None:
        return None
    compact = re.sub(r"[\s-]", "", text).upper()
    if not _PASSPORT.match(compact):
        errors.add(path, "Expected 5 to 20 letters and digits.")
        return None
    return compact


def clean_email(value: Any, path: str, errors: Errors) -> str | None:
    text = clean_text(value, path, errors, max_length=EMAIL_MAX_LENGTH, required=False)
    if text is None:
        return None
    text = normalise_email(text)
    try:
        validate_email(text)
    except ValidationError:
        errors.add(path, "Enter a valid email address.")
        return None
    return text


def clean_coordinate(value: Any, path: str, errors: Errors, *, limit: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        errors.add(path, "Expected a number.")
        return None
    number = float(value)
    if not math.isfinite(number) or not -limit <= number <= limit:
        errors.add(path, f"Expected a number between {-limit:g} and {limit:g}.")
        return None
    return number


DateLike = TypeVar("DateLike", date, datetime)


def add_months(day: DateLike, months: int) -> DateLike:
    """The same day ``months`` later (earlier if negative), or the month's last day when it has fewer
    (31 January + 1: 28 or 29 February); a time of day stays as it is."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))
