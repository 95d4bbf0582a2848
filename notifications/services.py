"""Campaigns: counts first, fan-out in the database, sending by workers, check-ins."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django_q.tasks import async_task

from accounts.models import User
from consular.audit import audit_record
from consular.crypto import DecryptionError, seal, unseal
from consular.errors import DomainError
from crises.models import Crisis, Status
from crises.selectors import AFFECTED_IDS_CTE, affected_parameters
from notifications import messages as templates
from notifications.channels import CHANNELS, Contact, SendError
from notifications.models import (
    Campaign,
    CampaignStatus,
    CheckIn,
    CheckInStatus,
    Delivery,
    DeliveryStatus,
)
from notifications.selectors import campaign_deliveries
from registrations.models import Traveller

log = logging.getLogger(__name__)
SEND_BATCH = "notifications.tasks.send_batch"

DRY_RUN_SQL = (
    AFFECTED_IDS_CTE  # noqa: S608 - module constants only, no outside text
    + """
SELECT t.language, t.consent_contact, t.email_enc IS NOT NULL, t.phone_enc IS NOT NULL, count(*)
FROM (SELECT traveller_id FROM located UNION ALL SELECT traveller_id FROM country_only) a
JOIN registrations_traveller t ON t.id = a.traveller_id
GROUP BY 1, 2, 3, 4
"""
)

# The whole fan-out is one statement: the join feeds the inserts, no row passes through Python.
# No ON CONFLICT: the campaign is new in this transaction and its rows are distinct
# (located and country-only travellers are disjoint sets; channels are deduplicated),
# so the unique constraint can only fail on a bug, loudly. A speculative insert would
# have cost a second index descent a row.
# In traveller order, so that the traveller-first unique index fills page after page.
FAN_OUT_SQL = (
    AFFECTED_IDS_CTE  # noqa: S608 - module constants only, no outside text
    + """
, inserted AS (
INSERT INTO notifications_delivery
    (campaign_id, traveller_id, channel, status, attempts, provider_message_id, last_error)
SELECT %(campaign_id)s, t.id, ch.channel, 'pending', 0, '', ''
FROM (SELECT traveller_id FROM located UNION ALL SELECT traveller_id FROM country_only) a
JOIN registrations_traveller t ON t.id = a.traveller_id AND t.consent_contact
CROSS JOIN unnest(%(channels)s::text[]) AS ch(channel)
WHERE (ch.channel = 'email' AND t.email_enc IS NOT NULL) OR (ch.channel = 'sms' AND t.phone_enc IS NOT NULL)
ORDER BY t.id
RETURNING id, traveller_id
)
SELECT count(DISTINCT traveller_id), min(id), max(id) FROM inserted
"""
)


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
RETURNING d.id, d.traveller_id, d.channel, d.attempts
"""


@dataclass(frozen=True)
class DryRun:
    recipients: int
    by_channel: dict[str, int]
    by_language: dict[str, int]
    without_consent: int


@dataclass(frozen=True)
class CampaignRequest:
    messages: dict[str, str]
    default_language: str
    channels: list[str]
    ask_checkin: bool
    include_country_only: bool


def campaign_validate(data: dict[str, Any], *, crisis: Crisis) -> CampaignRequest:
    if crisis.status != Status.ACTIVE:
        raise DomainError("conflict", f"Campaigns go to active crises; this one is {crisis.status}.", status=409)
    channels = data["channels"]
    if not channels:
        raise DomainError("invalid", "Invalid input.", fields={"channels": ["Choose at least one channel."]})
    for name in channels:
        if not CHANNELS[name].configured():
            raise DomainError(
                "invalid", "Invalid input.", fields={"channels": [f"The {name} channel is not configured."]}
            )
    messages, default = templates.validate_messages(
        data["messages"], data["default_language"], ask_checkin=data["ask_checkin"]
    )
    limits = [CHANNELS[name].max_length for name in channels if CHANNELS[name].max_length]
    if limits:
        sample = checkin_url(templates.checkin_token(uuid.uuid4(), uuid.uuid4()))
        templates.check_length(messages, limit=min(limits), sample_url=sample)
    return CampaignRequest(
        messages=messages,
        default_language=default,
        channels=sorted(set(channels)),
        ask_checkin=data["ask_checkin"],
        include_country_only=data["include_country_only"],
    )


