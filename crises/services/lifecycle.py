"""A crisis's life: declared with its area (stored with its derived data by PostGIS),
edited, activated, closed; who may do which."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import shapely
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts import throttling
from accounts.models import Role, User
from consular.audit import audit_record
from consular.errors import DomainError
from consular.validation import EARLIEST_DATE, LATEST_DATE
from crises import hooks
from crises.areas import PART_VERTICES, parse_area
from crises.models import Crisis, Origin, Status
from crises.selectors import AreaPreview, area_preview


def _store_area(crisis: Crisis) -> None:
    """Derived data of the area, computed by PostGIS: parts for the join, km², countries touched."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM crises_crisispart WHERE crisis_id = %s", [crisis.pk])
        cursor.execute(
            "INSERT INTO crises_crisispart (crisis_id, geom) "
            "SELECT id, ST_Subdivide(area, %s) FROM crises_crisis WHERE id = %s",
            [PART_VERTICES, crisis.pk],
        )
        cursor.execute(
            """
            UPDATE crises_crisis c SET
                -- Edges cut to at most 1° first: geography reads an edge as a great
                -- circle, and a 180°-long one (an equator edge from 0° to 180°) has
                -- no unique great circle, so PostGIS raises instead of answering.
                area_km2 = ST_Area(ST_Segmentize(c.area, 1)::geography) / 1e6,
                countries = ARRAY(
                    SELECT DISTINCT cp.country_id FROM crises_countrypart cp
                    JOIN crises_crisispart p ON p.crisis_id = c.id AND ST_Intersects(cp.geom, p.geom)
                    ORDER BY 1
                )
            WHERE c.id = %s
            RETURNING area_km2, countries
            """,
            [crisis.pk],
        )
        crisis.area_km2, crisis.countries = cursor.fetchone()


def _check_jurisdiction(crisis: Crisis, user: User) -> None:
    countries = user.jurisdiction()
    if countries is not None and not countries.intersection(crisis.countries):
        raise DomainError(
            "outside_jurisdiction",
            "The area touches none of your post's countries.",
            fields={"area": ["The area touches none of your post's countries."]},
        )


def _check_window(starts_at: datetime, ends_at: datetime | None, *, given: frozenset[str] | None = None) -> None:
    """The window's order, and each time given in 1970-2100 (``given``: the times a change sets;
    a crisis stored before the bound was enforced may keep its old times)."""
    for name, moment in (("starts_at", starts_at), ("ends_at", ends_at)):
        if given is not None and name not in given:
            continue
        if moment is not None and not EARLIEST_DATE <= moment.astimezone(UTC).date() <= LATEST_DATE:
            message = f"Expected a time between {EARLIEST_DATE} and {LATEST_DATE}."
            raise DomainError("invalid", "Invalid input.", fields={name: [message]})
    if ends_at is not None and ends_at < starts_at:
        raise DomainError("invalid", "Invalid input.", fields={"ends_at": ["The crisis ends before it starts."]})


def _apply_area(crisis: Crisis, area_data: Any) -> None:
    area = parse_area(area_data, max_vertices=settings.CRISIS_MAX_VERTICES)
    crisis.area = area.geometry
    crisis.vertex_count = area.vertex_count
    crisis.warnings = area.warnings
    crisis.area_km2 = 0.0  # recomputed by PostGIS in _store_area


@transaction.atomic
def crisis_declare(
    *,
    user: User,
    title: str,
    severity: str,
    starts_at: datetime,
    area: Any,
    description: str = "",
    ends_at: datetime | None = None,
    public: bool = False,
) -> Crisis:
    _check_window(starts_at, ends_at)
    crisis = Crisis(
        title=title,
        description=description,
        severity=severity,
        starts_at=starts_at,
        ends_at=ends_at,
        public=public,
        created_by=user,
        post=user.post if user.role != Role.ADMIN else None,
    )
    _apply_area(crisis, area)
    crisis.save(force_insert=True)
    _store_area(crisis)
    _check_jurisdiction(crisis, user)
    audit_record(
        actor=user,
        action="crisis.declare",
        object_type="crisis",
        object_id=crisis.pk,
        details={"severity": severity, **_area_summary(crisis)},
    )
    return crisis


def _area_summary(crisis: Crisis) -> dict[str, Any]:
    """What the audit keeps of an area: enough to tell later which area was drawn when.

    Counts are read per area, so a run of small areas around one address (probing
    for a person) stays visible in the log: the digest identifies the exact
    geometry, the bounds and size show where and how small it was.
    """
    minx, miny, maxx, maxy = crisis.area.bounds
    return {
        "countries": crisis.countries,
        "vertex_count": crisis.vertex_count,
        "area_km2": round(crisis.area_km2, 3),
        "bounds": [round(minx, 5), round(miny, 5), round(maxx, 5), round(maxy, 5)],
        "area_sha256": hashlib.sha256(shapely.to_wkb(crisis.area, hex=False)).hexdigest(),
    }


