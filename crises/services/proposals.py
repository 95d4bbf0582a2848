"""Crises a feed proposes: created as drafts of no post, revised by newer versions of their
event, closed by a cancel. Feed services call these; a post that the area touches takes a
proposal over by activating it (crises.services.lifecycle).

Each runs in its caller's transaction without a savepoint of its own (two round trips
fewer an event, at 2,000 events a feed): a failure rolls the caller's whole transaction
back, which is what the feed ingestion, one transaction an event, wants.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from consular.audit import audit_record
from crises import hooks
from crises.models import Crisis, Origin, Status
from crises.selectors import crisis_exposure
from crises.services.lifecycle import _apply_area, _area_summary, _check_window, _store_area


@dataclass(frozen=True)
class Source:
    kind: str
    external_id: str
    version: str
    link: str


@dataclass(frozen=True)
class Proposal:
    title: str
    description: str
    severity: str
    starts_at: datetime
    ends_at: datetime | None
    area: Any  # what crises.areas.parse_area reads
    source: Source
    warnings: tuple[str, ...] = ()


def _window(proposal: Proposal) -> tuple[datetime, datetime | None]:
    # An expiry before the onset (seen in real feeds) leaves the window open rather than refusing the event.
    ends_at = proposal.ends_at if proposal.ends_at and proposal.ends_at >= proposal.starts_at else None
    _check_window(proposal.starts_at, ends_at)
    return proposal.starts_at, ends_at


def _apply_source(crisis: Crisis, source: Source) -> None:
    crisis.source_kind = source.kind
    crisis.source_external_id = source.external_id[:300]
    crisis.source_version = source.version[:64]
    crisis.source_link = source.link[:500]


@transaction.atomic(savepoint=False)
def crisis_propose(*, proposal: Proposal) -> Crisis:
    """A draft crisis of no post from a feed event; the area goes through the drawn-crisis intake."""
    starts_at, ends_at = _window(proposal)
    crisis = Crisis(
        title=proposal.title[:200] or "Untitled feed event",
        description=proposal.description[:5000],
        severity=proposal.severity,
        starts_at=starts_at,
        ends_at=ends_at,
        origin=Origin.FEED,
    )
    _place(crisis, proposal, new=True)
    _audit(crisis, "crisis.propose", severity=crisis.severity)
    return crisis


@transaction.atomic(savepoint=False)
def crisis_revise(*, crisis: Crisis, proposal: Proposal) -> Crisis:
    """A newer version of the crisis's event: its text, severity, window and area follow the feed.

    A crisis a post has activated keeps its title and description as the post may have
    edited them, but its area, window and severity follow the agency's latest word.
    """
    crisis = Crisis.objects.select_for_update().get(pk=crisis.pk)
    if crisis.status == Status.CLOSED:
        return crisis
    starts_at, ends_at = _window(proposal)
    if crisis.status == Status.DRAFT:
        crisis.title = proposal.title[:200] or crisis.title
        crisis.description = proposal.description[:5000]
    crisis.severity = proposal.severity
    crisis.starts_at, crisis.ends_at = starts_at, ends_at
    _place(crisis, proposal, new=False)
    _audit(crisis, "crisis.revise", version=crisis.source_version)
    return crisis


def _place(crisis: Crisis, proposal: Proposal, *, new: bool) -> None:
    """The proposal's source and area onto the crisis, through the drawn-crisis intake, stored with its parts."""
    _apply_source(crisis, proposal.source)
    _apply_area(crisis, proposal.area)
    crisis.warnings = [*crisis.warnings, *proposal.warnings]
    crisis.save(force_insert=new)
    _store_area(crisis)


def _audit(crisis: Crisis, action: str, **details: Any) -> None:
    audit_record(
        actor=None,
        action=action,
        object_type="crisis",
        object_id=crisis.pk,
        details={"source": crisis.source_kind, **details, **_area_summary(crisis)},
    )


@transaction.atomic(savepoint=False)
def crisis_cancel(*, crisis: Crisis, source: Source) -> bool:
    """The agency cancelled the event: the crisis closes (its campaigns with it). False if it already was."""
    crisis = Crisis.objects.select_for_update().get(pk=crisis.pk)
    if crisis.status == Status.CLOSED:
        return False
    crisis.status = Status.CLOSED
    crisis.closed_at = timezone.now()
    _apply_source(crisis, source)
    crisis.save(update_fields=["status", "closed_at", "source_version", "source_link", "source_kind",
                               "source_external_id", "updated_at"])  # fmt: skip
    details = hooks.crisis_closed(crisis)
    audit_record(
        actor=None, action="crisis.cancel", object_type="crisis", object_id=crisis.pk,
        details={"source": source.kind, "version": source.version, **details},
    )  # fmt: skip
    return True


@transaction.atomic(savepoint=False)
def crisis_activate_by_rule(*, crisis: Crisis, rule: str) -> bool:
    """The feed source's rule activates a proposal (it stays of no post until a post takes it over)."""
    crisis = Crisis.objects.select_for_update().get(pk=crisis.pk)
    if crisis.status != Status.DRAFT:
        return False
    crisis.status = Status.ACTIVE
    crisis.activated_at = timezone.now()
    crisis.save(update_fields=["status", "activated_at", "updated_at"])
    audit_record(actor=None, action="crisis.activate", object_type="crisis", object_id=crisis.pk,
                 details={"rule": rule})  # fmt: skip
    return True


@transaction.atomic(savepoint=False)
def crisis_warn(*, crisis: Crisis, warning: str) -> None:
    """Add a warning an officer should read before relying on the crisis's counts (once)."""
    crisis = Crisis.objects.select_for_update().get(pk=crisis.pk)
    if warning not in crisis.warnings:
        crisis.warnings = [*crisis.warnings, warning]
        crisis.save(update_fields=["warnings", "updated_at"])


@transaction.atomic(savepoint=False)
def crisis_exposure_store(*, crisis: Crisis) -> dict[str, dict[str, int]]:
    """Compute the crisis's counts now (the join of /affected, over every country) and keep them, per country."""
    counts = crisis_exposure(crisis=crisis)
    by_country: dict[str, dict[str, int]] = {}
    for (country, _precision), registrations in counts.located.items():
        cell = by_country.setdefault(country, {"located": 0, "persons": 0, "country_only": 0})
        cell["located"] += registrations
    for country, people in counts.located_persons.items():
        by_country.setdefault(country, {"located": 0, "persons": 0, "country_only": 0})["persons"] += people.persons
    for country, registrations in counts.country_only.items():
        by_country.setdefault(country, {"located": 0, "persons": 0, "country_only": 0})["country_only"] += registrations
    Crisis.objects.filter(pk=crisis.pk).update(exposure_by_country=by_country, exposure_at=timezone.now())
    crisis.exposure_by_country = by_country
    return by_country


def countries_area(codes: list[str]) -> dict[str, Any] | None:
    """The bundled boundaries of these countries as one GeoJSON MultiPolygon (None if none is known)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_AsGeoJSON(ST_Multi(ST_Union(area))) FROM crises_country WHERE code = ANY(%s)", [codes]
        )
        row = cursor.fetchone()
    return json.loads(row[0]) if row and row[0] else None
