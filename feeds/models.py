from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models


class FeedItem(models.Model):
    """One version of one event as a feed gave it, and the crisis it made or changed.

    The rows of one event are its history: each version's time, area kind and size. An
    event without geometry is kept here with its flags and makes no crisis (an officer
    draws it, or it waits for a version with an area).
    """

    kind = models.CharField(max_length=16)
    external_id = models.CharField(max_length=300)
    version = models.CharField(max_length=64)
    rank = models.FloatField()
    message_type = models.CharField(max_length=8)
    crisis = models.ForeignKey("crises.Crisis", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    title = models.CharField(max_length=200)
    severity = models.CharField(max_length=10)
    area_kind = models.CharField(max_length=10)
    area_km2 = models.FloatField(null=True, blank=True)
    countries = ArrayField(models.CharField(max_length=2), default=list)
    aliases = ArrayField(models.CharField(max_length=300), default=list)
    references = ArrayField(models.CharField(max_length=300), default=list)
    flags = ArrayField(models.CharField(max_length=64), default=list)
    outcome = models.CharField(max_length=10)  # created, updated, cancelled, unchanged, flagged
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "external_id", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "external_id", "version"], name="feeditem_one_per_version")
        ]
        indexes = [
            models.Index(fields=["kind", "external_id"], name="feeditem_event"),
            models.Index(fields=["crisis"], name="feeditem_crisis"),
            GinIndex(fields=["aliases"], name="feeditem_aliases"),  # a USGS event renamed by another network
        ]


class FeedSource(models.Model):
    """A feed polled on a schedule of its own (django-q2 rows follow these rows: feeds.services.sources)."""

    class Kind(models.TextChoices):
        GDACS = "gdacs", "GDACS GeoRSS or GeoJSON"
        USGS = "usgs", "USGS earthquake GeoJSON"
        CAP = "cap", "CAP 1.1/1.2 alert, Atom, RSS or EDXL-DE"
        NWS = "nws", "NWS api.weather.gov alerts"
        METEOALARM = "meteoalarm", "MeteoAlarm Atom"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    url = models.CharField(max_length=2000)
    poll_minutes = models.PositiveIntegerField(default=10)
    enabled = models.BooleanField(default=True)
    # Auto-activation: a new or grown event of at least this severity with at least this
    # many registrations located inside is activated at once (null severity: never).
    activate_min_severity = models.CharField(max_length=10, blank=True)
    activate_min_located = models.PositiveIntegerField(default=0)
    # Conditional requests: what the feed's server said last time.
    etag = models.CharField(max_length=300, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_failure_reason = models.CharField(max_length=300, blank=True)
    last_run = models.JSONField(default=dict)  # counts of the last run that read the feed
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(poll_minutes__gte=1) & models.Q(poll_minutes__lte=1440), name="feedsource_poll_range"
            )
        ]


class Alert(models.Model):
    """An entry in a post's inbox: a feed crisis holds registrations of the post's countries.

    Counts only. One entry per crisis and post, and another only when the exposure grows
    beyond what the last entry said.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    post = models.ForeignKey("accounts.Post", on_delete=models.CASCADE, related_name="+")
    crisis = models.ForeignKey("crises.Crisis", on_delete=models.CASCADE, related_name="+")
    located = models.PositiveIntegerField()  # registrations located in the post's countries
    persons = models.PositiveIntegerField()  # the people they hold there
    created_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [models.Index(fields=["post", "crisis", "-located"], name="alert_post_crisis")]