def area_preview_audited(*, user: User, area: Any, starts_at: datetime, ends_at: datetime | None) -> AreaPreview:
    """Who an area being drawn would count (selectors.area_preview), rate-limited per user and audited
    like a declared area: a run of previews of growing or shrinking areas (counting one person by
    difference) stays visible in the log, with each area's digest, bounds and size."""
    retry_after = throttling.take(
        throttling.counter_key("area-preview", str(user.pk)),
        limit=settings.AREA_PREVIEWS_PER_MINUTE,
        window_seconds=60,
    )
    if retry_after:
        raise DomainError(
            "throttled", f"Too many previews; retry in {retry_after} s.", status=429,
            headers={"Retry-After": str(retry_after)},
        )  # fmt: skip
    with transaction.atomic():
        preview = area_preview(user=user, area=area, starts_at=starts_at, ends_at=ends_at)
        minx, miny, maxx, maxy = preview.geometry.bounds
        audit_record(
            actor=user,
            action="crisis.preview",
            object_type="area",
            details={
                "countries": preview.countries,
                "vertex_count": preview.vertex_count,
                "bounds": [round(minx, 5), round(miny, 5), round(maxx, 5), round(maxy, 5)],
                "area_sha256": hashlib.sha256(shapely.to_wkb(preview.geometry, hex=False)).hexdigest(),
            },
        )
    return preview


def _unowned_proposal_for(crisis: Crisis, user: User) -> bool:
    """A feed's proposal no post has taken yet, and a post it touches: that post may take it."""
    countries = user.jurisdiction()
    return (
        crisis.origin == Origin.FEED
        and crisis.post_id is None
        and user.post_id is not None
        and bool(countries and countries.intersection(crisis.countries))
    )


def _check_owner(crisis: Crisis, user: User) -> None:
    # Every post the area touches sees the crisis; only the declaring post moves it.
    # Otherwise another post could redraw it away from the declaring post's countries
    # and lock that post out of its own crisis and campaigns. A feed's proposal belongs
    # to no post: any post it touches may edit it, and activating it makes it theirs.
    if user.role == Role.ADMIN or _unowned_proposal_for(crisis, user):
        return
    if crisis.post_id is None or crisis.post_id != user.post_id:
        raise DomainError(
            "forbidden", "Only the post that declared this crisis, or an admin, may change it.", status=403
        )


@transaction.atomic
def crisis_update(*, crisis: Crisis, user: User, changes: dict[str, Any]) -> Crisis:
    crisis = Crisis.objects.select_for_update().get(pk=crisis.pk)
    _check_owner(crisis, user)
    if crisis.status == Status.CLOSED:
        raise DomainError("conflict", "A closed crisis cannot be changed.", status=409)
    for name in ("title", "description", "severity", "starts_at", "ends_at", "public"):
        if name in changes:
            setattr(crisis, name, changes[name])
    _check_window(crisis.starts_at, crisis.ends_at, given=frozenset(changes))
    if "area" in changes:
        _apply_area(crisis, changes["area"])
    crisis.save()
    if "area" in changes:
        _store_area(crisis)
        _check_jurisdiction(crisis, user)
    audit_record(
        actor=user,
        action="crisis.update",
        object_type="crisis",
        object_id=crisis.pk,
        details={"fields": sorted(changes), **(_area_summary(crisis) if "area" in changes else {})},
    )
    return crisis


_TRANSITIONS = {"activate": (Status.DRAFT, Status.ACTIVE), "close": (Status.ACTIVE, Status.CLOSED)}


@transaction.atomic
def crisis_transition(*, crisis: Crisis, user: User, action: str) -> Crisis:
    """draft → active → closed; anything else is a 409."""
    source, target = _TRANSITIONS[action]
    # Row lock: two officers pressing "activate" at once must not both succeed.
    crisis = Crisis.objects.select_for_update().get(pk=crisis.pk)
    _check_owner(crisis, user)
    if crisis.status != source:
        raise DomainError("conflict", f"Cannot {action} a crisis that is {crisis.status}.", status=409)
    if target == Status.ACTIVE and _unowned_proposal_for(crisis, user):
        crisis.post_id = user.post_id  # the post that activates a feed's proposal owns it from now on
    crisis.status = target
    now = timezone.now()
    if target == Status.ACTIVE:
        crisis.activated_at = now
    else:
        crisis.closed_at = now
    crisis.save(update_fields=["status", "activated_at", "closed_at", "post", "updated_at"])
    details = {}
    if target == Status.CLOSED:
        # What apps above hold for it ends with it (notifications: its campaigns, so no
        # "are you safe?" goes out for a crisis that is over).
        details.update(hooks.crisis_closed(crisis))
    audit_record(actor=user, action=f"crisis.{action}", object_type="crisis", object_id=crisis.pk, details=details)
    return crisis


def area_feature(crisis: Crisis) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": str(crisis.pk),
        "geometry": json.loads(shapely.to_geojson(crisis.area)),
        "properties": {"title": crisis.title, "severity": crisis.severity, "status": crisis.status},
    }


def crisis_status_locked(crisis_id: uuid.UUID) -> str | None:
    """The crisis's status, its row held FOR SHARE until the transaction ends; None if it is gone.

    For work that must not start on a crisis closing meanwhile (a campaign's launch):
    the close (FOR UPDATE) waits for it or is seen here, and such work does not wait
    for each other.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT status FROM crises_crisis WHERE id = %s FOR SHARE", [crisis_id])
        row = cursor.fetchone()
    return row[0] if row is not None else None
