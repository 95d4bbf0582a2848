from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, GistIndex
from django.db import models

from consular.geometry import GeometryField


class Country(models.Model):
    """Natural Earth admin-0 boundary (public domain), loaded by a migration."""

    code = models.CharField(primary_key=True, max_length=2)
    name = models.CharField(max_length=100)
    area = GeometryField(geom_type="MULTIPOLYGON")

    class Meta:
        ordering = ["code"]


class CountryPart(models.Model):
    """A country subdivided into small polygons: point-in-country look-ups stay fast."""

    country = models.ForeignKey(Country, on_delete=models.CASCADE, related_name="parts")
    geom = GeometryField(geom_type="POLYGON")

    class Meta:
        indexes = [GistIndex(fields=["geom"], name="countrypart_geom_gist")]


class Severity(models.TextChoices):
    # CAP 1.2 <severity> values, least to most severe.
    MINOR = "minor", "Minor"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"
    EXTREME = "extreme", "Extreme"


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    CLOSED = "closed", "Closed"


class Origin(models.TextChoices):
    DRAWN = "drawn", "Drawn by staff"
    FEED = "feed", "Proposed by a feed"


class Crisis(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(max_length=200)
    description = models.TextField(max_length=5000, blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    public = models.BooleanField(default=False)
    area = GeometryField(geom_type="MULTIPOLYGON")
    area_km2 = models.FloatField()
    vertex_count = models.PositiveIntegerField()
    warnings = models.JSONField(default=list)
    # Countries the area touches: decides which posts see the crisis, and where
    # country-precision stays are counted.
    countries = ArrayField(models.CharField(max_length=2), default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The post that declared the crisis: only its staff (and admins) change or move it
    # on, though every post it touches sees it. Null when an admin declared it: then
    # only admins change it.
    post = models.ForeignKey("accounts.Post", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # A crisis a feed proposed: which message of which source, as the source names it.
    # It belongs to no post (post NULL) until a post it touches activates it.
    origin = models.CharField(max_length=5, choices=Origin.choices, default=Origin.DRAWN)
    source_kind = models.CharField(max_length=16, blank=True)
    source_external_id = models.CharField(max_length=300, blank=True)
    source_version = models.CharField(max_length=64, blank=True)
    source_link = models.CharField(max_length=500, blank=True)
    # A feed crisis's exposure, computed when it arrives or its area changes: per country,
    # {"located": registrations, "persons": people, "country_only": registrations}, over
    # every country (each post reads its own countries' share).
    exposure_by_country = models.JSONField(default=dict)
    exposure_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-starts_at", "id"]
        indexes = [
            GinIndex(fields=["countries"], name="crisis_countries_gin"),
            models.Index(fields=["status", "starts_at"], name="crisis_status_start"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__isnull=True) | models.Q(ends_at__gte=models.F("starts_at")),
                name="crisis_window_ordered",
            ),
            models.CheckConstraint(condition=models.Q(status__in=Status.values), name="crisis_status_known"),
            models.CheckConstraint(condition=models.Q(origin__in=Origin.values), name="crisis_origin_known"),
        ]


class CrisisPart(models.Model):
    """The crisis area cut into pieces of at most a few hundred vertices (ST_Subdivide) for the join."""

    crisis = models.ForeignKey(Crisis, on_delete=models.CASCADE, related_name="parts")
    geom = GeometryField(geom_type="POLYGON")

    class Meta:
        indexes = [GistIndex(fields=["geom"], name="crisispart_geom_gist"), models.Index(fields=["crisis"])]


class RevealStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a supervisor"
    APPROVED = "approved", "Approved, not yet fetched"
    FETCHED = "fetched", "Fetched"
    REJECTED = "rejected", "Rejected"


class RevealRequest(models.Model):
    """A large reveal waiting for a second person's approval (four eyes)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    crisis = models.ForeignKey(Crisis, on_delete=models.CASCADE, related_name="reveal_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.TextField(max_length=2000)
    country = models.CharField(max_length=2, blank=True)
    include_country_only = models.BooleanField(default=False)
    # The set is frozen when requested, so the approver approves exactly what will be revealed.
    traveller_ids = ArrayField(models.UUIDField())
    status = models.CharField(max_length=8, choices=RevealStatus.choices, default=RevealStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        # An erasure removes its person's id from every request naming it (a replay of the
        # erasure ledger, a million ids at once): found through this index, not a scan.
        indexes = [GinIndex(fields=["traveller_ids"], name="revealrequest_travellers")]
