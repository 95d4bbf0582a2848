from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"


class CampaignStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    DONE = "done", "Every delivery has an outcome"
    CLOSED = "closed", "Closed: check-ins no longer accepted"


class Campaign(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    crisis = models.ForeignKey("crises.Crisis", on_delete=models.PROTECT, related_name="campaigns")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Templates written by officers: {"en": "...", "fr": "..."} with {given_name} and {checkin_url}.
    messages = models.JSONField()
    default_language = models.CharField(max_length=35)
    channels = ArrayField(models.CharField(max_length=8, choices=Channel.choices))
    ask_checkin = models.BooleanField(default=False)
    include_country_only = models.BooleanField(default=False)
    status = models.CharField(max_length=8, choices=CampaignStatus.choices, default=CampaignStatus.QUEUED)
    # People messaged, each once (a registrant, a companion with their own contact).
    recipients = models.PositiveIntegerField(default=0)
    # People whose answer is awaited: everyone a reached registrant answers for, and each
    # companion reached whose registrant is not (Delivery.persons).
    persons = models.PositiveIntegerField(default=0)
    idempotency_key = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The id run the fan-out wrote, and when its batches were all on the queue: until
    # then the sweep treats the campaign as interrupted and queues them (again).
    first_delivery_id = models.BigIntegerField(null=True, blank=True)
    last_delivery_id = models.BigIntegerField(null=True, blank=True)
    batches_queued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # A retried POST with the same Idempotency-Key finds the campaign it created.
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="campaign_idempotency_key_unique",
            )
        ]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Claimed by a worker"
    SENT = "sent", "Accepted by the provider"
    FAILED = "failed", "Refused permanently"
    DEAD = "dead", "Gave up after repeated failures"
    CANCELLED = "cancelled", "Not sent: the campaign was closed, or the traveller withdrew consent"


class Delivery(models.Model):
    """One message to one person (a registrant, or one of their companions) on one channel.

    Holds ids and outcomes, no contact data.
    """

    id = models.BigAutoField(primary_key=True)
    # A campaign to a million people writes a million rows in one statement, so each
    # row must be cheap:
    # - No database foreign keys. A deferred check per row per key cost more than the
    #   insert itself (18 s for a million rows). The rows are written in the campaign's
    #   own transaction from a join on existing travellers, and Django's collector still
    #   deletes them with their campaign or traveller (erasure, purge: ORM deletes).
    # - Few indexes, none on the rows as the fan-out writes them except the primary key
    #   and the unique (traveller, campaign, channel) index, which erasure uses to find a
    #   person's deliveries. A campaign's rows are found through the id range it records
    #   (Campaign.first_delivery_id..last_delivery_id: one statement wrote them, so they
    #   are contiguous); the sweep's two partial indexes only ever hold retries and
    #   claimed rows. A (campaign, status) index cost 1.4 s a million rows at fan-out.
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="deliveries", db_index=False, db_constraint=False
    )
    traveller = models.ForeignKey(
        "registrations.Traveller", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    # The companion the message goes to; NULL for the registrant. Not a foreign key: a
    # companion removed from the register leaves the delivery, cancelled at send time.
    companion_id = models.UUIDField(null=True, blank=True)
    # On the first delivery to each person, the people their answer stands for, once per
    # campaign (the campaign's `persons` is their sum); 0 on the others. A registrant's
    # first delivery also lists the companions their link answers for.
    persons = models.PositiveSmallIntegerField(default=0)
    covers = ArrayField(models.UUIDField(), null=True, blank=True)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # Traveller first: the fan-out inserts in traveller order, so the index fills in
            # order rather than at random, and erasure finds a person's deliveries with it.
            models.UniqueConstraint(
                fields=["traveller", "campaign", "companion_id", "channel"],
                name="delivery_once_per_person_and_channel",
                nulls_distinct=False,
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_retry_due",
                condition=models.Q(status="pending", next_attempt_at__isnull=False),
            ),
            models.Index(fields=["lease_until"], name="delivery_lease_expiry", condition=models.Q(status="sending")),
        ]


class CheckInStatus(models.TextChoices):
    SAFE = "safe", "I am safe"
    NEED_HELP = "need_help", "I need help"


class CheckIn(models.Model):
    """One person's answer to one campaign: the registrant's (companion_id NULL) or a companion's."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="checkins")
    traveller = models.ForeignKey("registrations.Traveller", on_delete=models.CASCADE, related_name="checkins")
    companion_id = models.UUIDField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=CheckInStatus.choices)
    message_enc = models.BinaryField(null=True)  # under the traveller's data key
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "traveller", "companion_id"],
                name="checkin_once_per_person_and_campaign",
                nulls_distinct=False,
            )
        ]
