"""Erasure: a person's data keys shredded, then every app's rows about them deleted, in one transaction.

The order is the lock order of docs/architecture.md: the account's row, then the
registration's, then each app's own rows (notifications, crises, registrations,
accounts), the data keys last; the ledger is written before the audit chain's lock.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import account_lock, accounts_delete
from consular.audit import audit_record
from consular.data_keys import data_keys_delete, data_keys_shred
from consular.errors import DomainError
from crises.services.reveals import reveal_requests_forget
from notifications.services.erasure import travellers_erase
from privacy.models import Erasure
from privacy.services.ledger import append_to_ledger_file
from registrations.selectors import traveller_of
from registrations.services.removal import registration_delete, registration_lock, registrations_delete

log = logging.getLogger(__name__)


def record_erasure(
    *, traveller_id: uuid.UUID | None, user_id: uuid.UUID | None, key_ids: list[uuid.UUID], reason: str
) -> None:
    entry = Erasure(
        traveller_id=traveller_id,
        user_id=user_id,
        data_key_ids=[str(k) for k in key_ids],
        reason=reason,
        erased_at=timezone.now(),
    )
    # Written and synced before the erasure commits, not after: a ledger that cannot be
    # written (a full or unmounted volume) then undoes the erasure, which the caller may
    # retry, instead of committing one that a restored backup would silently bring back.
    # An erasure that fails after this line leaves an entry for a person who asked to
    # be erased (or was due), which reapply_erasures then completes. And before the
    # audit entry, whose lock every audited action in the system waits for: a slow
    # volume must not hold that lock through its fsync.
    try:
        append_to_ledger_file([entry])
    except OSError as exc:
        log.error("erasure ledger file not writable (%s); the erasure is undone", exc.strerror)
        raise DomainError(
            "ledger_unavailable", "The erasure could not be recorded; nothing was erased. Try again later.", status=503
        ) from exc
    entry.save(force_insert=True)
    audit_record(
        actor=None,
        action="erasure",
        object_type="traveller" if traveller_id else "user",
        object_id=traveller_id or user_id,
        details={"reason": reason, "user_id": str(user_id) if user_id else None},
    )


def erase_rows_naming_travellers(traveller_ids: list[uuid.UUID]) -> None:
    """What other apps hold about these travellers by id, outside the register's own cascade."""
    if traveller_ids:
        travellers_erase(traveller_ids=traveller_ids)
        reveal_requests_forget(traveller_ids=traveller_ids)


@transaction.atomic
def person_erase(*, user: User) -> None:
    """The citizen's own erasure: registration, account and both data keys, crypto-shredded first."""
    if not account_lock(user.pk, for_="erase"):
        return  # a retried request: the first one has erased everything since this one authenticated
    # Locked before anything is collected for deletion, in the order every writer takes
    # (account, then registration): a check-in answered meanwhile either commits first or
    # finds the registration gone, and a retention purge of it waits, instead of either
    # failing this erasure's foreign keys at commit or deadlocking with it.
    traveller = traveller_of(user=user)
    if traveller is not None and not registration_lock(traveller.pk, for_="removal"):
        traveller = None  # purged by retention since it was read: nothing of it is left to erase
    # Ids first: Django clears an instance's pk when it deletes the row.
    user_id, traveller_id = user.pk, traveller.pk if traveller else None
    key_ids = [user.data_key_id] + ([traveller.data_key_id] if traveller else [])
    data_keys_shred(key_ids)
    if traveller is not None:
        erase_rows_naming_travellers([traveller.pk])
        registration_delete(traveller=traveller)
    accounts_delete(user_ids=[user_id])  # with its tokens
    data_keys_delete(key_ids)
    record_erasure(traveller_id=traveller_id, user_id=user_id, key_ids=key_ids, reason="request")


@transaction.atomic
def erasures_reapply(*, extra_entries: list[dict[str, Any]]) -> dict[str, int]:
    """Re-apply every known erasure (the table's and those given) to a restored database."""
    entries = [
        {"traveller_id": e.traveller_id, "user_id": e.user_id, "data_key_ids": e.data_key_ids, "reason": e.reason}
        for e in Erasure.objects.all()
    ]
    known = {(str(e["traveller_id"]), str(e["user_id"])) for e in entries}
    restored_ledger = 0
    for entry in extra_entries:  # as read_ledger_file gives them
        identity = (str(entry["traveller_id"]), str(entry["user_id"]))
        if identity not in known:
            known.add(identity)  # the same entry in a second ledger file is restored once
            Erasure.objects.create(
                traveller_id=entry["traveller_id"],
                user_id=entry["user_id"],
                data_key_ids=entry["data_key_ids"],
                reason=entry["reason"],
                erased_at=entry["erased_at"] or timezone.now(),
            )
            entries.append(entry)
            restored_ledger += 1
    key_ids = [key for entry in entries for key in entry["data_key_ids"]]
    traveller_ids = [entry["traveller_id"] for entry in entries if entry["traveller_id"]]
    user_ids = [entry["user_id"] for entry in entries if entry["user_id"]]
    data_keys_shred(key_ids)
    erase_rows_naming_travellers(traveller_ids)
    travellers = registrations_delete(traveller_ids=traveller_ids)
    users = accounts_delete(user_ids=user_ids)
    keys = data_keys_delete(key_ids)
    return {"travellers": travellers, "users": users, "data_keys": keys, "ledger_entries_restored": restored_ledger}
