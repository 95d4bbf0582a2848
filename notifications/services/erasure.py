"""A person's rows in notifications, erased with them (privacy.services.erasure)."""

from __future__ import annotations

import uuid

from notifications.models import CheckIn, Delivery


def travellers_erase(*, traveller_ids: list[uuid.UUID]) -> None:
    """Every delivery to these travellers and every check-in of theirs.

    By id, not through the register's cascade: deliveries have no database foreign key
    (notifications.models), and one written by a fan-out that committed after the
    erasure began is not reached by Django's collector.
    """
    Delivery.objects.filter(traveller_id__in=traveller_ids).delete()
    CheckIn.objects.filter(traveller_id__in=traveller_ids).delete()
