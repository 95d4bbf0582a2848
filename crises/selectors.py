"""Reads: which crises a caller sees, and who is probably inside one (counts first)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from accounts.models import Role, User
from crises.models import Crisis, RevealRequest


# One row per affected traveller, each assigned to a single country and
# precision so that every breakdown adds up to its total (suppression relies on it).
#
# `located`: the crisis parts drive a nested loop over the stays' GiST index —
# PostGIS keeps each part prepared while it stays the constant side of
# consecutive ST_Intersects calls. A point on an edge shared by two parts
# matches twice, hence DISTINCT ON. `country_only`: country-precision stays in a
# country the area touches, for travellers not already located.
def _affected_cte(*, breakdown: bool) -> str:
    # With ``breakdown``, each traveller keeps the country and precision of their best
    # stay (DISTINCT ON, sorted). Without it (fan-out, dry run) only the set of ids is
    # needed: the same WHERE clauses, so the same people, deduplicated by hashing,
    # which for a million people is measurably cheaper than the sort.
    if breakdown:
        located = "DISTINCT ON (s.traveller_id) s.traveller_id, s.country, s.precision"
        located_order = "ORDER BY s.traveller_id, s.precision DESC, s.end_date DESC"
        country_order = "ORDER BY s.traveller_id, s.end_date DESC"
    else:
        located, located_order, country_order = "DISTINCT s.traveller_id", "", ""
    return f"""
WITH located AS MATERIALIZED (
    SELECT {located}
    FROM crises_crisispart p
    JOIN registrations_stay s ON ST_Intersects(p.geom, s.point)
    WHERE p.crisis_id = %(crisis)s
      AND s.precision IN ('point', 'city')
      AND daterange(s.start_date, s.end_date, '[]') && daterange(%(start)s, %(end)s, '[]')
      AND (%(all_countries)s OR s.country = ANY(%(jurisdiction)s))
    {located_order}
), country_only AS MATERIALIZED (
    SELECT {located}
    FROM registrations_stay s
    WHERE %(include_country_only)s
      AND s.precision = 'country'
      AND s.country = ANY(%(touched)s)
      AND s.start_date <= %(end)s AND s.end_date >= %(start)s
      AND (%(all_countries)s OR s.country = ANY(%(jurisdiction)s))
      AND NOT EXISTS (SELECT 1 FROM located l WHERE l.traveller_id = s.traveller_id)
    {country_order}
)
"""  # noqa: S608 - fixed fragments only, no outside text


AFFECTED_CTE = _affected_cte(breakdown=True)
_AFFECTED_IDS_CTE = _affected_cte(breakdown=False)


def affected_ids_cte() -> str:
    """The affected set as SQL for other apps' statements (a campaign's dry run and fan-out).

    A ``WITH`` clause of two CTEs, ``located`` and ``country_only``, each with a
    ``traveller_id`` column: the same people as the counts, ids only, each once
    (the two sets are disjoint). Continue it with ``, more AS (...)`` or a ``SELECT``;
    its parameters come from :func:`affected_parameters`.
    """
    return _AFFECTED_IDS_CTE


COUNTS_SQL = (
    AFFECTED_CTE
    + """
SELECT 'located' AS kind, country, precision, count(*) FROM located GROUP BY country, precision
UNION ALL
SELECT 'country_only', country, precision, count(*) FROM country_only GROUP BY country, precision
"""
)

IDS_SQL = (
    AFFECTED_CTE
    + """
SELECT traveller_id, 'located' FROM located WHERE %(country)s = '' OR country = %(country)s
UNION ALL
SELECT traveller_id, 'country_only' FROM country_only WHERE %(country)s = '' OR country = %(country)s
"""
)


def crises_visible_to(*, user: User) -> QuerySet[Crisis]:
    """Admins see every crisis; other staff the crises touching their post's jurisdiction."""
    countries = user.jurisdiction()
    if countries is None:
        return Crisis.objects.all()
    if not countries:
        return Crisis.objects.none()
    return Crisis.objects.filter(countries__overlap=sorted(countries))


def crisis_for(*, user: User, crisis_id: uuid.UUID) -> Crisis | None:
    return crises_visible_to(user=user).filter(pk=crisis_id).first()


def reveal_requests_visible_to(*, user: User) -> QuerySet[RevealRequest]:
    """An officer sees their own requests; a supervisor those of their own post's staff.

    The four-eyes check stays within the post: a supervisor elsewhere, even one
    whose jurisdiction the crisis also touches, neither sees nor decides them.
    """
    requests = RevealRequest.objects.filter(crisis__in=crises_visible_to(user=user)).select_related("crisis")
    if user.role == Role.SUPERVISOR:
        return requests.filter(requested_by__post_id=user.post_id) if user.post_id else requests.none()
    return requests.filter(requested_by=user)


def reveal_request_for(*, user: User, request_id: uuid.UUID) -> RevealRequest | None:
    return reveal_requests_visible_to(user=user).filter(pk=request_id).first()


@dataclass(frozen=True)
class Window:
    start: date
    end: date


def crisis_window(crisis: Crisis) -> Window:
    # An open end means "until now and on": every stay from the start onwards.
    return Window(crisis.starts_at.date(), crisis.ends_at.date() if crisis.ends_at else date.max)


def affected_parameters(crisis: Crisis, user: User, *, include_country_only: bool, country: str = "") -> dict[str, Any]:
    """Parameters of AFFECTED_CTE for this crisis as seen by this user."""
    window = crisis_window(crisis)
    countries = user.jurisdiction()
    return {
        "crisis": crisis.pk,
        "start": window.start,
        "end": window.end,
        "all_countries": countries is None,
        "jurisdiction": sorted(countries or ()),
        "touched": list(crisis.countries),
        "include_country_only": include_country_only,
        "country": country,
    }


@dataclass(frozen=True)
class AffectedCounts:
    located: dict[tuple[str, str], int]  # (country, precision) -> travellers
    country_only: dict[str, int]  # country -> travellers


def affected_counts(*, crisis: Crisis, user: User) -> AffectedCounts:
    located: dict[tuple[str, str], int] = {}
    country_only: dict[str, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(COUNTS_SQL, affected_parameters(crisis, user, include_country_only=True))
        for kind, country, precision, count in cursor.fetchall():
            if kind == "located":
                located[(country, precision)] = count
            else:
                country_only[country] = count
    return AffectedCounts(located=located, country_only=country_only)


def affected_traveller_ids(
    *, crisis: Crisis, user: User, country: str = "", include_country_only: bool
) -> list[tuple[uuid.UUID, str]]:
    """(traveller id, "located" | "country_only") of everyone affected, for a reveal or a campaign."""
    with connection.cursor() as cursor:
        cursor.execute(
            IDS_SQL, affected_parameters(crisis, user, include_country_only=include_country_only, country=country)
        )
        return [(row[0], row[1]) for row in cursor.fetchall()]
