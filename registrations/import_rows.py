"""One line of a bulk import, validated and encrypted into rows in COPY's binary format.

This is the work the import's worker processes do (registrations.importer runs
them): each line checked with the API's own rules, each traveller given a data key,
every personal value encrypted under it, and the four tables' rows encoded so the
parent only concatenates bytes for PostgreSQL's ``COPY ... FORMAT binary``.
"""

from __future__ import annotations

import os
import secrets
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson

from consular import crypto
from consular.copy_binary import BOOL, binary_date, binary_row, text_or_null
from consular.data_keys import data_key_copy_row
from consular.geometry import point_ewkb
from consular.validation import UNKNOWN_FIELD, Invalid
from registrations.models import REF_ALPHABET, Companion, Residence, Stay, Traveller, Trip
from registrations.services.companions import companion_plaintexts
from registrations.services.profiles import profile_blind_indexes, profile_plaintexts
from registrations.services.residences import MAX_RESIDENCES
from registrations.services.trips import MAX_TRIPS_PER_TRAVELLER
from registrations.validation import (
    MAX_COMPANIONS,
    CleanResidence,
    first_of_month,
    validate_companion,
    validate_profile,
    validate_residence,
    validate_trip,
)

MAX_REF_LENGTH = 40  # a companion's ref in an import line

MAX_LINE_BYTES = 256 * 1024
LINE_FIELDS = frozenset({"profile", "trips", "companions", "residences"})

TRAVELLER_COLUMNS = (
    "id", "ref", "user_id", "data_key_id",
    *(f"{name}_enc" for name in Traveller.ENCRYPTED_FIELDS),
    "passport_bidx", "email_bidx", "birth_month", "language", "consent_contact", "consent_share_with_partners",
    "created_at", "updated_at",
)  # fmt: skip
TRIP_COLUMNS = ("id", "traveller_id", "title_enc", "start_date", "end_date", "created_at")
STAY_COLUMNS = (
    "id", "trip_id", "traveller_id", "country", "city_enc", "address_enc", "point", "precision",
    "start_date", "end_date",
)  # fmt: skip

COMPANION_COLUMNS = (
    "id", "traveller_id", *(f"{name}_enc" for name in Companion.ENCRYPTED_FIELDS),
    "birth_month", "language", "contact_directly", "created_at", "updated_at",
)  # fmt: skip
RESIDENCE_COLUMNS = (
    "id", "traveller_id", "country", "city_enc", "address_enc", "point", "precision", "since", "until",
    "confirmed_at", "created_at",
)  # fmt: skip
TRIP_COMPANION_COLUMNS = ("trip_id", "companion_id")
RESIDENCE_COMPANION_COLUMNS = ("residence_id", "companion_id")

_TRAVELLER_TABLE = Traveller._meta.db_table
_TRIP_TABLE = Trip._meta.db_table
_STAY_TABLE = Stay._meta.db_table
_COMPANION_TABLE = Companion._meta.db_table
_RESIDENCE_TABLE = Residence._meta.db_table


@dataclass
class Prepared:
    """One traveller, ready for COPY: each table's rows already in COPY's binary format.

    Workers format the rows themselves so the parent only concatenates bytes:
    shipping Python tuples back through pickle cost more than building them.
    """

    line_no: int
    passport_bidx: str | None
    email_bidx: str | None
    data_key: bytes
    traveller: bytes
    trips: bytes
    stays: bytes
    companions: bytes = b""
    trip_companions: bytes = b""
    residences: bytes = b""
    residence_companions: bytes = b""
    persons: int = 1  # the registrant and their companions
    warnings: list[str] = field(default_factory=list)  # as the API's response gives them: paths, no values


def _reference() -> str:
    return "T" + "".join(REF_ALPHABET[b % len(REF_ALPHABET)] for b in secrets.token_bytes(11))


