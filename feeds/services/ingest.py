"""Feed events → proposed crises, idempotently per (kind, external id, version).

- A version already seen changes nothing (`unchanged`), so ingesting a file twice writes
  nothing the second time.
- An event is the same as one seen before under its own id, any of its aliases (USGS
  `ids`), or one it references (CAP Update and Cancel).
- A newer version (a larger rank) revises that event's crisis (`updated`) and an older
  one arriving late changes nothing; a cancel closes it (`cancelled`).
- A new event with an area becomes a draft crisis of no post (`created`); one without
  geometry is kept with its flags and makes none (`flagged`).
Each event is written in a transaction of its own: one bad event never stops the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from consular.errors import DomainError
from crises.models import Crisis
from crises.services.proposals import (
    Proposal,
    Source,
    countries_area,
    crisis_activate_by_rule,
    crisis_cancel,
    crisis_propose,
    crisis_revise,
    crisis_warn,
)
from feeds.events import AreaKind, FeedEvent, Flag, MessageType, Parsed, Skipped
from feeds.models import FeedItem
from feeds.parsers.common import SEVERITIES
from feeds.services.alerts import alerts_raise

log = logging.getLogger(__name__)

FLAG_TEXT = {
    Flag.NO_GEOMETRY: "The feed gives no geometry for this event (zone codes or a description only): it is "
    "kept without an area and counts no one until an officer draws it.",
    Flag.SWAPPED_CIRCLE: "The circle's centre lies outside every country the message names: its coordinates "
    "may be swapped (longitude first). Check the area before relying on its counts.",
    Flag.WIDENED_CIRCLE: "A circle's radius was outside 10-2,000 km and was brought within it.",
}


@dataclass(frozen=True)
class ActivationRule:
    """A source's rule: activate an event of at least this severity with at least this many located inside."""

    min_severity: str
    min_located: int

    def describe(self) -> str:
        return f"severity >= {self.min_severity} and >= {self.min_located} registrations located"


@dataclass
class Summary:
    created: int = 0
    updated: int = 0
    cancelled: int = 0
    unchanged: int = 0
    activated: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    flagged: list[Skipped] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "cancelled": self.cancelled,
            "unchanged": self.unchanged,
            "activated": self.activated,
            "skipped": [{"item": s.item, "reason": s.reason} for s in self.skipped],
            "flagged": [{"item": s.item, "reason": s.reason} for s in self.flagged],
            "errors": self.errors,
        }


def ingest(parsed: Parsed, *, rule: ActivationRule | None = None) -> Summary:
    summary = Summary(skipped=list(parsed.skipped))
    for event in parsed.events:
        try:
            outcome = _ingest_one(event, summary, rule)
        except DomainError as exc:  # the area intake's refusal: a reason, never the feed's text
            summary.skipped.append(Skipped(event.external_id, exc.message))
            continue
        except Exception:
            log.exception("feed event %s %s could not be ingested", event.kind, event.external_id[:100])
            summary.errors.append(f"{event.external_id[:100]}: could not be ingested (see the log)")
            continue
        if outcome in ("created", "updated", "cancelled", "unchanged"):
            setattr(summary, outcome, getattr(summary, outcome) + 1)
    return summary


