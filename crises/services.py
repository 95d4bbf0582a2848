"""Writes: declaring and editing crises, their life cycle, and audited reveals."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import shapely
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Role, User
from consular.audit import audit_record
from consular.crypto import unseal
from consular.errors import DomainError
from consular.models import AuditEntry
from crises import selectors
from crises.areas import parse_area
from crises.models import Crisis, RevealRequest, RevealStatus, Status
from notifications.selectors import latest_checkins
from notifications.services import campaigns_close_for_crisis
from registrations.models import Stay, Traveller

# Parts of at most this many vertices. Measured on 1M travellers with a
# 10,000-vertex area (bench/affected_bench.py): 256 → 77 ms, 1024 → 35 ms,
# one part → 31 ms; small parts pay an index probe each, so keep them large
# enough, but bounded so a 100,000-vertex coastline still splits up.
PART_VERTICES = 1024
MIN_REASON_LENGTH = 20
REVEAL_APPROVAL_VALID_FOR = timedelta(hours=24)
REVEAL_WINDOW = timedelta(hours=24)  # over which REVEAL_APPROVAL_ABOVE counts a user's reveals


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
    if user.role != Role.ADMIN and not set(crisis.countries) & set(user.post.countries):
        raise DomainError(
            "outside_jurisdiction",
            "The area touches none of your post's countries.",
            fields={"area": ["The area touches none of your post's countries."]},
        )


def _check_window(starts_at: datetime, ends_at: datetime | None) -> None:
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


def _check_owner(crisis: Crisis, user: User) -> None:
    # Every post the area touches sees the crisis; only the declaring post moves it.
    # Otherwise another post could redraw it away from the declaring post's countries
    # and lock that post out of its own crisis and campaigns.
    if user.role != Role.ADMIN and (crisis.post_id is None or crisis.post_id != user.post_id):
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
    _check_window(crisis.starts_at, crisis.ends_at)
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
    crisis.status = target
    now = timezone.now()
    if target == Status.ACTIVE:
        crisis.activated_at = now
    else:
        crisis.closed_at = now
    crisis.save(update_fields=["status", "activated_at", "closed_at", "updated_at"])
    details = {}
    if target == Status.CLOSED:
        # Its campaigns close with it: no "are you safe?" goes out for a crisis that is over.
        details["campaigns_closed"] = campaigns_close_for_crisis(crisis=crisis)
    audit_record(actor=user, action=f"crisis.{action}", object_type="crisis", object_id=crisis.pk, details=details)
    return crisis


# --- Reveals ------------------------------------------------------------------------


@dataclass(frozen=True)
class RevealResult:
    travellers: list[dict[str, Any]] | None
    audit_id: int | None
    request: RevealRequest | None


def _check_reason(reason: Any) -> str:
    if not isinstance(reason, str) or len(reason.strip()) < MIN_REASON_LENGTH:
        raise DomainError(
            "invalid",
            "Invalid input.",
            fields={"reason": [f"Say why, in at least {MIN_REASON_LENGTH} characters."]},
        )
    return reason.strip()


# The stays that made each revealed traveller affected, by the same rules as the
# join (crises.selectors): in the caller's jurisdiction, and country-precision
# stays only when the reveal asked for them. A traveller also staying in another
# post's countries shows only the stays this caller may see.
_STAYS_SQL = """
SELECT s.id, s.traveller_id, s.country, s.city_enc, s.start_date, s.end_date
FROM registrations_stay s
JOIN crises_crisis c ON c.id = %(crisis)s
WHERE s.traveller_id = ANY(%(ids)s)
  AND s.start_date <= %(end)s AND s.end_date >= %(start)s
  AND (%(all_countries)s OR s.country = ANY(%(jurisdiction)s))
  AND ((s.precision IN ('point', 'city') AND ST_Intersects(c.area, s.point))
       OR (%(include_country_only)s AND s.precision = 'country' AND s.country = ANY(c.countries)))