def campaign_dry_run(*, crisis: Crisis, user: User, request: CampaignRequest) -> DryRun:
    by_channel = dict.fromkeys(request.channels, 0)
    by_language: dict[str, int] = {}
    recipients = without_consent = 0
    params = affected_parameters(crisis, user, include_country_only=request.include_country_only)
    with connection.cursor() as cursor:
        cursor.execute(DRY_RUN_SQL, params)
        for language, consent, has_email, has_phone, count in cursor.fetchall():
            if not consent:
                without_consent += count
                continue
            reachable = [c for c in request.channels if (c == "email" and has_email) or (c == "sms" and has_phone)]
            if not reachable:
                continue
            recipients += count
            by_language[language] = by_language.get(language, 0) + count
            for channel in reachable:
                by_channel[channel] += count
    return DryRun(recipients, by_channel, by_language, without_consent)


def checkin_url(token: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}/checkin/{token}"


def _enqueue_batches(campaign_id: uuid.UUID, first: int | None, last: int | None) -> int:
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


def _same_crisis(campaign: Campaign, crisis: Crisis) -> Campaign:
    # A key names one launch: reused for another crisis it is a client's mistake,
    # and answering with the first crisis's campaign would hide that.
    if campaign.crisis_id != crisis.pk:
        raise DomainError("conflict", "This Idempotency-Key was already used for another crisis.", status=409)
    return campaign


@transaction.atomic
def campaign_launch(*, crisis: Crisis, user: User, request: CampaignRequest, idempotency_key: str = "") -> Campaign:
    """Create the campaign and all its deliveries in one transaction; batches are queued after commit."""
    if idempotency_key:
        existing = Campaign.objects.filter(created_by=user, idempotency_key=idempotency_key).first()
        if existing is not None:
            return _same_crisis(existing, crisis)
    with connection.cursor() as cursor:
        # Shared lock, against the crisis's close (FOR UPDATE): a launch that checked the
        # status before a close committed would otherwise create a campaign the close
        # never saw. Launches do not wait for each other.
        cursor.execute("SELECT status FROM crises_crisis WHERE id = %s FOR SHARE", [crisis.pk])
        row = cursor.fetchone()
    if row is None or row[0] != Status.ACTIVE:
        raise DomainError("conflict", "Campaigns go to active crises; this one is not active any more.", status=409)
    campaign = Campaign(
        crisis=crisis,
        created_by=user,
        messages=request.messages,
        default_language=request.default_language,
        channels=request.channels,
        ask_checkin=request.ask_checkin,
        include_country_only=request.include_country_only,
        idempotency_key=idempotency_key,
    )
    try:
        with transaction.atomic():
            campaign.save(force_insert=True)
    except IntegrityError:
        # The same key raced in from a retried request: answer with the first campaign.
        return _same_crisis(Campaign.objects.get(created_by=user, idempotency_key=idempotency_key), crisis)
    params = affected_parameters(crisis, user, include_country_only=request.include_country_only)
    with connection.cursor() as cursor:
        # Room to sort a million affected travellers in memory rather than on disk, for this transaction only.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(FAN_OUT_SQL, {**params, "campaign_id": campaign.pk, "channels": request.channels})
        campaign.recipients, campaign.first_delivery_id, campaign.last_delivery_id = cursor.fetchone()
    if campaign.recipients == 0:
        campaign.status = CampaignStatus.DONE
    campaign.save(update_fields=["recipients", "status", "first_delivery_id", "last_delivery_id"])
    audit_record(
        actor=user,
        action="campaign.launch",
        object_type="campaign",
        object_id=campaign.pk,
        details={"crisis": str(crisis.pk), "recipients": campaign.recipients, "channels": request.channels},
    )
    transaction.on_commit(lambda: _enqueue_batches(campaign.pk, campaign.first_delivery_id, campaign.last_delivery_id))
    return campaign


