from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Count, F, Q, QuerySet

from accounts.models import Role, User
from consular.crypto import Cipher, unseal
from crises.models import Crisis
from crises.selectors import crises_visible_to
from crises.suppression import flattened, suppress_total, suppress_under
from notifications.models import Campaign, CheckIn, Delivery, DeliveryStatus


def campaigns_visible_to(*, user: User) -> QuerySet[Campaign]:
    """A post's staff see the campaigns their post launched; admins every campaign.

    A crisis shared by two posts does not share their campaigns: each reaches its own
    jurisdiction's travellers, and its counts are that post's business.
    """
    campaigns = Campaign.objects.filter(crisis__in=crises_visible_to(user=user))
    if user.role == Role.ADMIN:
        return campaigns
    return campaigns.filter(created_by__post_id=user.post_id) if user.post_id else campaigns.none()


def campaign_for(*, user: User, campaign_id: uuid.UUID) -> Campaign | None:
    return campaigns_visible_to(user=user).filter(pk=campaign_id).first()


def campaign_deliveries(campaign: Campaign) -> QuerySet[Delivery]:
    """The campaign's deliveries, found through the id range its fan-out wrote (the primary key)."""
    if campaign.first_delivery_id is None or campaign.last_delivery_id is None:
        return Delivery.objects.none()
    return Delivery.objects.filter(
        id__range=(campaign.first_delivery_id, campaign.last_delivery_id), campaign_id=campaign.pk
    )


def campaign_progress(campaign: Campaign, *, suppress_below: int | None = None) -> dict:
    """Delivery and check-in counts; with ``suppress_below`` (analysts) small counts hidden as in `affected`."""
    progress = _campaign_counts(campaign)
    return progress if suppress_below is None else _suppressed(progress, suppress_below)


def _suppressed(progress: dict, k: int) -> dict:
    recipients = suppress_total(progress["recipients"], k)
    persons = suppress_total(progress["persons"], k)
    statuses = ("queued", "sent", "failed", "dead", "cancelled")
    cells = suppress_under({name: progress[name] for name in statuses}, k, total_hidden=recipients.suppressed)
    out = {**progress, **flattened({"recipients": recipients, "persons": persons, **cells})}
    if progress["checkins"] is not None:
        # The answers break down the people whose answer is awaited.
        answers = suppress_under(progress["checkins"], k, total_hidden=persons.suppressed)
        out["checkins"] = flattened(answers)
    return out


def _campaign_counts(campaign: Campaign) -> dict:
    counts = campaign_deliveries(campaign).aggregate(
        queued=Count("id", filter=Q(status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING])),
        sent=Count("id", filter=Q(status=DeliveryStatus.SENT)),
        failed=Count("id", filter=Q(status=DeliveryStatus.FAILED)),
        dead=Count("id", filter=Q(status=DeliveryStatus.DEAD)),
        cancelled=Count("id", filter=Q(status=DeliveryStatus.CANCELLED)),
    )
    answers = dict(CheckIn.objects.filter(campaign=campaign).values_list("status").annotate(n=Count("id")))
    safe, need_help = answers.get("safe", 0), answers.get("need_help", 0)
    checkins = (
        {"safe": safe, "need_help": need_help, "no_response": max(0, campaign.persons - safe - need_help)}
        if campaign.ask_checkin
        else None
    )
    return {"id": str(campaign.pk), "status": campaign.status, "recipients": campaign.recipients,
            "persons": campaign.persons, **counts, "checkins": checkins}  # fmt: skip


# Only the campaigns of the caller's post (all of them for an admin: %(post)s NULL),
# as campaigns_visible_to: another post's check-ins are not this post's counts. The
# people asked are those each campaign counted (Delivery.persons, Delivery.covers),
# each person once over the campaigns, with their latest answer.
CRISIS_CHECKINS_SQL = """
WITH campaigns AS (
    SELECT c.id, c.first_delivery_id, c.last_delivery_id, c.ask_checkin
    FROM notifications_campaign c JOIN accounts_user u ON u.id = c.created_by_id
    WHERE c.crisis_id = %(crisis)s AND (%(post)s::uuid IS NULL OR u.post_id = %(post)s::uuid)
), asked AS (
    SELECT DISTINCT d.traveller_id, coalesce(who.companion_id, %(registrant)s::uuid) AS person
    FROM campaigns c
    JOIN notifications_delivery d
      ON d.id BETWEEN c.first_delivery_id AND c.last_delivery_id AND d.campaign_id = c.id
    CROSS JOIN LATERAL (SELECT d.companion_id UNION ALL SELECT unnest(d.covers)) AS who(companion_id)
    WHERE c.ask_checkin AND d.persons > 0
), latest AS (
    SELECT DISTINCT ON (ci.traveller_id, person) ci.traveller_id,
           coalesce(ci.companion_id, %(registrant)s::uuid) AS person, ci.status
    FROM notifications_checkin ci JOIN campaigns c ON c.id = ci.campaign_id
    ORDER BY ci.traveller_id, person, ci.updated_at DESC
)
SELECT coalesce(l.status, 'no_response'), count(*) FROM asked a LEFT JOIN latest l USING (traveller_id, person)
GROUP BY 1
"""
# Stands for the registrant (companion_id NULL) where a join needs a value: no companion has it.
REGISTRANT = uuid.UUID(int=0)


