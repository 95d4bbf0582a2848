"""Sending, on the worker side: deliveries claimed in small groups, sent once, retried with backoff;
the minute-by-minute sweep re-queues what is due and what dead workers held."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone
from django_q.tasks import async_task

from consular.crypto import DecryptionError
from notifications import messages as templates
from notifications.channels import CHANNELS, SendError, delivery_key, outboxes_forget, outboxes_in_use
from notifications.models import Campaign, CampaignStatus, Delivery, DeliveryStatus
from notifications.selectors import campaign_deliveries
from registrations.models import Companion, Traveller
from registrations.selectors import companions_by_id, contact_of

log = logging.getLogger(__name__)
SEND_BATCH = "notifications.tasks.send_batch"


# Claims up to `limit` deliveries of a batch for this worker. SKIP LOCKED keeps two
# workers on the same batch (a redelivered task, a second cluster) off each other's
# rows; the lease hands the rows of a worker that died to the next one, and the
# attempt is counted at claim time, so a delivery that kills its worker ends dead.
CLAIM_SQL = """
UPDATE notifications_delivery d
SET status = 'sending', attempts = d.attempts + 1, lease_until = now() + make_interval(secs => %(lease)s)
WHERE d.id IN (
    SELECT id FROM notifications_delivery
    WHERE campaign_id = %(campaign_id)s AND id BETWEEN %(first)s AND %(last)s
      AND ((status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= now()))
           OR (status = 'sending' AND lease_until < now()))
    ORDER BY id
    FOR UPDATE SKIP LOCKED
    LIMIT %(limit)s
)
RETURNING d.id, d.traveller_id, d.companion_id, d.channel, d.attempts
"""


def batches_enqueue(campaign_id: uuid.UUID, first: int | None, last: int | None) -> int:
    # The fan-out inserted the campaign's deliveries in one statement, so their ids
    # form (nearly) one run [first, last]: cut it into id ranges without reading a
    # million rows. A range may also hold other campaigns' ids; send_batch only
    # claims its own. If this process dies half-way, the sweep queues them all again
    # (a batch queued twice sends nothing twice: deliveries are claimed, not batches).
    # One transaction: with the ORM broker, a thousand batches are one commit (not a
    # thousand WAL flushes) and are queued together with the mark, or not at all.
    batches = 0
    with transaction.atomic():
        if first is not None and last is not None:
            size = settings.DELIVERY_BATCH_SIZE
            for start in range(first, last + 1, size):
                # Ids only: the worker reads and decrypts what it needs at send time.
                async_task(SEND_BATCH, str(campaign_id), start, min(start + size - 1, last), q_options={"save": False})
                batches += 1
        Campaign.objects.filter(pk=campaign_id).update(batches_queued_at=timezone.now())
    return batches


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


def _finish(delivery_id: int, **fields: Any) -> int:
    # Only the claim holder (status still 'sending') records an outcome.
    return Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.SENDING).update(lease_until=None, **fields)


def deliver_one(
    *,
    campaign: Campaign,
    delivery_id: int,
    traveller: Traveller,
    channel_name: str,
    attempts: int,
    companion: Companion | None = None,
) -> str:
    """Send one claimed delivery (to the registrant, or to ``companion``); record and return its new status."""
    if attempts > settings.DELIVERY_MAX_ATTEMPTS:
        _finish(delivery_id, status=DeliveryStatus.DEAD, last_error="gave up after repeated attempts")
        return DeliveryStatus.DEAD
    # Consent is checked again at send time: it may have been withdrawn since the fan-out.
    if not (companion.contact_directly if companion is not None else traveller.consent_contact):
        _finish(delivery_id, status=DeliveryStatus.CANCELLED, last_error="consent to contact withdrawn")
        return DeliveryStatus.CANCELLED
    channel = CHANNELS[channel_name]
    try:
        contact = contact_of(traveller=traveller, companion=companion)
    except DecryptionError:
        # Never skipped silently: the delivery says why, the log says which (ids only).
        log.error("delivery %s: contact data cannot be decrypted", delivery_id)
        _finish(delivery_id, status=DeliveryStatus.FAILED, last_error="contact data cannot be decrypted")
        return DeliveryStatus.FAILED
    to = channel.address(contact)
    if not to:
        _finish(delivery_id, status=DeliveryStatus.FAILED, last_error="no address for this channel")
        return DeliveryStatus.FAILED
    template = templates.pick(campaign.messages, campaign.default_language, contact.language)
    token = templates.checkin_token(campaign.pk, traveller.pk, companion.pk if companion is not None else None)
    url = templates.checkin_url(token) if campaign.ask_checkin else ""
    name = contact.given_name or ""
    text = templates.render_within(template, given_name=name, checkin_url=url, limit=channel.max_length)
    try:
        provider_id = channel.send(
            to=to, subject=campaign.crisis.title, text=text, idempotency_key=delivery_key(delivery_id)
        )
    except SendError as error:
        if error.transient and attempts < settings.DELIVERY_MAX_ATTEMPTS:
            _finish(
                delivery_id,
                status=DeliveryStatus.PENDING,
                next_attempt_at=timezone.now() + _backoff(attempts),
                last_error=str(error)[:300],
            )
            return DeliveryStatus.PENDING
        status = DeliveryStatus.DEAD if error.transient else DeliveryStatus.FAILED
        _finish(delivery_id, status=status, last_error=str(error)[:300])
        return status
    except Exception as error:
        # An error the channel did not expect may quote the address or the text in its
        # message (Django's BadHeaderError does). Left to propagate, django-q2 would
        # store that message with the failed task and log it, and end the batch: record
        # the type only, fail this delivery, go on with the others.
        log.error("delivery %s: unexpected %s from the %s channel", delivery_id, type(error).__name__, channel_name)
        _finish(delivery_id, status=DeliveryStatus.FAILED, last_error=f"unexpected error ({type(error).__name__})")
        return DeliveryStatus.FAILED
    recorded = _finish(delivery_id, status=DeliveryStatus.SENT, provider_message_id=provider_id, sent_at=timezone.now())
    if not recorded and outboxes_in_use() and not Delivery.objects.filter(pk=delivery_id).exists():
        # The traveller was erased while the message was on its way: the erasure removed
        # the outbox files it knew of, and this one was written after it.
        outboxes_forget([delivery_id])
    return DeliveryStatus.SENT


def _unclaim(delivery_ids: list[int]) -> None:
    """Give back claimed, unsent deliveries: pending again, and the attempt counted at claim undone."""
    Delivery.objects.filter(pk__in=delivery_ids, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.PENDING, attempts=F("attempts") - 1, lease_until=None
    )


def claim(
    *, campaign_id: str, first: int, last: int, limit: int
) -> list[tuple[int, uuid.UUID, uuid.UUID | None, str, int]]:
    """(delivery id, traveller id, companion id or None, channel, attempts) of each delivery claimed."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            CLAIM_SQL,
            {
                "campaign_id": campaign_id,
                "first": first,
                "last": last,
                "limit": limit,
                "lease": settings.DELIVERY_LEASE_SECONDS,
            },
        )
        return cursor.fetchall()