@transaction.atomic
def campaign_close(*, campaign: Campaign, user: User) -> Campaign:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status == CampaignStatus.CLOSED:
        raise DomainError("conflict", "The campaign is already closed.", status=409)
    _close(campaign)
    audit_record(actor=user, action="campaign.close", object_type="campaign", object_id=campaign.pk)
    return campaign


def _close(campaign: Campaign) -> None:
    """Closed: check-ins end, and what has not been sent yet is not sent.

    A message still carrying a check-in link that already answers 410 helps no one.
    Deliveries a worker holds right now finish as they go; any it claims later for a
    closed campaign it cancels (send_batch).
    """
    campaign.status = CampaignStatus.CLOSED
    campaign.closed_at = timezone.now()
    campaign.save(update_fields=["status", "closed_at"])
    campaign_deliveries(campaign).filter(status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.CANCELLED, last_error="campaign closed before sending"
    )


def campaigns_close_for_crisis(*, crisis: Crisis) -> list[str]:
    """Close the crisis's open campaigns (the crisis is closing); returns their ids."""
    closed = []
    for campaign in Campaign.objects.select_for_update().filter(crisis=crisis).exclude(status=CampaignStatus.CLOSED):
        _close(campaign)
        closed.append(str(campaign.pk))
    return closed


# --- Sending (worker side) -----------------------------------------------------------


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


def _contact(traveller: Traveller) -> Contact:
    cipher = traveller.data_key.cipher()
    return Contact(
        given_name=unseal(cipher, traveller, "given_name") or "",
        phone=unseal(cipher, traveller, "phone"),
        email=unseal(cipher, traveller, "email"),
        language=traveller.language,
    )


def _finish(delivery_id: int, **fields: Any) -> None:
    # Only the claim holder (status still 'sending') records an outcome.
    Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.SENDING).update(lease_until=None, **fields)