def crisis_checkins(*, crisis: Crisis, user: User) -> dict[str, int] | None:
    """Latest answer of every traveller the caller's post asked to check in about this crisis.

    None if nobody was asked.
    """
    post = None if user.role == Role.ADMIN else user.post_id
    with connection.cursor() as cursor:
        cursor.execute(CRISIS_CHECKINS_SQL, {"crisis": crisis.pk, "post": post, "registrant": REGISTRANT})
        rows = dict(cursor.fetchall())
    if not rows:
        return None
    return {
        "safe": rows.get("safe", 0),
        "need_help": rows.get("need_help", 0),
        "no_response": rows.get("no_response", 0),
    }


def latest_checkins(crisis: Crisis, traveller_ids: list[uuid.UUID]) -> dict[tuple[uuid.UUID, uuid.UUID | None], str]:
    """Each person's latest answer about the crisis, over all its campaigns (a reveal shows it), by
    (registration, companion or None for the registrant)."""
    answers = (
        CheckIn.objects.filter(campaign__crisis=crisis, traveller_id__in=traveller_ids)
        .order_by("traveller_id", "companion_id", "-updated_at")
        .distinct("traveller_id", "companion_id")
        .values_list("traveller_id", "companion_id", "status")
    )
    return {(traveller_id, companion_id): status for traveller_id, companion_id, status in answers}


# --- A person's own rows, for their export (privacy.services.export) --------------------


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def traveller_checkins(*, traveller_id: uuid.UUID, cipher: Cipher) -> list[dict[str, Any]]:
    """The traveller's own answers to "are you safe?", message decrypted (a failed decrypt raises)."""
    checkins = (
        CheckIn.objects.filter(traveller_id=traveller_id)
        # Only the crisis's id and title: select_related would load its whole area.
        .annotate(crisis_id=F("campaign__crisis_id"), crisis_title=F("campaign__crisis__title"))
        .order_by("updated_at", "id")
    )
    return [
        {
            "campaign_id": str(checkin.campaign_id),
            "crisis": {"id": str(checkin.crisis_id), "title": checkin.crisis_title},
            "companion": str(checkin.companion_id) if checkin.companion_id else None,
            "status": checkin.status,
            "message": unseal(cipher, checkin, "message"),
            # A check-in keeps only the time of its latest answer (no creation time is stored).
            "updated_at": checkin.updated_at.isoformat(),
        }
        for checkin in checkins
    ]


def traveller_deliveries(*, traveller_id: uuid.UUID) -> list[dict[str, Any]]:
    """What was sent to the traveller: outcomes only, as stored (no text, no address, no retry bookkeeping)."""
    deliveries = (
        Delivery.objects.filter(traveller_id=traveller_id)  # the (traveller, campaign, channel) index
        .order_by("id")
        .values(
            "campaign_id",
            "companion_id",
            "channel",
            "status",
            "attempts",
            "provider_message_id",
            "sent_at",
            crisis_id=F("campaign__crisis_id"),
            crisis_title=F("campaign__crisis__title"),
            # The fan-out writes a campaign's deliveries in the campaign's own transaction,
            # so the campaign's creation time is when each delivery was created.
            created_at=F("campaign__created_at"),
        )
    )
    return [
        {
            "campaign_id": str(row["campaign_id"]),
            "crisis": {"id": str(row["crisis_id"]), "title": row["crisis_title"]},
            "companion": str(row["companion_id"]) if row["companion_id"] else None,
            "channel": row["channel"],
            "status": row["status"],
            "attempts": row["attempts"],
            # The provider's reference for the message sent to the caller: theirs to quote
            # to the provider, and no credential.
            "provider_message_id": row["provider_message_id"] or None,
            "created_at": row["created_at"].isoformat(),
            "sent_at": _iso(row["sent_at"]),
        }
        for row in deliveries
    ]
