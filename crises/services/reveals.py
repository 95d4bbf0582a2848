"""Reveals: the identities of the people affected by a crisis, justified, audited, and
above a daily threshold only with a supervisor's approval (four eyes)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from consular.audit import audit_record
from consular.crypto import unseal
from consular.errors import DomainError
from consular.models import AuditEntry
from crises import hooks, selectors
from crises.models import Crisis, RevealRequest, RevealStatus, Status
from registrations.models import Residence, Stay, Traveller
from registrations.selectors import companion_for_reveal, contact_of, disclosure_of, registration_companions

MIN_REASON_LENGTH = 20
REVEAL_APPROVAL_VALID_FOR = timedelta(hours=24)
REVEAL_WINDOW = timedelta(hours=24)  # over which REVEAL_APPROVAL_ABOVE counts a user's reveals


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


# The stays and residences that made each revealed registration affected, by the same
# rules as the join (crises.selectors): in the caller's jurisdiction, and country
# precision only when the reveal asked for it. A traveller also staying in another
# post's countries shows only what this caller may see.
_STAYS_SQL = """
SELECT s.id, s.traveller_id, s.trip_id, s.country, s.city_enc, s.start_date, s.end_date
FROM registrations_stay s
JOIN crises_crisis c ON c.id = %(crisis)s
WHERE s.traveller_id = ANY(%(ids)s)
  AND s.start_date <= %(end)s AND s.end_date >= %(start)s
  AND (%(all_countries)s OR s.country = ANY(%(jurisdiction)s))
  AND ((s.precision IN ('point', 'city') AND ST_Intersects(c.area, s.point))
       OR (%(include_country_only)s AND s.precision = 'country' AND s.country = ANY(c.countries)))
ORDER BY s.traveller_id, s.start_date
"""

_RESIDENCES_SQL = """
SELECT r.id, r.traveller_id, r.country, r.city_enc, r.since, r.until, r.confirmed_at < %(confirmed_since)s
FROM registrations_residence r
JOIN crises_crisis c ON c.id = %(crisis)s
WHERE r.traveller_id = ANY(%(ids)s)
  AND r.since <= %(end)s AND (r.until IS NULL OR r.until >= %(start)s)
  AND (%(all_countries)s OR r.country = ANY(%(jurisdiction)s))
  AND ((r.precision IN ('point', 'city') AND ST_Intersects(c.area, r.point))
       OR (%(include_country_only)s AND r.precision = 'country' AND r.country = ANY(c.countries)))
