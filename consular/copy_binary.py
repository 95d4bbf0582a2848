"""PostgreSQL's COPY in its binary format: rows built in Python, loaded without text parsing.

The format (PostgreSQL manual, "COPY", "Binary Format"): a header, then per row a
16-bit field count and each field as a 32-bit length (-1 for NULL) and the type's
binary representation, then a -1 trailer. Binary instead of text saves the server
parsing the hex of every ciphertext: about a fifth of its time on a bulk import.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

COPY_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
COPY_BINARY_TRAILER = struct.pack(">h", -1)
_FIELD_COUNT = struct.Struct(">h")
_LENGTH = struct.Struct(">i")
_NULL = _LENGTH.pack(-1)
INT4 = struct.Struct(">i")
_INT8 = struct.Struct(">q")
BOOL = {True: b"\x01", False: b"\x00"}
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
    return INT4.pack(day.toordinal() - _POSTGRES_EPOCH_ORDINAL)


def binary_timestamp(moment: datetime) -> bytes:
    """A timestamptz: microseconds since 2000-01-01 UTC."""
    delta = moment - _POSTGRES_EPOCH
    return _INT8.pack((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds)


def text_or_null(value: str | None) -> bytes | None:
    return None if value is None else value.encode()


def copy_rows(cursor: Any, table: str, columns: Sequence[str], rows: Sequence[bytes]) -> None:
    """Load rows already in the binary format into ``table`` (a psycopg cursor, in the caller's transaction)."""
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT binary)") as copy:
        copy.write(b"".join((COPY_BINARY_HEADER, *rows, COPY_BINARY_TRAILER)))
