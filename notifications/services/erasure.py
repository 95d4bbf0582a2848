"""A person's rows in notifications, erased with them (privacy.services.erasure)."""

from __future__ import annotations

import uuid

from django.db import connection, transaction

from notifications.channels import outboxes_forget, outboxes_in_use
from notifications.models import CheckIn, Delivery


def travellers_erase(*, traveller_ids: list[uuid.UUID]) -> None:
    """Every delivery to these travellers and every check-in of theirs, and they leave the campaigns' figures.

    By id, not through the register's cascade: deliveries have no database foreign key
    (notifications.models), and one written by a fan-out that committed after the
    erasure began is not reached by Django's collector. A campaign's recipients lose
    them too, so its figures still add up (safe + need help + no response = persons, and
    every recipient and person is someone still registered): their registration's
    recipients and the people its answers stood for leave the campaign. The audit entry
    of the launch keeps the numbers at launch. Development outbox files of their messages go as well, once it commits.
    """
    ids = [str(traveller_id) for traveller_id in traveller_ids]
    with connection.cursor() as cursor:
        # Their campaigns' rows first, in id order, as a crisis's close takes them: two
        # erasures, or an erasure and a close, sharing campaigns wait rather than deadlock.
        cursor.execute(
            """
            SELECT id FROM notifications_campaign WHERE id IN (
                SELECT DISTINCT campaign_id FROM notifications_delivery WHERE traveller_id = ANY(%s::uuid[])
            ) ORDER BY id FOR NO KEY UPDATE
            """,
            [ids],
        )
        cursor.execute(
            """
            UPDATE notifications_campaign AS campaign
            SET recipients = greatest(campaign.recipients - gone.recipients, 0),
                persons = greatest(campaign.persons - gone.persons, 0)
            FROM (
                SELECT campaign_id, count(DISTINCT (traveller_id, companion_id)) AS recipients,
                       sum(persons) AS persons
                FROM notifications_delivery
                WHERE traveller_id = ANY(%s::uuid[]) GROUP BY campaign_id
            ) AS gone
            WHERE campaign.id = gone.campaign_id
            """,
            [ids],
        )
    deliveries = Delivery.objects.filter(traveller_id__in=traveller_ids)
    if outboxes_in_use():  # development only
        # Once the erasure has committed: one undone (the ledger unwritable, a 503
        # saying nothing was erased) leaves the files too.
        gone = list(deliveries.values_list("id", flat=True))
        transaction.on_commit(lambda: outboxes_forget(gone))
    deliveries.delete()
    CheckIn.objects.filter(traveller_id__in=traveller_ids).delete()