def time_ordered_uuid() -> uuid.UUID:
    """A version 7 UUID (RFC 9562): a millisecond Unix timestamp, then 74 random bits.

    Imported rows get these instead of version 4: each new id then falls at the right
    edge of the eight B-trees keyed by ids (primary keys and foreign keys) instead of
    on a random page, so a batch touches and logs a few pages per index rather than
    thousands. PostgreSQL's CPU per traveller dropped by 12-16 % on 200,000
    travellers (paired runs of bench/import_bench.py), and the gap widens as the
    register outgrows memory. The timestamp says when the import ran, which the
    rows' created_at already says.
    """
    raw = bytearray((time.time_ns() // 1_000_000).to_bytes(6, "big") + os.urandom(10))
    raw[6] = (raw[6] & 0x0F) | 0x70  # version 7
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 9562 variant
    return uuid.UUID(bytes=bytes(raw))


def _describe(errors: dict[str, list[str]], unknown_fields: dict[str, str]) -> str:
    """A rejection reason: field paths and messages, never a value from the line.

    An unknown field is counted under the object it was found in, not named: the report
    goes to terminals and logs, and a malformed export keyed by person (a name or a
    passport number as a key) would otherwise print personal data, or escape codes.
    """
    reasons = [f"{path}: {' '.join(messages)}" for path, messages in errors.items() if path not in unknown_fields]
    unknown_in = Counter(unknown_fields[path] for path in errors if path in unknown_fields)
    for where, count in unknown_in.items():
        reasons.append(f"{where or 'top level'}: {count} unknown field{'s' if count > 1 else ''} (names not shown).")
    return "; ".join(sorted(reasons))


def prepare_line(line_no: int, line: bytes, now: bytes) -> Prepared | tuple[int, str]:
    """Validate and encrypt one line; a rejection is (line number, reason without personal data).

    ``now`` is the creation time stamped on the rows, in COPY's binary form
    (:func:`binary_timestamp`).
    """
    if len(line) > MAX_LINE_BYTES:
        return line_no, f"line longer than {MAX_LINE_BYTES} bytes"
    try:
        # orjson, as the API's parser: it refuses lone surrogates and runaway nesting,
        # which the standard library accepts and which would crash a worker later.
        data = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        try:
            line.decode()
        except UnicodeDecodeError as bad:
            return line_no, f"not UTF-8 (byte {bad.start + 1} of the line)"
        return line_no, f"not JSON ({exc.msg} at column {exc.colno})"
    if not isinstance(data, dict):
        return line_no, "expected a JSON object"
    unknown = set(data) - LINE_FIELDS
    if unknown:
        return line_no, _describe({name: [UNKNOWN_FIELD] for name in unknown}, dict.fromkeys(unknown, ""))
    trips_data = data.get("trips", [])
    if not isinstance(trips_data, list) or len(trips_data) > MAX_TRIPS_PER_TRAVELLER:
        return line_no, f"trips: expected a list of at most {MAX_TRIPS_PER_TRAVELLER} trips"
    companions_data, residences_data = data.get("companions", []), data.get("residences", [])
    if not isinstance(companions_data, list) or len(companions_data) > MAX_COMPANIONS:
        return line_no, f"companions: expected a list of at most {MAX_COMPANIONS} companions"
    if not isinstance(residences_data, list) or len(residences_data) > MAX_RESIDENCES:
        return line_no, f"residences: expected a list of at most {MAX_RESIDENCES} residences"
    errors: dict[str, list[str]] = {}
    unknown_fields: dict[str, str] = {}
    # Companions are named in the line by a "ref" of its own; each gets its id here, and
    # the trips and residences that name them are read with those ids.
    companion_ids = _companion_refs(companions_data, errors)
    companions: list[dict] = []
    residences: list[CleanResidence] = []

    def collect(check: Any) -> Any:
        try:
            return check()
        except Invalid as exc:
            errors.update(exc.errors)
            unknown_fields.update(exc.unknown_fields)
            return None

    profile = collect(lambda: validate_profile(data.get("profile"), prefix="profile"))
    for index, companion in enumerate(companions_data):
        without_ref = {k: v for k, v in companion.items() if k != "ref"} if isinstance(companion, dict) else companion
        companions.append(collect(lambda c=without_ref, i=index: validate_companion(c, prefix=f"companions.{i}")))
    for index, residence in enumerate(residences_data):
        named = _with_companion_ids(residence, f"residences.{index}", companion_ids, errors)
        residences.append(collect(lambda r=named, i=index: validate_residence(r, prefix=f"residences.{i}")))
    trips = collect(
        lambda: [
            validate_trip(_with_companion_ids(trip, f"trips.{index}", companion_ids, errors), prefix=f"trips.{index}")
            for index, trip in enumerate(trips_data)
        ]
    )
    if errors or profile is None or trips is None:  # each None is among the errors
        return line_no, _describe(errors, unknown_fields)
    passport_bidx, email_bidx = profile_blind_indexes(profile)
    if passport_bidx is None and email_bidx is None:
        return line_no, "profile: a passport_number or an email is needed to recognise the traveller on re-runs"

    key_uuid = time_ordered_uuid()
    data_key = crypto.new_data_key()
    master_version, wrapped = crypto.wrap_data_key(data_key, key_id=key_uuid)
    cipher = crypto.Cipher(key_id=key_uuid, data_key=data_key)
    traveller_uuid = time_ordered_uuid()
    # Ids are bound into each value's associated data as text.
    traveller_id = str(traveller_uuid)

    def seal(table: str, name: str, value: str | None, row_id: str) -> bytes | None:
        return None if value is None else cipher.encrypt(value, table=table, field=name, row_id=row_id)

    sealed = [seal(_TRAVELLER_TABLE, name, value, traveller_id) for name, value in profile_plaintexts(profile).items()]
    traveller = binary_row(
        traveller_uuid.bytes, _reference().encode(), None, key_uuid.bytes, *sealed, text_or_null(passport_bidx),
        text_or_null(email_bidx), binary_date(first_of_month(profile["date_of_birth"])), profile["language"].encode(),
        BOOL[profile["consent"]["contact"]],
        BOOL[profile["consent"]["share_with_partners"]], now, now,
    )  # fmt: skip
    trip_rows, stay_rows, trip_companion_rows = [], [], []
    for trip in trips:
        trip_uuid = time_ordered_uuid()
        trip_id = str(trip_uuid)
        trip_companion_rows += [binary_row(trip_uuid.bytes, cid.bytes) for cid in trip.companions]
        trip_rows.append(
            binary_row(
                trip_uuid.bytes,
                traveller_uuid.bytes,
                seal(_TRIP_TABLE, "title", trip.title, trip_id),
                binary_date(trip.start_date),
                binary_date(trip.end_date),
                now,
            )
        )
        for stay in trip.stays:
            stay_uuid = time_ordered_uuid()
            stay_id = str(stay_uuid)
            point = (
                point_ewkb(stay.longitude, stay.latitude)
                if stay.latitude is not None and stay.longitude is not None
                else None
            )
            stay_rows.append(
                binary_row(
                    stay_uuid.bytes, trip_uuid.bytes, traveller_uuid.bytes, stay.country.encode(),
                    seal(_STAY_TABLE, "city", stay.city, stay_id), seal(_STAY_TABLE, "address", stay.address, stay_id),
                    point, stay.precision.encode(), binary_date(stay.start_date), binary_date(stay.end_date),
                )
            )  # fmt: skip
    companion_rows = []
    for ref_id, clean in zip(companion_ids.values(), companions, strict=True):
        companion_id = str(ref_id)
        sealed_companion = [
            seal(_COMPANION_TABLE, name, value, companion_id) for name, value in companion_plaintexts(clean).items()
        ]
        companion_rows.append(
            binary_row(
                ref_id.bytes, traveller_uuid.bytes, *sealed_companion,
                binary_date(first_of_month(clean["date_of_birth"])), text_or_null(clean["language"]),
                BOOL[clean["contact_directly"]], now, now,
            )
        )  # fmt: skip
    residence_rows, residence_companion_rows = [], []
    for residence in residences:
        residence_uuid = time_ordered_uuid()
        residence_id = str(residence_uuid)
        place = residence.place
        point = (
            point_ewkb(place.longitude, place.latitude)
            if place.latitude is not None and place.longitude is not None
            else None
        )
        residence_rows.append(
            binary_row(
                residence_uuid.bytes, traveller_uuid.bytes, place.country.encode(),
                seal(_RESIDENCE_TABLE, "city", place.city, residence_id),
                seal(_RESIDENCE_TABLE, "address", place.address, residence_id),
                point, place.precision.encode(), binary_date(residence.since),
                binary_date(residence.until) if residence.until else None, now, now,
            )
        )  # fmt: skip
        residence_companion_rows += [binary_row(residence_uuid.bytes, cid.bytes) for cid in residence.companions]
    return Prepared(
        line_no=line_no,
        passport_bidx=passport_bidx,
        email_bidx=email_bidx,
        data_key=data_key_copy_row(key_uuid, master_version, wrapped, now),
        traveller=traveller,
        trips=b"".join(trip_rows),
        stays=b"".join(stay_rows),
        companions=b"".join(companion_rows),
        trip_companions=b"".join(trip_companion_rows),
        residences=b"".join(residence_rows),
        residence_companions=b"".join(residence_companion_rows),
        persons=1 + len(companion_rows),
        warnings=[warning for trip in trips for warning in trip.warnings]
        + [warning for residence in residences for warning in residence.warnings],
    )


def _companion_refs(companions: list, errors: dict[str, list[str]]) -> dict[str, uuid.UUID]:
    """Each companion's ref in the line, with the id it gets (in the line's order)."""
    ids: dict[str, uuid.UUID] = {}
    for index, companion in enumerate(companions):
        ref = companion.get("ref") if isinstance(companion, dict) else None
        path = f"companions.{index}.ref"
        if not isinstance(ref, str) or not 1 <= len(ref) <= MAX_REF_LENGTH:
            errors[path] = [f"Give each companion a ref of 1 to {MAX_REF_LENGTH} characters, to name them on trips."]
        elif ref in ids:
            errors[path] = ["Another companion of the line has this ref."]
        else:
            ids[ref] = time_ordered_uuid()
    return ids


def _with_companion_ids(item: Any, path: str, ids: dict[str, uuid.UUID], errors: dict[str, list[str]]) -> Any:
    """A trip or residence of the line naming its companions by id instead of by ref; an unknown ref is an error."""
    if not isinstance(item, dict) or not isinstance(item.get("companions"), list):
        return item
    named = []
    for index, ref in enumerate(item["companions"]):
        if isinstance(ref, str) and ref in ids:
            named.append(str(ids[ref]))
        else:
            errors[f"{path}.companions.{index}"] = ["No companion of the line has this ref."]
    return {**item, "companions": named}
