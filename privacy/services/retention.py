"""Retention: registrations whose last trip or residence ended more than RETENTION_DAYS ago are erased
(crypto-shredded); a residence that ended, or went unconfirmed, that long ago goes on its own."""

from __future__ import annotations

import time
import uuid
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.services import account_lock
from consular.data_keys import data_keys_delete, data_keys_shred
from privacy.services.erasure import erase_rows_naming_travellers, record_erasure
from registrations.models import Traveller
from registrations.selectors import registration_expired, registrations_expired
from registrations.services.removal import registration_delete, registration_lock
from registrations.services.residences import residences_purge_expired


@transaction.atomic
def traveller_purge(*, traveller: Traveller, reason: str, expired_before: date | None = None) -> bool:
    """Erase one registration (not the account, which has its own key); False if it no longer qualifies.

    With ``expired_before`` (retention) the traveller is locked and the condition checked
    again: a trip added since the batch was selected keeps the registration.
    """
    # Lock first, then check: an aggregate cannot be selected FOR UPDATE itself. The
    # account first, as the API's writes do: their foreign keys are checked only at
    # commit, so the traveller's row lock alone let a trip written meanwhile commit
    # against a purged registration (a 500) or the two transactions deadlock.
    if traveller.user_id is not None:
        account_lock(traveller.user_id, for_="write")
    if not registration_lock(traveller.pk, for_="removal"):
        return False  # erased meanwhile
    if expired_before is not None and not registration_expired(traveller_id=traveller.pk, before=expired_before):
        return False
    traveller_id, key_id = traveller.pk, traveller.data_key_id
    data_keys_shred([key_id])
    erase_rows_naming_travellers([traveller.pk])
    registration_delete(traveller=traveller)
    data_keys_delete([key_id])
    record_erasure(traveller_id=traveller_id, user_id=None, key_ids=[key_id], reason=reason)
    return True


def purge_expired(
    *,
    today: date | None = None,
    retention_days: int | None = None,
    batch_size: int = 500,
    within_seconds: float | None = None,
) -> tuple[int, bool]:
    """Purge registrations whose last trip ended (or, without trips, that last changed) before the period.

    Returns how many were purged and whether none is left. With ``within_seconds`` it
    stops once that time is spent (after at least one), so a queued run ends before
    the worker's timeout kills it; the task then queues the rest.
    """
    today = today or timezone.localdate()
    retention_days = settings.RETENTION_DAYS if retention_days is None else retention_days
    cutoff = today - timedelta(days=retention_days)
    deadline = None if within_seconds is None else time.monotonic() + within_seconds
    purged = 0
    skipped: set[uuid.UUID] = set()
    while True:
        batch = registrations_expired(before=cutoff, excluding=skipped, limit=batch_size)
        for index, traveller in enumerate(batch):
            if traveller_purge(traveller=traveller, reason="retention", expired_before=cutoff):
                purged += 1
            else:
                skipped.add(traveller.pk)
            if deadline is not None and time.monotonic() >= deadline:
                return purged, index == len(batch) - 1 and len(batch) < batch_size
        if len(batch) < batch_size:
            # The residences of registrations that stay (with other trips or residences).
            residences_purge_expired(before=cutoff)
            return purged, True