def deliver_one(*, campaign: Campaign, delivery_id: int, traveller: Traveller, channel_name: str, attempts: int) -> str:
    """Send one claimed delivery and record its outcome; returns the new status."""
    if attempts > settings.DELIVERY_MAX_ATTEMPTS:
        _finish(delivery_id, status=DeliveryStatus.DEAD, last_error="gave up after repeated attempts")
        return DeliveryStatus.DEAD
    if not traveller.consent_contact:
        # Consent is checked again at send time: it may have been withdrawn since the fan-out.
        _finish(delivery_id, status=DeliveryStatus.CANCELLED, last_error="consent to contact withdrawn")
        return DeliveryStatus.CANCELLED
    channel = CHANNELS[channel_name]
    try:
        contact = _contact(traveller)
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
    url = checkin_url(templates.checkin_token(campaign.pk, traveller.pk)) if campaign.ask_checkin else ""
    text = templates.render_within(template, given_name=contact.given_name, checkin_url=url, limit=channel.max_length)
    try:
        provider_id = channel.send(
            to=to, subject=campaign.crisis.title, text=text, idempotency_key=f"delivery-{delivery_id}"
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
    _finish(delivery_id, status=DeliveryStatus.SENT, provider_message_id=provider_id, sent_at=timezone.now())
    return DeliveryStatus.SENT


def _unclaim(delivery_ids: list[int]) -> None:
    """Give back claimed, unsent deliveries: pending again, and the attempt counted at claim undone."""
    Delivery.objects.filter(pk__in=delivery_ids, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.PENDING, attempts=F("attempts") - 1, lease_until=None
    )


def claim(*, campaign_id: str, first: int, last: int, limit: int) -> list[tuple[int, uuid.UUID, str, int]]:
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
        for position, (delivery_id, traveller_id, channel_name, attempts) in enumerate(claimed):
            if time.monotonic() >= deadline:
                # Slow sends (each up to its channel's timeout) must not carry a task past
                # django-q2's timeout, which kills it mid-send: hand the rest back.
                _unclaim([row[0] for row in claimed[position:]])
                break
            traveller = travellers.get(traveller_id)
            if traveller is None:
                # Erased: normally the delivery went with them, but a fan-out that read
                # the traveller before the erasure and committed after it left this row,
                # claimed again at every lease expiry. It goes now.
                Delivery.objects.filter(pk=delivery_id).delete()
                continue
            outcome = deliver_one(
                campaign=campaign, delivery_id=delivery_id, traveller=traveller, channel_name=channel_name,
                attempts=attempts,
            )  # fmt: skip
            sent += outcome == DeliveryStatus.SENT
    else:
        # Out of time budget (well inside django-q2's timeout): continue in a fresh task.
        async_task(SEND_BATCH, campaign_id, first, last, q_options={"save": False})
    _mark_done_if_finished(campaign, after=last)
    return sent


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
        queued += _enqueue_batches(campaign_id, first, last)
    return queued


# --- Check-ins -----------------------------------------------------------------------


class CheckInGone(DomainError):
    def __init__(self, message: str) -> None:
        super().__init__("gone", message, status=410)


def checkin_context(token: str) -> tuple[Campaign, Traveller]:
    """The campaign and traveller behind a check-in token: 404 when forged, 410 when expired or closed."""
    try:
        campaign_id, traveller_id = templates.read_checkin_token(
            token, max_age_seconds=settings.CHECKIN_TOKEN_MAX_AGE_SECONDS
        )
    except signing.SignatureExpired as exc:
        raise CheckInGone("This check-in link has expired.") from exc
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise DomainError("not_found", "Not found.", status=404) from exc
    campaign = Campaign.objects.select_related("crisis").filter(pk=campaign_id, ask_checkin=True).first()
    traveller = Traveller.objects.select_related("data_key").filter(pk=traveller_id).first()
    if campaign is None or traveller is None:
        raise DomainError("not_found", "Not found.", status=404)
    if campaign.status == CampaignStatus.CLOSED:
        raise CheckInGone("Check-ins for this message are closed.")
    return campaign, traveller


def current_checkin(campaign: Campaign, traveller: Traveller) -> CheckIn | None:
    return CheckIn.objects.filter(campaign=campaign, traveller=traveller).first()


@transaction.atomic
def checkin_record(*, token: str, status: str, message: str | None) -> CheckIn:
    campaign, traveller = checkin_context(token)
    if status not in CheckInStatus.values:
        raise DomainError("invalid", "Invalid input.", fields={"status": ["Either safe or need_help."]})
    if message is not None and (not isinstance(message, str) or len(message) > 500):
        raise DomainError("invalid", "Invalid input.", fields={"message": ["At most 500 characters."]})
    # The erasure or purge of this traveller (which deletes the row) waits for this
    # answer, or has removed the traveller already: then the link leads nowhere. And
    # a close of the campaign (FOR UPDATE) either waits for it or is seen here.
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM registrations_traveller WHERE id = %s FOR NO KEY UPDATE", [traveller.pk])
        if cursor.fetchone() is None:
            raise DomainError("not_found", "Not found.", status=404)
        cursor.execute("SELECT status FROM notifications_campaign WHERE id = %s FOR SHARE", [campaign.pk])
        if cursor.fetchone()[0] == CampaignStatus.CLOSED:
            raise CheckInGone("Check-ins for this message are closed.")
    checkin, _ = CheckIn.objects.select_for_update().get_or_create(
        campaign=campaign, traveller=traveller, defaults={"status": status}
    )
    checkin.status = status
    seal(traveller.data_key.cipher(), checkin, "message", message.strip() if message and message.strip() else None)
    checkin.save()
    return checkin
