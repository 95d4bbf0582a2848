"""A registration as a whole: locked and deleted for the privacy app's erasure and retention purge.

The privacy app decides when a person goes and in which order every app's rows go
(privacy.services.erasure); this module does the register's part of it.
"""

from __future__ import annotations

import uuid
from typing import Literal

from django.db import connection

from registrations.models import Traveller

_REGISTRATION_LOCKS = {
    # The erasure or purge of the registration: everything else on it waits.
    "removal": "SELECT 1 FROM registrations_traveller WHERE id = %s FOR UPDATE",
    # A check-in answer: the registration's removal waits for it (or has happened, and
    # the answer finds nothing), and answers of one person apply one after the other.
    "answer": "SELECT 1 FROM registrations_traveller WHERE id = %s FOR NO KEY UPDATE",
}


def registration_lock(traveller_id: uuid.UUID, *, for_: Literal["removal", "answer"]) -> bool:
    """Lock a registration's row until the transaction ends; False if it is gone.

    Taken after the account's lock (accounts.services.account_lock) by every writer
    that takes both, so two of them never wait for each other the other way round.
    """
    with connection.cursor() as cursor:
        cursor.execute(_REGISTRATION_LOCKS[for_], [traveller_id])
        return cursor.fetchone() is not None


def registration_delete(*, traveller: Traveller) -> None:
    """The registration with its trips and stays (its data key is the caller's to shred and delete)."""
    traveller.delete()


def registrations_delete(*, traveller_ids: list[uuid.UUID]) -> int:
    return Traveller.objects.filter(pk__in=traveller_ids).delete()[1].get("registrations.Traveller", 0)
