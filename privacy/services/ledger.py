"""The erasure ledger file: ERASURE_LEDGER_FILE, kept outside the database and its backups.

One JSON line per erasure, ids only, appended and synced before the erasure commits;
read back by ``reapply_erasures`` after a restore (privacy.services.erasure).
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from datetime import datetime
from typing import Any

from django.conf import settings

from privacy.models import Erasure


def ledger_line(entry: Erasure) -> str:
    return json.dumps(
        {
            "traveller_id": str(entry.traveller_id) if entry.traveller_id else None,
            "user_id": str(entry.user_id) if entry.user_id else None,
            "data_key_ids": entry.data_key_ids,
            "reason": entry.reason,
            "erased_at": entry.erased_at.isoformat(),
        },
        sort_keys=True,
    )


def append_to_ledger_file(entries: list[Erasure]) -> None:
    """Append ledger entries to ERASURE_LEDGER_FILE, kept apart from database backups, and sync it.

    A write that fails part-way is cut off again, so a retry does not append its line
    to a torn one; a line torn by a crash is ended before the next is appended. The file
    lock keeps the processes that append (web and task workers) one at a time, so the
    cut never removes another process's line.
    """
    path = settings.ERASURE_LEDGER_FILE
    if not path:
        return
    data = "".join(ledger_line(entry) + "\n" for entry in entries).encode()
    descriptor = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        size = os.fstat(descriptor).st_size
        if size and os.pread(descriptor, 1, size - 1) != b"\n":
            data = b"\n" + data
        try:
            _write_all(descriptor, data)
            os.fsync(descriptor)
        except OSError:
            os.ftruncate(descriptor, size)
            raise
    finally:
        os.close(descriptor)  # releases the lock


def _write_all(descriptor: int, data: bytes) -> None:
    written = 0
    while written < len(data):
        written += os.write(descriptor, data[written:])


def read_ledger_file(path: str) -> tuple[list[dict[str, Any]], list[int]]:
    """The entries of a ledger file, and the numbers of its lines that are not entries.

    A bad line (torn by a crash, say) is skipped, not fatal: every other erasure in
    the file must still be re-applied.
    """
    entries, bad = [], []
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    entry = json.loads(line)
                except ValueError:  # not UTF-8, or not JSON
                    bad.append(number)
                    continue
                entry = _ledger_entry(entry)
                if entry is None:
                    bad.append(number)
                else:
                    entries.append(entry)
    return entries, bad


def _ledger_entry(value: Any) -> dict[str, Any] | None:
    """A ledger line's entry with its ids checked, or None if it is not one."""
    if not isinstance(value, dict) or not isinstance(value.get("data_key_ids"), list):
        return None
    try:
        traveller_id = uuid.UUID(value["traveller_id"]) if value.get("traveller_id") else None
        user_id = uuid.UUID(value["user_id"]) if value.get("user_id") else None
        key_ids = [str(uuid.UUID(key)) for key in value["data_key_ids"]]
        erased_at = datetime.fromisoformat(value["erased_at"]) if value.get("erased_at") else None
    except (TypeError, ValueError, AttributeError):
        return None
    if traveller_id is None and user_id is None:
        return None
    return {
        "traveller_id": traveller_id,
        "user_id": user_id,
        "data_key_ids": key_ids,
        "reason": value.get("reason") if value.get("reason") in ("request", "retention") else "request",
        "erased_at": erased_at,
    }
