from __future__ import annotations

import uuid

from django.db import connection
from django.db.models import Count, Q, QuerySet

from accounts.models import User
from crises.models import Crisis
from crises.selectors import crises_visible_to
from notifications.models import Campaign, CheckIn, Delivery, DeliveryStatus


def campaign_for(*, user: User, campaign_id: uuid.UUID) -> Campaign | None:
    return Campaign.objects.filter(pk=campaign_id, crisis__in=crises_visible_to(user=user)).first()


def campaign_deliveries(campaign: Campaign) -> QuerySet[Delivery]:
    """The campaign's deliveries, found through the id range its fan-out wrote (the primary key)."""
    if campaign.first_delivery_id is None or campaign.last_delivery_id is None:
        return Delivery.objects.none()
    return Delivery.objects.filter(
        id__range=(campaign.first_delivery_id, campaign.last_delivery_id), campaign_id=campaign.pk
    )


def campaign_progress(campaign: Campaign) -> dict:
    counts = campaign_deliveries(campaign).aggregate(
        queued=Count("id", filter=Q(status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING])),
        sent=Count("id", filter=Q(status=DeliveryStatus.SENT)),
        failed=Count("id", filter=Q(status=DeliveryStatus.FAILED)),
        dead=Count("id", filter=Q(status=DeliveryStatus.DEAD)),
    )
    answers = dict(CheckIn.objects.filter(campaign=campaign).values_list("status").annotate(n=Count("id")))
    safe, need_help = answers.get("safe", 0), answers.get("need_help", 0)
    checkins = (
        {"safe": safe, "need_help": need_help, "no_response": max(0, campaign.recipients - safe - need_help)}
        if campaign.ask_checkin
        else None
    )
    return {"id": str(campaign.pk), "status": campaign.status, "recipients": campaign.recipients, **counts,
            "checkins": checkins}  # fmt: skip


CRISIS_CHECKINS_SQL = """
WITH asked AS (
    SELECT DISTINCT d.traveller_id FROM notifications_campaign c
    JOIN notifications_delivery d
      ON d.id BETWEEN c.first_delivery_id AND c.last_delivery_id AND d.campaign_id = c.id
    WHERE c.crisis_id = %(crisis)s AND c.ask_checkin
), latest AS (
    SELECT DISTINCT ON (ci.traveller_id) ci.traveller_id, ci.status
    FROM notifications_checkin ci JOIN notifications_campaign c ON c.id = ci.campaign_id
    WHERE c.crisis_id = %(crisis)s
    ORDER BY ci.traveller_id, ci.updated_at DESC
)
SELECT coalesce(l.status, 'no_response'), count(*) FROM asked a LEFT JOIN latest l USING (traveller_id) GROUP BY 1
"""


def crisis_checkins(crisis: Crisis) -> dict[str, int] | None:
    """Latest answer of every traveller asked to check in about this crisis; None if nobody was asked."""
    with connection.cursor() as cursor:
        cursor.execute(CRISIS_CHECKINS_SQL, {"crisis": crisis.pk})
        rows = dict(cursor.fetchall())
    if not rows:
        return None
    return {
        "safe": rows.get("safe", 0),
        "need_help": rows.get("need_help", 0),
        "no_response": rows.get("no_response", 0),
    }


def latest_checkins(*, crisis: Crisis, traveller_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    answers = (
        CheckIn.objects.filter(campaign__crisis=crisis, traveller_id__in=traveller_ids)
        .order_by("traveller_id", "-updated_at")
        .distinct("traveller_id")
        .values_list("traveller_id", "status")
    )
    return dict(answers)
