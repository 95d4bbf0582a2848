"""Master-key rotation: every data key re-wrapped under the current master version, online.

Data keys belong to accounts and registrations alike, and imports wrap them long
before they commit: the rotation is the core's, and the locks below are how the
apps that wrap keys tell it they are still at it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction

from consular import crypto
from consular.keys import get_key_provider
from consular.models import DataKey

# Held in shared mode by every running bulk import, for its whole run: its workers
# wrap data keys well before the parent commits them, so a master version must not be
# retired while an import that started before the rotation is still loading.
IMPORT_ADVISORY_LOCK = 0x636F6E73756C6172  # "consular"


ROTATION_ADVISORY_LOCK = IMPORT_ADVISORY_LOCK + 2


class RotationNotSettled(Exception):
    """Transactions or imports that may still commit keys under an older version are running."""


class RotationRunning(Exception):
    """Another key rotation holds the rotation lock."""


@contextmanager
def only_rotation() -> Iterator[None]:
    """Hold the rotation lock for a whole rotation; RotationRunning if another has it.

    Two rotations at once could each retire the version the other had just added, with
    every data key wrapped under it meanwhile.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [ROTATION_ADVISORY_LOCK])
        if not cursor.fetchone()[0]:
            raise RotationRunning("another key rotation is running")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [ROTATION_ADVISORY_LOCK])


@contextmanager
def rotation_settled(*, timeout_seconds: float) -> Iterator[None]:
    """Wait until nothing can still commit a data key wrapped under a retired version, and hold that.

    A transaction that wrapped a key before the rotation and commits after the
    re-wrap would leave that key under the old version, and retiring the version
    would lose it. So: no running import (their advisory lock), and no transaction
    older than this moment in this database. Later ones wrap under the new version.
    """
    deadline = time.monotonic() + timeout_seconds
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        (moment,) = cursor.fetchone()
        while True:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [IMPORT_ADVISORY_LOCK])
            if cursor.fetchone()[0]:
                break
            if time.monotonic() > deadline:
                raise RotationNotSettled("a bulk import started before the rotation is still running")
            time.sleep(1)
        try:
            while True:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND xact_start < %s",
                    [moment],
                )
                if cursor.fetchone()[0] == 0:
                    break
                if time.monotonic() > deadline:
                    raise RotationNotSettled("transactions older than the re-wrap are still open")
                time.sleep(1)
            yield
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [IMPORT_ADVISORY_LOCK])


def data_keys_rewrap(*, batch_size: int = 1000) -> int:
    """Re-wrap every data key not under the current master version, in short transactions.

    Rows locked by another transaction are skipped (SKIP LOCKED) and picked up
    by the next pass, so rotation runs online beside normal traffic.
    """
    provider = get_key_provider()
    rewrapped = 0
    while True:
        current = provider.current_version()
        with transaction.atomic():
            batch = list(
                DataKey.objects.select_for_update(skip_locked=True)
                .filter(master_version__lt=current)
                .order_by("pk")[:batch_size]
            )
            for key in batch:
                plaintext = crypto.unwrap_data_key(bytes(key.wrapped), key_id=key.pk, provider=provider)
                key.master_version, key.wrapped = crypto.wrap_data_key(plaintext, key_id=key.pk, provider=provider)
            DataKey.objects.bulk_update(batch, ["master_version", "wrapped"])
        rewrapped += len(batch)
        if not batch:
            if not DataKey.objects.filter(master_version__lt=current).exists():
                return rewrapped
            time.sleep(0.2)  # only rows locked by other transactions remain: let them finish