def send_batch(*, campaign_id: str, first: int, last: int) -> int:
    """Send the claimable deliveries with ids in [first, last]; returns how many were sent."""
    campaign = Campaign.objects.select_related("crisis").filter(pk=campaign_id).first()
    if campaign is None:
        return 0
    deadline = time.monotonic() + settings.DELIVERY_TASK_BUDGET_SECONDS
    sent = 0
    while time.monotonic() < deadline:
        claimed = claim(campaign_id=campaign_id, first=first, last=last, limit=settings.DELIVERY_CLAIM_SIZE)
        if not claimed:
            break
        if Campaign.objects.filter(pk=campaign_id, status=CampaignStatus.CLOSED).exists():
            # Closed (or its crisis closed) since the batch began: nothing more goes out.
            Delivery.objects.filter(pk__in=[row[0] for row in claimed], status=DeliveryStatus.SENDING).update(
                status=DeliveryStatus.CANCELLED, lease_until=None, last_error="campaign closed before sending"
            )
            continue
        travellers = Traveller.objects.select_related("data_key").in_bulk([row[1] for row in claimed])
        companions = companions_by_id([row[2] for row in claimed if row[2] is not None])
        for position, (delivery_id, traveller_id, companion_id, channel_name, attempts) in enumerate(claimed):
            if time.monotonic() >= deadline:
                # Slow sends (each up to its channel's timeout) must not carry a task past
                # django-q2's timeout, which kills it mid-send: hand the rest back.
                _unclaim([row[0] for row in claimed[position:]])
                break
            traveller = travellers.get(traveller_id)
            if traveller is None:
                # Erased: normally the delivery went with them, but a fan-out that read
                # the traveller before the erasure and committed after it left this row,
                # claimed again at every lease expiry. It goes now, and with its last
                # delivery the person leaves the campaign's recipients, as the erasure does.
                orphan_delete(
                    campaign_id=campaign.pk, delivery_id=delivery_id, traveller_id=traveller_id,
                    companion_id=companion_id,
                )  # fmt: skip
                continue
            companion = companions.get(companion_id) if companion_id is not None else None
            if companion_id is not None and companion is None:
                # Removed from the registration since the fan-out: not messaged, still counted
                # among the campaign's people (without an answer) as they were at launch.
                _finish(delivery_id, status=DeliveryStatus.CANCELLED, last_error="companion removed from the register")
                continue
            outcome = deliver_one(
                campaign=campaign, delivery_id=delivery_id, traveller=traveller, channel_name=channel_name,
                attempts=attempts, companion=companion,
            )  # fmt: skip
            sent += outcome == DeliveryStatus.SENT
    else:
        # Out of time budget (well inside django-q2's timeout): continue in a fresh task.
        async_task(SEND_BATCH, campaign_id, first, last, q_options={"save": False})
    _mark_done_if_finished(campaign, after=last)
    return sent


