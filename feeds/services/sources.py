"""Feed sources: rows an admin manages, each polled on a django-q2 schedule that follows it.

Adding, changing, disabling or deleting a source changes its schedule in the same
transaction (`feed-source-<id>`, running feeds.tasks.poll_feed_source); nothing else
writes those rows, and `feed_schedules_sync` (after every migrate) puts them back in line
with the sources. A poll failure is recorded on the source and retried at the next
interval; one broken feed never stops another, each having its own schedule.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_q.models import Schedule

from consular.errors import DomainError
from feeds.events import FeedError, Parsed, Skipped
from feeds.fetch import FetchError, fetch
from feeds.models import FeedSource
from feeds.parsers import parse
from feeds.services.ingest import ActivationRule, Summary, ingest

log = logging.getLogger(__name__)

POLL_FUNC = "feeds.tasks.poll_feed_source"
MAX_LINKED_MESSAGES = 50  # CAP messages an index feed only links to, fetched per poll
FIELDS = ("name", "kind", "url", "poll_minutes", "enabled", "activate_min_severity", "activate_min_located")


def check_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DomainError("invalid", "Invalid input.", fields={"url": ["An http or https address with a host."]})
    if parts.username or parts.password:
        raise DomainError("invalid", "Invalid input.", fields={"url": ["No credentials in the address."]})
    return url.strip()


@transaction.atomic
def feed_source_create(*, data: dict[str, Any]) -> FeedSource:
    source = FeedSource(**{name: data[name] for name in FIELDS if name in data})
    source.url = check_url(source.url)
    _unique_name(source)
    source.save(force_insert=True)
    _sync_schedule(source)
    return source


@transaction.atomic
def feed_source_update(*, source: FeedSource, changes: dict[str, Any]) -> FeedSource:
    source = FeedSource.objects.select_for_update().get(pk=source.pk)
    for name in FIELDS:
        if name in changes:
            setattr(source, name, changes[name])
    source.url = check_url(source.url)
    if "url" in changes or "kind" in changes:
        source.etag = source.last_modified = ""  # another feed: nothing to be conditional on
    _unique_name(source)
    source.save()
    _sync_schedule(source)
    return source


@transaction.atomic
def feed_source_delete(*, source: FeedSource) -> None:
    Schedule.objects.filter(name=_schedule_name(source.pk)).delete()
    source.delete()


def _unique_name(source: FeedSource) -> None:
    if FeedSource.objects.filter(name=source.name).exclude(pk=source.pk).exists():
        raise DomainError("conflict", "Another feed source has this name.", status=409)


def _schedule_name(source_id: Any) -> str:
    return f"feed-source-{source_id}"


def _schedule(schedules: Any, source: Any) -> str | None:
    """Make the source's schedule row match it (through ``schedules``, a Schedule manager); its name if kept."""
    name = _schedule_name(source.pk)
    if not source.enabled:
        schedules.filter(name=name).delete()
        return None
    defaults = {"func": POLL_FUNC, "args": repr(str(source.pk)), "schedule_type": Schedule.MINUTES,
                "minutes": source.poll_minutes, "repeats": -1}  # fmt: skip
    schedules.update_or_create(name=name, defaults=defaults)
    return name


def _sync_schedule(source: FeedSource) -> None:
    _schedule(Schedule.objects, source)


def feed_schedules_sync(*, apps: Any = None, **_: Any) -> None:
    """Every enabled source has its schedule and no schedule outlives its source (a post_migrate receiver).

    Through the migration state's models when migrate sends them, and only where both
    tables exist in that state (a partial migrate leaves one out).
    """
    try:
        sources = (apps.get_model("feeds", "FeedSource") if apps else FeedSource).objects.all()
        schedules = (apps.get_model("django_q", "Schedule") if apps else Schedule).objects
    except LookupError:
        return
    wanted = {name for source in sources if (name := _schedule(schedules, source))}
    schedules.filter(name__startswith="feed-source-").exclude(name__in=wanted).delete()


@dataclass(frozen=True)
class PollResult:
    changed: bool  # False: the feed answered 304, nothing was read or written
    summary: Summary | None  # None when the poll failed
    failure: str = ""


def feed_source_poll(*, source: FeedSource) -> PollResult:
    """One run: fetch (conditionally), parse, follow linked CAP messages, ingest; recorded on the source."""
    source = FeedSource.objects.get(pk=source.pk)  # the ETag and Last-Modified the last run stored
    try:
        fetched = fetch(source.url, etag=source.etag, last_modified=source.last_modified)
        if fetched.status == 304:
            return PollResult(changed=False, summary=Summary())  # one request, no write
        parsed = parse(fetched.body, source.kind)
        follow_links(parsed)
    except (FetchError, FeedError) as exc:
        reason = str(exc)[:300]
        FeedSource.objects.filter(pk=source.pk).update(
            last_polled_at=timezone.now(), last_failure_at=timezone.now(), last_failure_reason=reason
        )
        log.warning("feed source %s: poll failed (%s)", source.pk, reason)
        return PollResult(changed=True, summary=None, failure=reason)
    rule = ActivationRule(source.activate_min_severity, source.activate_min_located)
    summary = ingest(parsed, rule=rule if source.activate_min_severity else None)
    counts = summary.as_dict()
    FeedSource.objects.filter(pk=source.pk).update(
        etag=fetched.etag[:300],
        last_modified=fetched.last_modified[:100],
        last_polled_at=timezone.now(),
        last_success_at=timezone.now(),
        last_run={
            **{name: counts[name] for name in ("created", "updated", "cancelled", "unchanged")},
            "skipped": len(summary.skipped),
            "flagged": len(summary.flagged),
            "errors": len(summary.errors),
        },
    )
    return PollResult(changed=True, summary=summary)


def follow_links(parsed: Parsed) -> None:
    """An index feed's entries that only link to their CAP message: fetched and read, each safely."""
    links, parsed.links = parsed.links[:MAX_LINKED_MESSAGES], []
    for link in links:
        try:
            linked = parse(fetch(link).body, "cap")
        except (FetchError, FeedError) as exc:
            parsed.skipped.append(Skipped(link[:200], f"its linked CAP message could not be read: {exc}"))
            continue
        parsed.events.extend(linked.events)
        parsed.skipped.extend(linked.skipped)


def feed_sources_all() -> QuerySet[FeedSource]:
    """Every configured feed, by name (what admins see and edit)."""
    return FeedSource.objects.all()