@transaction.atomic
def _ingest_one(event: FeedEvent, summary: Summary, rule: ActivationRule | None) -> str:
    seen = _seen(event)
    if any(item.external_id == event.external_id and item.version == event.version for item in seen):
        return "unchanged"
    thread = _thread(seen)
    crisis = Crisis.objects.filter(pk=thread.crisis_id).first() if thread and thread.crisis_id else None
    if event.message_type == MessageType.CANCEL:
        if crisis is None:
            summary.skipped.append(Skipped(event.external_id, "a cancel of no event seen before"))
            return _record(event, None, "skipped")
        closed = crisis_cancel(crisis=crisis, source=_source(event))
        return _record(event, crisis, "cancelled" if closed else "unchanged")
    if thread is not None and thread.rank >= event.rank:
        return _record(event, crisis, "unchanged")  # an older version, arriving late
    area = event.area
    if event.area_kind == AreaKind.COUNTRY:
        area = countries_area(event.countries)
    if area is None:
        summary.flagged.append(Skipped(event.external_id, FLAG_TEXT[Flag.NO_GEOMETRY]))
        return _record(event, crisis, "flagged")
    proposal = Proposal(
        title=event.title,
        description=event.description,
        severity=event.severity,
        starts_at=event.onset or _sent(event) or timezone.now(),
        ends_at=event.expires,
        area=area,
        source=_source(event),
        warnings=tuple(FLAG_TEXT[flag] for flag in event.flags if flag in FLAG_TEXT),
    )
    if crisis is None:
        crisis = crisis_propose(proposal=proposal)
        outcome = "created"
    else:
        crisis = crisis_revise(crisis=crisis, proposal=proposal)
        outcome = "updated"
    if event.area_kind == AreaKind.CIRCLE and event.countries and not set(event.countries) & set(crisis.countries):
        event.flags.append(Flag.SWAPPED_CIRCLE)
        crisis_warn(crisis=crisis, warning=FLAG_TEXT[Flag.SWAPPED_CIRCLE])
        summary.flagged.append(Skipped(event.external_id, FLAG_TEXT[Flag.SWAPPED_CIRCLE]))
    alerts_raise(crisis=crisis)  # new, or its area changed: the posts it holds citizens of learn now
    if rule is not None and not event.flags and _meets(rule, crisis):
        summary.activated += crisis_activate_by_rule(crisis=crisis, rule=rule.describe())
    return _record(event, crisis, outcome)


def _meets(rule: ActivationRule, crisis: Crisis) -> bool:
    """Severity, then the located registrations over every country (the exposure just stored)."""
    if SEVERITIES.index(crisis.severity) < SEVERITIES.index(rule.min_severity):
        return False
    located = sum(cell["located"] for cell in crisis.exposure_by_country.values())
    return located >= rule.min_located


@dataclass(frozen=True)
class _Seen:
    external_id: str
    version: str
    rank: float
    crisis_id: Any


def _seen(event: FeedEvent) -> list[_Seen]:
    """Every version seen of this event: under its own id, any of its aliases, or one it references.

    Plain values, not model instances: this runs once an event, and most events are new.
    """
    names = [event.external_id, *event.aliases, *event.references]
    sql = "SELECT external_id, version, rank, crisis_id FROM feeds_feeditem WHERE kind = %s AND (external_id = ANY(%s)"
    parameters: list[Any] = [event.kind, names]
    if event.aliases:  # an event that has had other ids (USGS) may have been seen under one of them
        sql += " OR aliases && %s::varchar[]"
        parameters.append([event.external_id, *event.aliases])
    with connection.cursor() as cursor:
        cursor.execute(sql + ")", parameters)
        return [_Seen(*row) for row in cursor.fetchall()]


def _thread(seen: list[_Seen]) -> _Seen | None:
    """The latest version seen with a crisis, else the latest at all."""
    with_crisis = [item for item in seen if item.crisis_id is not None]
    return max(with_crisis or seen, key=lambda item: item.rank, default=None)


def _record(event: FeedEvent, crisis: Crisis | None, outcome: str) -> str:
    FeedItem.objects.create(
        kind=event.kind,
        external_id=event.external_id,
        version=event.version,
        rank=event.rank,
        message_type=event.message_type,
        crisis=crisis,
        title=event.title[:200],
        severity=event.severity,
        area_kind=event.area_kind,
        area_km2=crisis.area_km2 if crisis is not None and outcome in ("created", "updated") else None,
        countries=event.countries[:50],
        aliases=[alias[:300] for alias in event.aliases[:20]],
        references=[reference[:300] for reference in event.references[:50]],
        flags=sorted(set(event.flags)),
        outcome=outcome,
    )
    return outcome


def _source(event: FeedEvent) -> Source:
    return Source(kind=event.kind, external_id=event.external_id, version=event.version, link=event.link)


def _sent(event: FeedEvent) -> datetime | None:
    try:
        # CAP and NWS rank versions by their sent time in epoch seconds; GDACS by episode, USGS by milliseconds.
        return datetime.fromtimestamp(event.rank, tz=UTC) if 1e9 < event.rank < 1e11 else None
    except (OverflowError, OSError, ValueError):
        return None