@transaction.atomic
def orphan_delete(
    *, campaign_id: uuid.UUID, delivery_id: int, traveller_id: uuid.UUID, companion_id: uuid.UUID | None = None
) -> None:
    """Remove a delivery to a person of an erased registration; with their last one they leave the recipients,
    and the people their answer stood for leave the campaign's people."""
    # The campaign's row first, as an erasure takes it: two workers removing the same
    # person's two deliveries (email, SMS) decide one after the other which was the last.
    campaign = Campaign.objects.select_for_update(no_key=True).filter(pk=campaign_id).first()
    orphan = Delivery.objects.filter(pk=delivery_id).values_list("persons", flat=True).first()
    if orphan is None or campaign is None:
        return
    Delivery.objects.filter(pk=delivery_id).delete()
    remaining = Delivery.objects.filter(campaign_id=campaign_id, traveller_id=traveller_id, companion_id=companion_id)
    Campaign.objects.filter(pk=campaign_id).update(
        recipients=Greatest(F("recipients") - (0 if remaining.exists() else 1), 0),
        persons=Greatest(F("persons") - orphan, 0),
    )
    if outboxes_in_use():
        transaction.on_commit(lambda: outboxes_forget([delivery_id]))


def _mark_done_if_finished(campaign: Campaign, *, after: int) -> None:
    # Batches run roughly in id order, so an unfinished delivery is usually just past the
    # batch that ended: look there first, and only then from the campaign's start. Each
    # look is a primary-key range scan that stops at the first unfinished row.
    if campaign.first_delivery_id is None or campaign.last_delivery_id is None:
        return
    unfinished = campaign_deliveries(campaign).filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING])
    start, end = campaign.first_delivery_id, campaign.last_delivery_id
    ahead = min(max(after, start - 1), end)
    if unfinished.filter(id__range=(ahead + 1, end)).exists() or unfinished.filter(id__range=(start, ahead)).exists():
        return
    Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.QUEUED).update(status=CampaignStatus.DONE)


SWEEP_SQL = """
SELECT campaign_id, min(id), max(id) FROM (
    SELECT campaign_id, id, (row_number() OVER (PARTITION BY campaign_id ORDER BY id) - 1) / %(size)s AS batch
    FROM notifications_delivery
    WHERE (status = 'pending' AND next_attempt_at <= now())
       OR (status = 'sending' AND lease_until < now())
) due GROUP BY campaign_id, batch
"""


# Long enough for the launching request to have queued every batch itself.
INTERRUPTED_LAUNCH_AFTER = timedelta(minutes=5)


def deliveries_sweep() -> int:
    """Queue the retries that are due, the deliveries of workers that died, and the batches of
    launches interrupted before they were all queued (run every minute); returns batches queued."""
    with connection.cursor() as cursor:
        cursor.execute(SWEEP_SQL, {"size": settings.DELIVERY_BATCH_SIZE})
        due = cursor.fetchall()
    for campaign_id, first, last in due:
        async_task(SEND_BATCH, str(campaign_id), first, last, q_options={"save": False})
    queued = len(due)
    interrupted = Campaign.objects.filter(
        status=CampaignStatus.QUEUED,
        batches_queued_at__isnull=True,
        created_at__lt=timezone.now() - INTERRUPTED_LAUNCH_AFTER,
    ).values_list("pk", "first_delivery_id", "last_delivery_id")
    for campaign_id, first, last in interrupted:
        log.warning("campaign %s: launch interrupted before its batches were queued; queueing them", campaign_id)
        queued += batches_enqueue(campaign_id, first, last)
    return queued
