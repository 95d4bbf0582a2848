"""Writing and verifying the hash-chained audit log."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from consular.models import AuditEntry

GENESIS = "0" * 64
# Any constant works: every writer takes this transaction-level advisory lock, so
# entries are chained one at a time and no two share a predecessor.
_CHAIN_LOCK = 0x436F6E7375_1A


def _canonical(entry: AuditEntry) -> bytes:
    body = {
        "at": entry.at.isoformat(),
        "actor_id": str(entry.actor_id) if entry.actor_id else None,
        "actor_role": entry.actor_role,
        "post_id": str(entry.post_id) if entry.post_id else None,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "details": entry.details,
        "prev_hash": entry.prev_hash,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def entry_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(_canonical(entry)).hexdigest()


def audit_record(
    *,
    actor: Any | None,
    action: str,
    object_type: str = "",
    object_id: object = "",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an entry in the caller's transaction: if the caller rolls back, so does the entry,
    and if the entry cannot be written, the caller's action fails with it (fail closed)."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the action it records.")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK])
        # Hash the details as jsonb will give them back, not as Python holds them:
        # jsonb turns -0.0 into 0.0 and 1e16 into an integer, and a hash over the
        # Python values would then no longer verify (a false "tampered").
        cursor.execute("SELECT %s::jsonb::text", [json.dumps(details or {}, default=str)])
        stored_details = json.loads(cursor.fetchone()[0])
    previous = AuditEntry.objects.order_by("-id").values_list("hash", flat=True).first() or GENESIS
    entry = AuditEntry(
        at=timezone.now(),
        actor_id=getattr(actor, "pk", None),
        actor_role=getattr(actor, "role", "") or "",
        post_id=getattr(actor, "post_id", None),
        action=action,
        object_type=object_type,
        object_id=str(object_id) if object_id else "",
        details=stored_details,
        prev_hash=previous,
    )
    entry.hash = entry_hash(entry)
    entry.save(force_insert=True)
    return entry


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_broken_id: int | None
    problem: str | None


def audit_verify(*, batch_size: int = 5000) -> ChainReport:
    """Recompute the chain from the first entry; name the first entry that does not fit."""
    previous = GENESIS
    checked = 0
    last_id = 0
    while True:
        with transaction.atomic():
            batch = list(AuditEntry.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            return ChainReport(checked, None, None)
        for entry in batch:
            if entry.prev_hash != previous:
                return ChainReport(checked, entry.id, "its prev_hash does not match the previous entry's hash")
            if entry_hash(entry) != entry.hash:
                return ChainReport(checked, entry.id, "its content does not match its hash")
            previous = entry.hash
            checked += 1
            last_id = entry.id


# --- Anchors outside the database ----------------------------------------------------
# The chain shows an edited or removed entry only while later entries follow it:
# deleting the newest entries, or every entry, leaves a shorter chain that still
# verifies. An anchor — the id and hash of the newest entry, appended to a file the
# database's owner cannot rewrite — keeps what the chain looked like.


@dataclass(frozen=True)
class Anchor:
    id: int
    hash: str
    at: str


def read_anchors(path: str) -> list[Anchor]:
    try:
        with open(path) as handle:
            lines = [line for line in handle if line.strip()]
    except FileNotFoundError:
        return []
    anchors = []
    for number, line in enumerate(lines, start=1):
        try:
            data = json.loads(line)
            anchors.append(Anchor(id=int(data["id"]), hash=str(data["hash"]), at=str(data["at"])))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"anchor line {number} is not an anchor") from exc
    return anchors


def anchors_missing(anchors: list[Anchor]) -> Anchor | None:
    """The first anchored entry that is gone or changed, else None."""
    if not anchors:
        return None
    stored = dict(AuditEntry.objects.filter(id__in=[a.id for a in anchors]).values_list("id", "hash"))
    for anchor in anchors:
        if stored.get(anchor.id) != anchor.hash:
            return anchor
    return None


def append_anchor(path: str) -> Anchor | None:
    """Append the newest entry's id and hash to the anchor file (None: the log is empty)."""
    newest = AuditEntry.objects.order_by("-id").values_list("id", "hash").first()
    if newest is None:
        return None
    anchor = Anchor(id=newest[0], hash=newest[1], at=timezone.now().isoformat())
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(descriptor, "a") as handle:
        handle.write(json.dumps({"id": anchor.id, "hash": anchor.hash, "at": anchor.at}) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return anchor


@dataclass(frozen=True)
class AnchoredReport:
    chain: ChainReport
    anchors: int  # anchors checked
    missing: Anchor | None  # the first anchored entry gone or changed


def audit_verify_anchored(path: str, *, anchor: bool = True) -> AnchoredReport:
    """Verify the chain and every anchor in ``path``; when both hold (and ``anchor``), anchor the newest entry.

    Raises ValueError when the anchor file cannot be read as anchors.
    """
    chain = audit_verify()
    if chain.first_broken_id is not None:
        return AnchoredReport(chain, 0, None)
    anchors = read_anchors(path)
    missing = anchors_missing(anchors)
    if missing is None and anchor:
        append_anchor(path)
    return AnchoredReport(chain, len(anchors), missing)
