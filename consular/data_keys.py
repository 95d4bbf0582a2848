"""Crypto-shredding: destroying the data keys that could decrypt a person's values.

Every app encrypts under keys it does not own (consular.models.DataKey); which keys
belong to whom is the apps' business, destroying them is the core's.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from consular.copy_binary import INT4, binary_row, copy_rows
from consular.models import DataKey

# The columns a bulk load writes (registrations.importer); the row's layout is the core's to know.
_COPY_COLUMNS = ("id", "master_version", "wrapped", "created_at")


def data_keys_shred(key_ids: Iterable[uuid.UUID | str]) -> None:
    """Overwrite the wrapped keys in place, before anything else of an erasure.

    Even an erasure that fails half-way then leaves nothing decryptable behind; the
    rows themselves go last (data_keys_delete), once nothing refers to them.
    """
    for key_id in key_ids:
        DataKey.objects.filter(pk=key_id).update(wrapped=os.urandom(60))


def data_keys_delete(key_ids: Iterable[uuid.UUID | str]) -> int:
    return DataKey.objects.filter(pk__in=list(key_ids)).delete()[0]


def data_key_copy_row(key_id: uuid.UUID, master_version: int, wrapped: bytes, created_at: bytes) -> bytes:
    """One data key as a row of COPY's binary format (``created_at`` already in it: binary_timestamp)."""
    return binary_row(key_id.bytes, INT4.pack(master_version), wrapped, created_at)


def data_keys_copy(cursor: Any, rows: Sequence[bytes]) -> None:
    """Load data keys made by data_key_copy_row, in the caller's transaction (a psycopg cursor)."""
    copy_rows(cursor, DataKey._meta.db_table, _COPY_COLUMNS, rows)
