"""Bulk import of a legacy register (JSON Lines), encrypting on the way.

Each line is one registration: ``{"profile": {...}, "trips": [...], "companions":
[...], "residences": [...]}`` in the API's shapes, checked with the API's own rules
(registrations.validation); companions carry a ``ref`` of the line's own, by which its
trips and residences name them. Worker
processes validate and encrypt (registrations.import_rows); the parent removes duplicates (blind indexes of
passport number and email, against the database and the file so far) and loads
each batch with COPY into the four tables in one transaction.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO

from django.db import connection, transaction
from django.utils import timezone

from consular.copy_binary import binary_timestamp, copy_rows
from consular.data_keys import data_keys_copy
from consular.prefork import prepare_to_fork
from consular.rotation import IMPORT_ADVISORY_LOCK
from registrations import gazetteer
from registrations.import_rows import (
    COMPANION_COLUMNS,
    MAX_LINE_BYTES,
    RESIDENCE_COLUMNS,
    RESIDENCE_COMPANION_COLUMNS,
    STAY_COLUMNS,
    TRAVELLER_COLUMNS,
    TRIP_COLUMNS,
    TRIP_COMPANION_COLUMNS,
    Prepared,
    prepare_line,
)
from registrations.models import Companion, Residence, Stay, Traveller, Trip

_TRAVELLER_TABLE = Traveller._meta.db_table
_TRIP_TABLE = Trip._meta.db_table
_STAY_TABLE = Stay._meta.db_table
_COMPANION_TABLE = Companion._meta.db_table
_RESIDENCE_TABLE = Residence._meta.db_table
_TRIP_COMPANION_TABLE = Trip.companions.through._meta.db_table
_RESIDENCE_COMPANION_TABLE = Residence.companions.through._meta.db_table

# Transaction-level lock around each batch's duplicate check and load (see _Batch.load);
# not IMPORT_ADVISORY_LOCK, which imports hold shared for their whole run.
IMPORT_BATCH_LOCK = IMPORT_ADVISORY_LOCK + 1


@dataclass
class Report:
    imported: int = 0  # registrations
    persons: int = 0  # their registrants and companions
    rejected: list[tuple[int, str]] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)  # of imported lines


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
                data_keys_copy(raw, [p.data_key for p in keep])
                copy_rows(raw, _TRAVELLER_TABLE, TRAVELLER_COLUMNS, [p.traveller for p in keep])
                copy_rows(raw, _TRIP_TABLE, TRIP_COLUMNS, [p.trips for p in keep])
                copy_rows(raw, _STAY_TABLE, STAY_COLUMNS, [p.stays for p in keep])
                # Only what the batch holds: most registrations list nobody, and an empty
                # COPY is a round trip for nothing.
                for table, columns, rows in (
                    (_COMPANION_TABLE, COMPANION_COLUMNS, [p.companions for p in keep]),
                    (_TRIP_COMPANION_TABLE, TRIP_COMPANION_COLUMNS, [p.trip_companions for p in keep]),
                    (_RESIDENCE_TABLE, RESIDENCE_COLUMNS, [p.residences for p in keep]),
                    (_RESIDENCE_COMPANION_TABLE, RESIDENCE_COMPANION_COLUMNS, [p.residence_companions for p in keep]),
                ):
                    if any(rows):
                        copy_rows(raw, table, columns, rows)
        report.duplicates.extend(duplicates)
        report.imported += len(keep)
        report.persons += sum(p.persons for p in keep)
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
    # retiring a master version (consular.rotation.rotation_settled), since the
    # workers wrap data keys well before the parent commits them. Taken after forking:
    # prepare_to_fork closes the connection, and with it any session lock.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock_shared(%s)", [IMPORT_ADVISORY_LOCK])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock_shared(%s)", [IMPORT_ADVISORY_LOCK])
