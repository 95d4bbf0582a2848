from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
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
        ]
