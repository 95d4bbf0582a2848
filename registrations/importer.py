"""Bulk import of a legacy register (JSON Lines), encrypting on the way.

Each line is one traveller: ``{"profile": {...}, "trips": [...]}`` in the API's
shapes, checked with the API's own rules (registrations.validation). Worker
processes validate and encrypt; the parent removes duplicates (blind indexes of
passport number and email, against the database and the file so far) and loads
each batch with COPY into the four tables in one transaction.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import secrets
import signal
import struct
import time
import uuid
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import IO, Any

import orjson
from django.db import connection, transaction
from django.utils import timezone

from consular import crypto
from consular.geometry import point_ewkb
from consular.prefork import prepare_to_fork
from registrations import gazetteer
from registrations.models import REF_ALPHABET, Stay, Traveller, Trip
from registrations.services import (
    IMPORT_ADVISORY_LOCK,
    MAX_TRIPS_PER_TRAVELLER,
    profile_blind_indexes,
    profile_plaintexts,
)
from registrations.validation import UNKNOWN_FIELD, Invalid, validate_profile, validate_trip

MAX_LINE_BYTES = 256 * 1024
LINE_FIELDS = frozenset({"profile", "trips"})
# Transaction-level lock around each batch's duplicate check and load (see _Batch.load);
# not IMPORT_ADVISORY_LOCK, which imports hold shared for their whole run.
IMPORT_BATCH_LOCK = IMPORT_ADVISORY_LOCK + 1

DATAKEY_COLUMNS = ("id", "master_version", "wrapped", "created_at")
TRAVELLER_COLUMNS = (
    "id", "ref", "user_id", "data_key_id",
    *(f"{name}_enc" for name in Traveller.ENCRYPTED_FIELDS),
    "passport_bidx", "email_bidx", "language", "consent_contact", "consent_share_with_partners",
    "created_at", "updated_at",
)  # fmt: skip
TRIP_COLUMNS = ("id", "traveller_id", "title_enc", "start_date", "end_date", "created_at")
STAY_COLUMNS = (
    "id", "trip_id", "traveller_id", "country", "city_enc", "address_enc", "point", "precision",
    "start_date", "end_date",
)  # fmt: skip

_TRAVELLER_TABLE = Traveller._meta.db_table
_TRIP_TABLE = Trip._meta.db_table
_STAY_TABLE = Stay._meta.db_table


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
    warnings: list[str] = field(default_factory=list)  # as the API's response gives them: paths, no values


@dataclass
class Report:
    imported: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)  # of imported lines


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
    errors: dict[str, list[str]] = {}
    unknown_fields: dict[str, str] = {}
    profile = trips = None
    try:
        profile = validate_profile(data.get("profile"), prefix="profile")
    except Invalid as exc:
        errors.update(exc.errors)
        unknown_fields.update(exc.unknown_fields)
    try:
        trips = [validate_trip(trip, prefix=f"trips.{index}") for index, trip in enumerate(trips_data)]
    except Invalid as exc:
        errors.update(exc.errors)
        unknown_fields.update(exc.unknown_fields)
    if errors:
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
        traveller_uuid.bytes, _reference().encode(), None, key_uuid.bytes, *sealed, _text(passport_bidx),
        _text(email_bidx), profile["language"].encode(), _BOOL[profile["consent"]["contact"]],
        _BOOL[profile["consent"]["share_with_partners"]], now, now,
    )  # fmt: skip
    trip_rows, stay_rows = [], []
    for trip in trips:
        trip_uuid = time_ordered_uuid()
        trip_id = str(trip_uuid)
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
            point = point_ewkb(stay.longitude, stay.latitude) if stay.latitude is not None else None
            stay_rows.append(
                binary_row(
                    stay_uuid.bytes, trip_uuid.bytes, traveller_uuid.bytes, stay.country.encode(),
                    seal(_STAY_TABLE, "city", stay.city, stay_id), seal(_STAY_TABLE, "address", stay.address, stay_id),
                    point, stay.precision.encode(), binary_date(stay.start_date), binary_date(stay.end_date),
                )
            )  # fmt: skip
    return Prepared(
        line_no=line_no,
        passport_bidx=passport_bidx,
        email_bidx=email_bidx,
        data_key=binary_row(key_uuid.bytes, _INT4.pack(master_version), wrapped, now),
        traveller=traveller,
        trips=b"".join(trip_rows),
        stays=b"".join(stay_rows),
        warnings=[warning for trip in trips for warning in trip.warnings],
    )


# COPY's binary format (PostgreSQL manual, "COPY", "Binary Format"): a header, then per
# row a 16-bit field count and each field as a 32-bit length (-1 for NULL) and the
# type's binary representation, then a -1 trailer. Binary instead of text saves the
# server parsing the hex of every ciphertext: about a fifth of its time on the load.
COPY_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
COPY_BINARY_TRAILER = struct.pack(">h", -1)
_FIELD_COUNT = struct.Struct(">h")
_LENGTH = struct.Struct(">i")
_NULL = _LENGTH.pack(-1)
_INT4 = struct.Struct(">i")
_INT8 = struct.Struct(">q")
_BOOL = {True: b"\x01", False: b"\x00"}
_POSTGRES_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_POSTGRES_EPOCH_ORDINAL = _POSTGRES_EPOCH.date().toordinal()


def binary_row(*fields: bytes | None) -> bytes:
    """One row of COPY's binary format; every field already in its type's binary form."""
    parts = [_FIELD_COUNT.pack(len(fields))]
    for value in fields:
        if value is None:
            parts.append(_NULL)
        else:
            parts.append(_LENGTH.pack(len(value)))
            parts.append(value)
    return b"".join(parts)


def binary_date(day: date) -> bytes:
    return _INT4.pack(day.toordinal() - _POSTGRES_EPOCH_ORDINAL)


def binary_timestamp(moment: datetime) -> bytes:
    """A timestamptz: microseconds since 2000-01-01 UTC."""
    delta = moment - _POSTGRES_EPOCH
    return _INT8.pack((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds)


def _text(value: str | None) -> bytes | None:
    return None if value is None else value.encode()


def prepare_chunk(chunk: list[tuple[int, bytes]]) -> list[Prepared | tuple[int, str]]:
    now = binary_timestamp(timezone.now())
    return [prepare_line(line_no, line, now) for line_no, line in chunk]


_BOM = b"\xef\xbb\xbf"


def _lines(handle: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """Each line with its number, never more than MAX_LINE_BYTES + 1 bytes of it held.

    Of a longer line only that much is kept (prepare_line then rejects it) and the rest
    is read past in pieces: a file exported as one JSON array is one rejected line, not
    the whole file in memory. A UTF-8 byte order mark, which Windows tools write, is
    not part of the first line.
    """
    line_no = 0
    while line := handle.readline(MAX_LINE_BYTES + 1):
        line_no += 1
        if line_no == 1 and line.startswith(_BOM):
            line = line[len(_BOM) :]
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while (rest := handle.readline(1 << 16)) and not rest.endswith(b"\n"):
                pass
        yield line_no, line


def _chunks(handle: IO[bytes], size: int) -> Iterator[list[tuple[int, bytes]]]:
    chunk: list[tuple[int, bytes]] = []
    for line_no, line in _lines(handle):
        if line.strip():
            chunk.append((line_no, line))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _existing(column: str, values: list[str]) -> set[str]:
    if not values:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {_TRAVELLER_TABLE} WHERE {column} = ANY(%s)", [values])  # noqa: S608 - fixed names
        return {row[0] for row in cursor.fetchall()}


def _copy(cursor: Any, table: str, columns: tuple[str, ...], rows: list[bytes]) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT binary)") as copy:
        copy.write(b"".join((COPY_BINARY_HEADER, *rows, COPY_BINARY_TRAILER)))


class _Batch:
    """Loads one batch of prepared travellers, skipping those already in the register or earlier in the batch.

    Earlier batches are committed before the next one is checked, so the database
    recognises duplicates across batches: only the current batch's keys are held
    in memory, not the whole file's (about 300 bytes a traveller, gigabytes for a
    national register).
    """

    def load(self, prepared: list[Prepared], report: Report) -> None:
        duplicates: list[int] = []
        keep: list[Prepared] = []
        with transaction.atomic(), connection.cursor() as cursor:
            # One batch at a time, across imports running side by side: a batch looks for
            # duplicates only once every batch before it is committed, so two runs of one
            # file cannot both find a traveller new (the blind indexes are not unique).
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_BATCH_LOCK])
            passports = [p.passport_bidx for p in prepared if p.passport_bidx]
            emails = [p.email_bidx for p in prepared if p.email_bidx]
            taken = _existing("passport_bidx", passports) | _existing("email_bidx", emails)
            seen: set[str] = set()
            for item in prepared:
                keys = {k for k in (item.passport_bidx, item.email_bidx) if k}
                if keys & taken or keys & seen:
                    duplicates.append(item.line_no)
                    continue
                seen |= keys
                keep.append(item)
            if keep:
                raw = cursor.cursor
                _copy(raw, "consular_datakey", DATAKEY_COLUMNS, [p.data_key for p in keep])
                _copy(raw, _TRAVELLER_TABLE, TRAVELLER_COLUMNS, [p.traveller for p in keep])
                _copy(raw, _TRIP_TABLE, TRIP_COLUMNS, [p.trips for p in keep])
                _copy(raw, _STAY_TABLE, STAY_COLUMNS, [p.stays for p in keep])
        report.duplicates.extend(duplicates)
        report.imported += len(keep)
        report.warnings.extend((item.line_no, warning) for item in keep for warning in item.warnings)


def import_file(
    handle: IO[bytes], *, batch_size: int = 2000, workers: int | None = None, report: Report | None = None
) -> Report:
    """Import every valid, new traveller from a JSON Lines file opened in binary mode.

    Lines stay bytes: each is decoded on its own, so a line that is not UTF-8 is one
    rejected line instead of the end of the import. A ``report`` passed in holds what
    was done so far if the import stops on an error.
    """
    report = report if report is not None else Report()
    batch = _Batch()
    if workers is None:
        workers = os.cpu_count() or 1

    def consume(results: Iterator[list[Prepared | tuple[int, str]]]) -> None:
        for results_of_chunk in results:
            prepared = []
            for result in results_of_chunk:
                if isinstance(result, Prepared):
                    prepared.append(result)
                else:
                    report.rejected.append(result)
            batch.load(prepared, report)

    if workers <= 1:
        with _import_lock():
            consume(prepare_chunk(chunk) for chunk in _chunks(handle, batch_size))
        return report
    # Build the gazetteer index once, before forking, so every child inherits it, and
    # freeze it with everything else built so far: collections in the children would
    # otherwise walk those objects again and again (a fifth of a child's time when the
    # index held 350,000 of them; about 33,000 since it keeps one object per name).
    gazetteer.find_city("FJ", "Suva")
    prepare_to_fork()
    pool = worker_pool(workers)
    try:
        pool.submit(int).result()  # every worker forked now, before the import lock opens a connection
        with _import_lock():
            consume(_in_order(pool, _chunks(handle, batch_size), ahead=2 * workers))
    finally:
        pool.shutdown(cancel_futures=True)
    return report


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """Forked workers that end with the import: killed or not, it leaves none behind.

    Python 3.11 forks every worker at the first submit, from the submitting thread;
    the death signal below follows that thread, so submit from one that outlives the
    pool (import_file uses its own).
    """
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_end_with_parent,
        initargs=(os.getpid(),),
    )


_PR_SET_PDEATHSIG = 1


def _end_with_parent(parent_pid: int) -> None:
    # A worker holds its queue's write end too, so it never sees the queue close: an
    # import killed outright left its workers asleep for ever. Linux kills a process
    # whose parent dies with the signal set here; SIGKILL, since a SIGTERM ignored or
    # handled by the import would be inherited. Elsewhere (no prctl) nothing is set.
    prctl = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None)
    if prctl is not None and prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL)) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent_pid:  # died before the line above
        os._exit(1)


def _in_order(
    pool: ProcessPoolExecutor, chunks: Iterator[list[tuple[int, bytes]]], *, ahead: int
) -> Iterator[list[Prepared | tuple[int, str]]]:
    """The chunks prepared by the pool, in file order, with at most ``ahead`` of them in flight.

    Pool.imap read the whole file ahead of a slow load, into memory; and a worker
    killed (by the out-of-memory killer, say) left it waiting for ever, where a
    broken pool raises BrokenProcessPool and the import stops, reporting what it did.
    """
    pending: deque[Future[list[Prepared | tuple[int, str]]]] = deque()
    for chunk in chunks:
        pending.append(pool.submit(prepare_chunk, chunk))
        if len(pending) >= ahead:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


@contextmanager
def _import_lock() -> Iterator[None]:
    # Shared: imports may run side by side. A key rotation takes it exclusively before
    # retiring a master version (registrations.services.rotation_settled), since the
    # workers wrap data keys well before the parent commits them. Taken after forking:
    # prepare_to_fork closes the connection, and with it any session lock.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock_shared(%s)", [IMPORT_ADVISORY_LOCK])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock_shared(%s)", [IMPORT_ADVISORY_LOCK])
