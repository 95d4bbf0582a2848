"""Campaigns: counts first (the dry run), then the fan-out in the database, one statement."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import User
from consular.audit import audit_record
from consular.errors import DomainError
from crises.models import Crisis, Status
from crises.selectors import affected_parameters, affected_persons_cte, join_memory
from crises.services.lifecycle import crisis_status_locked
from notifications import messages as templates
from notifications.channels import CHANNELS
from notifications.models import Campaign, CampaignStatus, DeliveryStatus
from notifications.selectors import campaign_deliveries
from notifications.services.sending import batches_enqueue

# Each affected person with what the campaign needs to know of them: whether they may
# be messaged (a registrant's consent; for a companion, the registrant's permission to
# contact them directly), on which channels, in which language; and of their
# registration, how many people it holds in the area, which of its companions, and
# whether its registrant is reached (then the registrant answers for all of them).
_PEOPLE = """
, household AS (
    SELECT traveller_id, count(*) AS persons,
           array_agg(companion_id ORDER BY companion_id) FILTER (WHERE companion_id IS NOT NULL) AS companions
    FROM persons GROUP BY traveller_id
), audience AS (
    SELECT p.traveller_id, p.companion_id, h.persons, h.companions,
           CASE WHEN p.companion_id IS NULL THEN t.consent_contact ELSE c.contact_directly END AS allowed,
           CASE WHEN p.companion_id IS NULL THEN t.email_enc IS NOT NULL ELSE c.email_enc IS NOT NULL END AS has_email,
           CASE WHEN p.companion_id IS NULL THEN t.phone_enc IS NOT NULL ELSE c.phone_enc IS NOT NULL END AS has_phone,
           coalesce(c.language, t.language) AS language,
           t.consent_contact AND (('email' = ANY(%(channels)s::text[]) AND t.email_enc IS NOT NULL)
                                  OR ('sms' = ANY(%(channels)s::text[]) AND t.phone_enc IS NOT NULL))
               AS registrant_reached
    FROM persons p
    JOIN household h USING (traveller_id)
    JOIN registrations_traveller t ON t.id = p.traveller_id
    LEFT JOIN registrations_companion c ON c.id = p.companion_id
)
"""

DRY_RUN_SQL = (
    affected_persons_cte()
    + _PEOPLE
    + """
SELECT companion_id IS NULL, language, allowed, has_email, has_phone, registrant_reached, count(*), sum(persons)
FROM audience
GROUP BY 1, 2, 3, 4, 5, 6
"""
)

# The whole fan-out is one statement: the join feeds the inserts, no row passes through Python.
# One delivery per person reached and channel. The first of each person's carries the
# people their answer stands for: a registrant's, everyone of their registration in
# the area (and which companions); a companion's, themselves when their registrant is
# not reached, else nobody (they are already counted). No ON CONFLICT: the campaign
# is new in this transaction and its rows are distinct, so the unique constraint can
# only fail on a bug, loudly. In the unique index's order, so that it fills page
# after page.
FAN_OUT_SQL = (
    affected_persons_cte()  # noqa: S608 - fixed fragments only, no outside text
    + _PEOPLE
    + """
, reach AS (
    SELECT p.*, ch.channel,
           row_number() OVER (PARTITION BY p.traveller_id, p.companion_id ORDER BY ch.channel) AS nth
    FROM audience p
    CROSS JOIN unnest(%(channels)s::text[]) AS ch(channel)
    WHERE p.allowed AND ((ch.channel = 'email' AND p.has_email) OR (ch.channel = 'sms' AND p.has_phone))
), inserted AS (
INSERT INTO notifications_delivery
    (campaign_id, traveller_id, companion_id, channel, persons, covers, status, attempts, provider_message_id,
     last_error)
SELECT %(campaign_id)s, traveller_id, companion_id, channel,
       CASE WHEN nth > 1 THEN 0 WHEN companion_id IS NULL THEN persons WHEN registrant_reached THEN 0 ELSE 1 END,
       CASE WHEN nth = 1 AND companion_id IS NULL THEN companions END,
       'pending', 0, '', ''
FROM reach
ORDER BY traveller_id, companion_id, channel
RETURNING id, traveller_id, companion_id, persons
)
SELECT count(DISTINCT (traveller_id, companion_id)), coalesce(sum(persons), 0), min(id), max(id) FROM inserted
"""
)


@dataclass(frozen=True)
class DryRun:
    recipients: int  # people messaged
    by_channel: dict[str, int]
    by_language: dict[str, int]
    without_consent: int  # registrants who did not consent to be contacted
    persons: int  # people whose answer is awaited


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
    limits = [limit for name in channels if (limit := CHANNELS[name].max_length) is not None]
    if limits:
        # A companion's link is the longest (it names them too).
        sample = templates.checkin_url(templates.checkin_token(uuid.uuid4(), uuid.uuid4(), uuid.uuid4()))
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
    recipients = without_consent = persons = 0
    params = affected_parameters(crisis, user, include_country_only=request.include_country_only)
    with transaction.atomic(), connection.cursor() as cursor:
        join_memory(cursor)
        cursor.execute(DRY_RUN_SQL, {**params, "channels": request.channels})
        for registrant, language, allowed, has_email, has_phone, registrant_reached, count, household in cursor:
            if not allowed:
                without_consent += count if registrant else 0
                continue
            reachable = [c for c in request.channels if (c == "email" and has_email) or (c == "sms" and has_phone)]
            if not reachable:
                continue
            recipients += count
            if registrant:
                persons += household  # everyone of their registration in the area
            elif not registrant_reached:
                persons += count
            by_language[language] = by_language.get(language, 0) + count
            for channel in reachable:
                by_channel[channel] += count
    return DryRun(recipients, by_channel, by_language, without_consent, persons)


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
    # Held against the crisis's close: a launch that checked the status before a close
    # committed would otherwise create a campaign the close never saw.
    if crisis_status_locked(crisis.pk) != Status.ACTIVE:
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
        campaign.recipients, campaign.persons, campaign.first_delivery_id, campaign.last_delivery_id = cursor.fetchone()
    if campaign.recipients == 0:
        campaign.status = CampaignStatus.DONE
    campaign.save(update_fields=["recipients", "persons", "status", "first_delivery_id", "last_delivery_id"])
    audit_record(
        actor=user,
        action="campaign.launch",
        object_type="campaign",
        object_id=campaign.pk,
        details={
            "crisis": str(crisis.pk),
            "recipients": campaign.recipients,
            "persons": campaign.persons,
            "channels": request.channels,
        },
    )
    transaction.on_commit(lambda: batches_enqueue(campaign.pk, campaign.first_delivery_id, campaign.last_delivery_id))
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


def campaigns_close_for_crisis(crisis: Crisis) -> dict[str, list[str]]:
    """Close the crisis's open campaigns, in the crisis's closing transaction (crises.hooks).

    Returns what the close's audit entry records: the ids of the campaigns closed.
    """
    closed = []
    # In id order, as an erasure locks campaigns: two of them sharing campaigns do not deadlock.
    campaigns = Campaign.objects.select_for_update().filter(crisis=crisis).exclude(status=CampaignStatus.CLOSED)
    for campaign in campaigns.order_by("id"):
        _close(campaign)
        closed.append(str(campaign.pk))
    return {"campaigns_closed": closed}