ORDER BY r.traveller_id, r.since
"""

# The companions on those trips and residences.
_COMPANIONS_SQL = """
SELECT companion_id FROM registrations_trip_companions WHERE trip_id = ANY(%(trips)s)
UNION
SELECT companion_id FROM registrations_residence_companions WHERE residence_id = ANY(%(residences)s)
"""


def reveal_records(
    *, crisis: Crisis, user: User, traveller_ids: list[uuid.UUID], include_country_only: bool
) -> list[dict[str, Any]]:
    """The minimal contact record of each registration and of the companions in the area with it:
    never passport, date of birth or address."""
    parameters = {
        **selectors.affected_parameters(crisis, user, include_country_only=include_country_only),
        "ids": traveller_ids,
    }
    stays: dict[uuid.UUID, list[tuple]] = {}
    residences: dict[uuid.UUID, list[tuple]] = {}
    with connection.cursor() as cursor:
        cursor.execute(_STAYS_SQL, parameters)
        trips = set()
        for stay_id, traveller_id, trip_id, country, city_enc, start, end in cursor.fetchall():
            stays.setdefault(traveller_id, []).append((stay_id, country, city_enc, start, end))
            trips.add(trip_id)
        cursor.execute(_RESIDENCES_SQL, parameters)
        for row in cursor.fetchall():
            residences.setdefault(row[1], []).append(row)
        cursor.execute(
            _COMPANIONS_SQL,
            {"trips": list(trips), "residences": [row[0] for rows in residences.values() for row in rows]},
        )
        companion_ids = [row[0] for row in cursor.fetchall()]
    companions = registration_companions(companion_ids)
    records = []
    checkins = hooks.latest_checkins(crisis, traveller_ids)
    today = timezone.localdate()
    for traveller in Traveller.objects.filter(pk__in=traveller_ids).select_related("data_key").order_by("ref"):
        cipher = traveller.data_key.cipher()
        contact = contact_of(traveller=traveller, family_name=True)
        records.append(
            {
                "ref": traveller.ref,
                "given_name": contact.given_name,
                "family_name": contact.family_name,
                "phone": contact.phone,
                "email": contact.email,
                "language": contact.language,
                "disclosure": disclosure_of(traveller=traveller, cipher=cipher),
                "stays": [
                    {
                        "country": country,
                        "city": unseal(cipher, Stay(id=stay_id, city_enc=city_enc), "city"),
                        "start_date": start.isoformat(),
                        "end_date": end.isoformat(),
                    }
                    for stay_id, country, city_enc, start, end in stays.get(traveller.pk, [])
                ],
                "residences": [
                    {
                        "country": country,
                        "city": unseal(cipher, Residence(id=residence_id, city_enc=city_enc), "city"),
                        "since": since.isoformat(),
                        "until": until.isoformat() if until else None,
                        "unconfirmed": unconfirmed,
                    }
                    for residence_id, _, country, city_enc, since, until, unconfirmed in residences.get(
                        traveller.pk, []
                    )
                ],
                "companions": [
                    {
                        **companion_for_reveal(companion=companion, cipher=cipher, today=today),
                        "checkin": checkins.get((traveller.pk, companion.pk)),
                    }
                    for companion in companions.get(traveller.pk, [])
                ],
                "checkin": checkins.get((traveller.pk, None)),
            }
        )
    return records


def _audit_reveal(*, user: User, crisis: Crisis, records: list[dict], reason: str, extra: dict) -> int:
    persons = {record["ref"]: 1 + len(record["companions"]) for record in records}
    entry = audit_record(
        actor=user,
        action="reveal",
        object_type="crisis",
        object_id=crisis.pk,
        details={
            "reason": reason,
            "count": len(records),
            "refs": [r["ref"] for r in records],
            # People per registration: the approval threshold counts people, not registrations.
            "persons": persons,
            **extra,
        },
    )
    return entry.pk


def _revealed_recently(user: User) -> dict[str, int]:
    """People revealed to this user without approval in the last REVEAL_WINDOW, by registration (from the audit log)."""
    since = timezone.now() - REVEAL_WINDOW
    revealed: dict[str, int] = {}
    entries = AuditEntry.objects.filter(actor_id=user.pk, action="reveal", at__gte=since)
    for details in entries.values_list("details", flat=True):
        if "request" in details:  # fetched after a supervisor's approval: already four-eyed
            continue
        persons = details.get("persons", {})
        for ref in details.get("refs", []):
            revealed[ref] = max(revealed.get(ref, 0), persons.get(ref, 1))
    return revealed


def _needs_approval(*, user: User, persons: dict[uuid.UUID, int]) -> bool:
    # The threshold counts distinct people revealed to one user over a day, companions
    # included, this reveal too: otherwise one large reveal could be split into small
    # ones (by country, by redrawn areas, by several crises) that each stay below it.
    limit = settings.REVEAL_APPROVAL_ABOVE
    if sum(persons.values()) > limit:
        return True
    refs = dict(Traveller.objects.filter(pk__in=list(persons)).values_list("ref", "id"))
    revealed = _revealed_recently(user)
    for ref, traveller_id in refs.items():
        revealed[ref] = max(revealed.get(ref, 0), persons[traveller_id])
    return sum(revealed.values()) > limit


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
    ids = [traveller_id for traveller_id, _, _ in rows]
    if _needs_approval(user=user, persons={traveller_id: persons for traveller_id, _, persons in rows}):
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
    if request.decided_at is None or timezone.now() - request.decided_at > REVEAL_APPROVAL_VALID_FOR:
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


_FEW_IDS = 100


def reveal_requests_forget(*, traveller_ids: list[uuid.UUID]) -> None:
    """Erased travellers leave the reveal requests that list them (privacy.services.erasure).

    A pending request keeps ids only, but an erased person's id must not stay linked
    to a crisis area.
    """
    if not traveller_ids:
        return
    ids = [str(traveller_id) for traveller_id in traveller_ids]
    # The lists are filtered through a hash join, so a replay of a long ledger (a
    # million ids after some years of retention) stays linear in the ids listed, where
    # `&&` or `<> ALL` compares every pair. A few ids (one person's erasure) first pick
    # the requests naming them, through the GIN index once there are many requests.
    pick_first = len(ids) <= _FEW_IDS
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH erased AS (SELECT DISTINCT unnest(%s::uuid[]) AS id),
            kept AS (
                SELECT request.id,
                       coalesce(array_agg(listed.id ORDER BY listed.position) FILTER (WHERE erased.id IS NULL),
                                '{{}}') AS traveller_ids
                FROM crises_revealrequest AS request
                CROSS JOIN LATERAL unnest(request.traveller_ids) WITH ORDINALITY AS listed(id, position)
                LEFT JOIN erased ON erased.id = listed.id
                {"WHERE request.traveller_ids && %s::uuid[]" if pick_first else ""}
                GROUP BY request.id
                HAVING bool_or(erased.id IS NOT NULL)
            )
            UPDATE crises_revealrequest AS request SET traveller_ids = kept.traveller_ids
            FROM kept WHERE kept.id = request.id
            """,  # noqa: S608 - no value in the text: the optional clause is fixed
            [ids, ids] if pick_first else [ids],
        )