ORDER BY s.traveller_id, s.start_date
"""


def reveal_records(
    *, crisis: Crisis, user: User, traveller_ids: list[uuid.UUID], include_country_only: bool
) -> list[dict[str, Any]]:
    """The minimal contact record of each traveller: never passport, date of birth or address."""
    parameters = selectors.affected_parameters(crisis, user, include_country_only=include_country_only)
    stays: dict[uuid.UUID, list[tuple]] = {}
    with connection.cursor() as cursor:
        cursor.execute(_STAYS_SQL, {**parameters, "ids": traveller_ids})
        for stay_id, traveller_id, country, city_enc, start, end in cursor.fetchall():
            stays.setdefault(traveller_id, []).append((stay_id, country, city_enc, start, end))
    records = []
    checkins = latest_checkins(crisis=crisis, traveller_ids=traveller_ids)

    for traveller in Traveller.objects.filter(pk__in=traveller_ids).select_related("data_key").order_by("ref"):
        cipher = traveller.data_key.cipher()
        records.append(
            {
                "ref": traveller.ref,
                "given_name": unseal(cipher, traveller, "given_name"),
                "family_name": unseal(cipher, traveller, "family_name"),
                "phone": unseal(cipher, traveller, "phone"),
                "email": unseal(cipher, traveller, "email"),
                "language": traveller.language,
                "stays": [
                    {
                        "country": country,
                        "city": unseal(cipher, Stay(id=stay_id, city_enc=city_enc), "city"),
                        "start_date": start.isoformat(),
                        "end_date": end.isoformat(),
                    }
                    for stay_id, country, city_enc, start, end in stays.get(traveller.pk, [])
                ],
                "checkin": checkins.get(traveller.pk),
            }
        )
    return records


def _audit_reveal(*, user: User, crisis: Crisis, records: list[dict], reason: str, extra: dict) -> int:
    entry = audit_record(
        actor=user,
        action="reveal",
        object_type="crisis",
        object_id=crisis.pk,
        details={"reason": reason, "count": len(records), "refs": [r["ref"] for r in records], **extra},
    )
    return entry.pk


def _revealed_recently(user: User) -> set[str]:
    """References revealed to this user without approval in the last REVEAL_WINDOW (from the audit log)."""
    since = timezone.now() - REVEAL_WINDOW
    refs: set[str] = set()
    entries = AuditEntry.objects.filter(actor_id=user.pk, action="reveal", at__gte=since)
    for details in entries.values_list("details", flat=True):
        if "request" not in details:  # fetched after a supervisor's approval: already four-eyed
            refs.update(details.get("refs", []))
    return refs


def _needs_approval(*, user: User, traveller_ids: list[uuid.UUID]) -> bool:
    # The threshold counts distinct people revealed to one user over a day, this
    # reveal included: otherwise one large reveal could be split into small ones
    # (by country, by redrawn areas, by several crises) that each stay below it.
    limit = settings.REVEAL_APPROVAL_ABOVE
    if len(traveller_ids) > limit:
        return True
    refs = set(Traveller.objects.filter(pk__in=traveller_ids).values_list("ref", flat=True))
    return len(refs | _revealed_recently(user)) > limit


@transaction.atomic
def reveal(
    *, crisis: Crisis, user: User, reason: Any, country: str = "", include_country_only: bool = False
) -> RevealResult:
    """Reveal identities, or above the approval threshold file a request for a supervisor."""
    if crisis.status == Status.DRAFT:
        # A draft can be redrawn at will: revealing from one would let an area be
        # fitted around one address and its occupant named without a real crisis.
        raise DomainError("conflict", "Activate the crisis before revealing anyone.", status=409)
    reason = _check_reason(reason)
    with connection.cursor() as cursor:
        # One reveal of a user at a time: two at once would each count the day's reveals
        # without the other's and together pass the approval threshold.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"reveal:{user.pk}"])
    rows = selectors.affected_traveller_ids(
        crisis=crisis, user=user, country=country, include_country_only=include_country_only
    )
    ids = [traveller_id for traveller_id, _ in rows]
    if _needs_approval(user=user, traveller_ids=ids):
        request = RevealRequest.objects.create(
            crisis=crisis,
            requested_by=user,
            reason=reason,
            country=country,
            include_country_only=include_country_only,
            traveller_ids=ids,
        )
        audit_record(
            actor=user,
            action="reveal.request",
            object_type="reveal_request",
            object_id=request.pk,
            details={"crisis": str(crisis.pk), "reason": reason, "count": len(ids)},
        )
        return RevealResult(travellers=None, audit_id=None, request=request)
    records = reveal_records(crisis=crisis, user=user, traveller_ids=ids, include_country_only=include_country_only)
    audit_id = _audit_reveal(
        user=user,
        crisis=crisis,
        records=records,
        reason=reason,
        extra={"country": country, "include_country_only": include_country_only},
    )
    return RevealResult(travellers=records, audit_id=audit_id, request=None)


@transaction.atomic
def reveal_decide(*, request: RevealRequest, user: User, approve: bool) -> RevealRequest:
    """A supervisor other than the requester approves or rejects (four eyes)."""
    request = RevealRequest.objects.select_for_update().get(pk=request.pk)
    if request.requested_by_id == user.pk:
        raise DomainError("forbidden", "A reveal must be approved by someone else.", status=403)
    if request.status != RevealStatus.PENDING:
        raise DomainError("conflict", f"The request is already {request.status}.", status=409)
    request.status = RevealStatus.APPROVED if approve else RevealStatus.REJECTED
    request.decided_by = user
    request.decided_at = timezone.now()
    request.save(update_fields=["status", "decided_by", "decided_at"])
    audit_record(
        actor=user,
        action="reveal.approve" if approve else "reveal.reject",
        object_type="reveal_request",
        object_id=request.pk,
        details={"crisis": str(request.crisis_id), "count": len(request.traveller_ids)},
    )
    return request


@transaction.atomic
def reveal_fetch(*, request: RevealRequest, user: User) -> RevealResult:
    """The requester fetches an approved reveal, once, within a day of approval."""
    request = RevealRequest.objects.select_for_update().select_related("crisis").get(pk=request.pk)
    if request.requested_by_id != user.pk:
        raise DomainError("not_found", "Not found.", status=404)
    if request.status != RevealStatus.APPROVED:
        raise DomainError("conflict", f"The request is {request.status}, not approved.", status=409)
    if timezone.now() - request.decided_at > REVEAL_APPROVAL_VALID_FOR:
        raise DomainError("gone", "The approval has expired; request again.", status=410)
    records = reveal_records(
        crisis=request.crisis,
        user=user,
        traveller_ids=list(request.traveller_ids),
        include_country_only=request.include_country_only,
    )
    audit_id = _audit_reveal(
        user=user,
        crisis=request.crisis,
        records=records,
        reason=request.reason,
        extra={"request": str(request.pk), "approved_by": str(request.decided_by_id)},
    )
    request.status = RevealStatus.FETCHED
    request.fetched_at = timezone.now()
    request.save(update_fields=["status", "fetched_at"])
    return RevealResult(travellers=records, audit_id=audit_id, request=request)


def area_feature(crisis: Crisis) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": str(crisis.pk),
        "geometry": json.loads(shapely.to_geojson(crisis.area)),
        "properties": {"title": crisis.title, "severity": crisis.severity, "status": crisis.status},
    }
