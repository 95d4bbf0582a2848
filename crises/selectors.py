"""Reads: which crises a caller sees, and who is probably inside one (counts first)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import shapely
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.utils import timezone

from accounts.models import Role, User
from consular.validation import add_months
from crises.areas import parse_area
from crises.models import Crisis, RevealRequest

# Who is probably inside a crisis area, person by person.
#
# `matches`: every stay and residence that places its registration in the area during
# the crisis window: `located` by their point (the crisis parts drive a nested loop
# over the GiST index of stays and of residences, PostGIS keeping each part prepared
# while it stays the constant side of consecutive ST_Intersects calls), or, when asked
# for, `country_only` by a country the area touches. Each part's search is a LATERAL
# subquery behind OFFSET 0: the planner then estimates the matches per part instead of
# through the join selectivity of ST_Intersects, which follows the geometry statistics
# of every crisis ever drawn and was seen to expect 116,137 matches for 137; with that
# guess it hashed the 1.5 million companion links and birth months for a 331-person
# area (0.9 s instead of 0.005 s). A residence's window is
# [since, until or forever]. `kind`: 1 travelling (a trip's stay), 2 resident (a
# residence confirmed within RESIDENCE_CONFIRM_MONTHS), 3 unconfirmed.
#
# `persons`: the registrant of each match and the companions on its trip or residence,
# each person once, with the best of their matches: located before country-only, a
# point before a city, travelling before resident before unconfirmed (the most recent
# and precise word first), the latest ending first. So every breakdown of a section
# adds up to its total, and a person counted in `located` is not in `country_only`
# (suppression relies on both). The registrant's row (companion_id NULL) places the
# registration. A point on an edge shared by two parts matches twice: DISTINCT ON.
_MATCHES = """
matches AS MATERIALIZED (
    SELECT s.traveller_id, s.trip_id AS source_id, true AS is_trip, true AS located, 1 AS kind,
           s.country, s.precision, s.end_date AS last_day
    FROM crises_crisispart p
    CROSS JOIN LATERAL (
        SELECT s.traveller_id, s.trip_id, s.country, s.precision, s.end_date FROM registrations_stay s
        WHERE ST_Intersects(p.geom, s.point)
          AND s.precision IN ('point', 'city')
          AND daterange(s.start_date, s.end_date, '[]') && daterange(%(start)s, %(end)s, '[]')
          AND (%(all_countries)s OR s.country = ANY(%(jurisdiction)s))
        OFFSET 0) s
    WHERE p.crisis_id = %(crisis)s
    UNION ALL
    SELECT r.traveller_id, r.id, false, true, CASE WHEN r.confirmed_at >= %(confirmed_since)s THEN 2 ELSE 3 END,
           r.country, r.precision, coalesce(r.until, 'infinity'::date)
    FROM crises_crisispart p
    CROSS JOIN LATERAL (
        SELECT r.traveller_id, r.id, r.confirmed_at, r.country, r.precision, r.until FROM registrations_residence r
        WHERE ST_Intersects(p.geom, r.point)
          AND r.precision IN ('point', 'city')
          AND daterange(r.since, r.until, '[]') && daterange(%(start)s, %(end)s, '[]')
          AND (%(all_countries)s OR r.country = ANY(%(jurisdiction)s))
        OFFSET 0) r
    WHERE p.crisis_id = %(crisis)s
    UNION ALL
    SELECT s.traveller_id, s.trip_id, true, false, 1, s.country, s.precision, s.end_date
    FROM registrations_stay s
    WHERE %(include_country_only)s
      AND s.precision = 'country'
      AND s.country = ANY(%(touched)s)
      AND s.start_date <= %(end)s AND s.end_date >= %(start)s
      AND (%(all_countries)s OR s.country = ANY(%(jurisdiction)s))
    UNION ALL
    SELECT r.traveller_id, r.id, false, false, CASE WHEN r.confirmed_at >= %(confirmed_since)s THEN 2 ELSE 3 END,
           r.country, r.precision, coalesce(r.until, 'infinity'::date)
    FROM registrations_residence r
    WHERE %(include_country_only)s
      AND r.precision = 'country'
      AND r.country = ANY(%(touched)s)
      AND r.since <= %(end)s AND (r.until IS NULL OR r.until >= %(start)s)
      AND (%(all_countries)s OR r.country = ANY(%(jurisdiction)s))
), people AS (
    SELECT m.*, NULL::uuid AS companion_id FROM matches m
    UNION ALL
    SELECT m.*, tc.companion_id FROM matches m
    JOIN registrations_trip_companions tc ON m.is_trip AND tc.trip_id = m.source_id
    UNION ALL
    SELECT m.*, rc.companion_id FROM matches m
    JOIN registrations_residence_companions rc ON NOT m.is_trip AND rc.residence_id = m.source_id
)"""

AFFECTED_CTE = (
    "WITH"  # noqa: S608 - fixed fragments only, no outside text
    + _MATCHES
    + """, persons AS MATERIALIZED (
    SELECT DISTINCT ON (traveller_id, companion_id) traveller_id, companion_id, located, country, precision, kind
    FROM people
    ORDER BY traveller_id, companion_id, located DESC, precision DESC, kind, last_day DESC
)
"""
)

# Without a breakdown (a campaign's dry run and fan-out) only the set of people is
# needed: the same matches, deduplicated by hashing, which for a million people is
# measurably cheaper than the sort.
_AFFECTED_PERSONS_CTE = (
    "WITH"  # noqa: S608 - fixed fragments only, no outside text
    + _MATCHES
    + """, persons AS MATERIALIZED (
    SELECT DISTINCT traveller_id, companion_id FROM people
)
"""
)


def affected_persons_cte() -> str:
    """The affected people as SQL for other apps' statements (a campaign's dry run and fan-out).

    A ``WITH`` clause ending in a CTE ``persons(traveller_id, companion_id)``: each
    affected person once, ``companion_id`` NULL for a registrant. The same people as the
    counts. Continue it with ``, more AS (...)`` or a ``SELECT``; its parameters come
    from :func:`affected_parameters`.
    """
    return _AFFECTED_PERSONS_CTE


COUNTS_SQL = (
    AFFECTED_CTE
    + """
SELECT p.located, p.country, p.precision, p.kind,
       count(*) FILTER (WHERE p.companion_id IS NULL),
       count(*),
       count(*) FILTER (WHERE coalesce(c.birth_month, t.birth_month) >= %(minor_born_since)s)
FROM persons p
LEFT JOIN registrations_companion c ON c.id = p.companion_id
LEFT JOIN registrations_traveller t ON p.companion_id IS NULL AND t.id = p.traveller_id
GROUP BY 1, 2, 3, 4
"""
)

# Each affected registration (its registrant's row places it), with the people it holds
# in the area: the registrant and the companions on its matching trips or residences.
IDS_SQL = (
    AFFECTED_CTE  # noqa: S608 - fixed fragments only, no outside text
    + """
SELECT p.traveller_id, CASE WHEN p.located THEN 'located' ELSE 'country_only' END, h.persons
FROM persons p
JOIN (SELECT traveller_id, count(*) AS persons FROM persons GROUP BY traveller_id) h USING (traveller_id)
WHERE p.companion_id IS NULL AND (%(country)s = '' OR p.country = %(country)s)
"""
)


def country_outlines(tolerance: float = 0.05) -> list[tuple[str, str, dict[str, Any]]]:
    """Every bundled country's (code, name, outline as GeoJSON), simplified for drawing on a map."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT code, name, ST_AsGeoJSON(ST_SimplifyPreserveTopology(area, %s), 3)"
            " FROM crises_country ORDER BY code",
            [tolerance],
        )
        return [(code, name, json.loads(outline)) for code, name, outline in cursor.fetchall()]


def crisis_outlines(crisis_ids: list[uuid.UUID], *, pixels: int) -> dict[uuid.UUID, str]:
    """Each crisis's area as GeoJSON text, simplified to about a pixel when drawn `pixels` across (for the
    eye only: ST_Simplify keeps small parts but not validity, 15 times faster than keeping topology), and
    whole across ±180°: an area cut there (both sides touched) has its western pieces moved east by
    360° (ST_ShiftLongitude), so a map draws Fiji's crisis as one shape, not two at its edges."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT id, ST_AsGeoJSON(ST_Simplify(
                       CASE WHEN ST_XMin(area) <= -179.999 AND ST_XMax(area) >= 179.999
                            THEN ST_ShiftLongitude(area) ELSE area END,
                       greatest(ST_XMax(area) - ST_XMin(area), ST_YMax(area) - ST_YMin(area)) / %s, true), 4)
            FROM crises_crisis WHERE id = ANY(%s)
            """,
            [pixels, crisis_ids],
        )
        return dict(cursor.fetchall())


def crises_visible_to(*, user: User) -> QuerySet[Crisis]:
    """Admins see every crisis; other staff the crises touching their post's jurisdiction."""
    countries = user.jurisdiction()
    if countries is None:
        return Crisis.objects.all()
    if not countries:
        return Crisis.objects.none()
    return Crisis.objects.filter(countries__overlap=sorted(countries))


def with_exposure(crises: QuerySet[Crisis], *, user: User) -> QuerySet[Crisis]:
    """Each crisis with `exposure_located`: the registrations its stored exposure locates in the caller's
    countries (every country for an admin); null when none was computed (a drawn crisis)."""
    countries = user.jurisdiction()
    if countries is None:
        sql = "SELECT sum((value->>'located')::int) FROM jsonb_each(crises_crisis.exposure_by_country)"
        parameters: tuple[Any, ...] = ()
    else:
        sql = (
            "SELECT coalesce(sum((value->>'located')::int), 0) FROM jsonb_each(crises_crisis.exposure_by_country)"
            " WHERE key = ANY(%s)"
        )
        parameters = (sorted(countries),)
    return crises.annotate(
        exposure_located=Case(
            When(exposure_at__isnull=True, then=Value(None)),
            default=RawSQL(sql, parameters),  # noqa: S611 - fixed SQL, the countries passed as a parameter
            output_field=IntegerField(),
        )
    )


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
    return _parameters(crisis, user.jurisdiction(), include_country_only=include_country_only, country=country)


def _parameters(
    crisis: Crisis, countries: AbstractSet[str] | None, *, include_country_only: bool, country: str = ""
) -> dict[str, Any]:
    """``countries``: the jurisdiction counted, None for every country."""
    window = crisis_window(crisis)
    # Minors: under 18 on the crisis's first day, read from the month of birth (the day
    # is encrypted), so someone turning 18 in that month still counts as a minor.
    first_month = window.start.replace(day=1)
    return {
        "confirmed_since": add_months(timezone.now(), -settings.RESIDENCE_CONFIRM_MONTHS),
        "minor_born_since": first_month.replace(year=first_month.year - 18),
        "crisis": crisis.pk,
        "start": window.start,
        "end": window.end,
        "all_countries": countries is None,
        "jurisdiction": sorted(countries or ()),
        "touched": list(crisis.countries),
        "include_country_only": include_country_only,
        "country": country,
    }


KINDS = {1: "travelling", 2: "resident", 3: "unconfirmed"}


@dataclass
class PersonCounts:
    """The people of one cell: minors among them, and each counted once as travelling, resident or unconfirmed."""

    persons: int = 0
    minors: int = 0
    travelling: int = 0
    resident: int = 0
    unconfirmed: int = 0


@dataclass(frozen=True)
class AffectedCounts:
    located: dict[tuple[str, str], int]  # (country, precision) -> registrations
    country_only: dict[str, int]  # country -> registrations
    located_persons: dict[str, PersonCounts] = field(default_factory=dict)  # country -> its people
    country_only_persons: dict[str, PersonCounts] = field(default_factory=dict)


def affected_counts(*, crisis: Crisis, user: User) -> AffectedCounts:
    return _counts(affected_parameters(crisis, user, include_country_only=True))


def exposure_seen_by(*, crisis: Crisis, user: User) -> tuple[int, int]:
    """(located, country-only) registrations in the caller's countries: a feed's exposure as stored at
    intake when there is one (it is kept current by each revision), else the join now."""
    countries = user.jurisdiction()
    if crisis.exposure_at is not None:
        cells = [cell for code, cell in crisis.exposure_by_country.items() if countries is None or code in countries]
        return sum(cell.get("located", 0) for cell in cells), sum(cell.get("country_only", 0) for cell in cells)
    counts = affected_counts(crisis=crisis, user=user)
    return sum(counts.located.values()), sum(counts.country_only.values())


def crisis_exposure(*, crisis: Crisis) -> AffectedCounts:
    """The counts over every country, whoever looks: what a feed's early warning and activation rule read."""
    return _counts(_parameters(crisis, None, include_country_only=True))


def join_memory(cursor: Any) -> None:
    """Give this transaction's sorts and hashes of the join JOIN_WORK_MEM each (PostgreSQL's 4 MB
    default spills a dense area's distinct step to disk: 4.9 s against 3.5 s with 64 MB on the
    1,000,000-registration bench). SET LOCAL: it ends with the transaction."""
    cursor.execute("SELECT set_config('work_mem', %s, true)", [settings.JOIN_WORK_MEM])


def _counts(parameters: dict[str, Any], sql: str = COUNTS_SQL) -> AffectedCounts:
    counts = AffectedCounts(located={}, country_only={})
    with transaction.atomic(), connection.cursor() as cursor:
        join_memory(cursor)
        cursor.execute(sql, parameters)
        for located, country, precision, kind, registrations, persons, minors in cursor.fetchall():
            if located:
                if registrations:
                    counts.located[(country, precision)] = counts.located.get((country, precision), 0) + registrations
                cells = counts.located_persons
            else:
                if registrations:
                    counts.country_only[country] = counts.country_only.get(country, 0) + registrations
                cells = counts.country_only_persons
            cell = cells.setdefault(country, PersonCounts())
            cell.persons += persons
            cell.minors += minors
            setattr(cell, KINDS[kind], getattr(cell, KINDS[kind]) + persons)
    return counts


# The same join over an area not saved yet (the console's preview while an officer draws):
# its parts come in as a literal array instead of from
# crises_crisispart, so the planner knows how many there are (unnest's row estimate for a
# constant array); from a set-returning function it would guess 1,000 and hash the whole
# companion tables (0.5 s instead of 5 ms on the 1,000,000-traveller bench). Nothing is written.
_PREVIEW_PARTS = "(SELECT %(crisis)s::uuid AS crisis_id, ST_GeomFromWKB(unnest(%(parts)s::bytea[]), 4326) AS geom) p"
PREVIEW_COUNTS_SQL = COUNTS_SQL.replace("crises_crisispart p", _PREVIEW_PARTS)
if PREVIEW_COUNTS_SQL.count(_PREVIEW_PARTS) != 2:  # both located branches, or the preview would miss people
    raise RuntimeError("the preview's parts did not replace the crisis's parts in both branches")


@dataclass(frozen=True)
class AreaPreview:
    counts: AffectedCounts
    countries: list[str]
    warnings: list[str]
    vertex_count: int
    geometry: Any  # the area as read (repaired, cut at ±180°)


def area_preview(*, user: User, area: Any, starts_at: datetime, ends_at: datetime | None) -> AreaPreview:
    """Who an area would count, before it is saved: the counts of `affected_counts`, nothing stored."""
    parsed = parse_area(area, max_vertices=settings.CRISIS_MAX_VERTICES)
    wkb = shapely.to_wkb(parsed.geometry)
    # Its polygons as the parts, not subdivided: ST_Subdivide costs 80 ms for 10,000 vertices, more
    # than it saves in the join of one count (one part: 31 ms, 1,024-vertex parts: 35 ms, measured
    # for PART_VERTICES), which a saved crisis repeats and a preview does not.
    parts = [shapely.to_wkb(polygon) for polygon in getattr(parsed.geometry, "geoms", [parsed.geometry])]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(array_agg(DISTINCT country_id ORDER BY country_id), '{}') FROM crises_countrypart"
            " WHERE ST_Intersects(geom, ST_GeomFromWKB(%s, 4326))",
            [wkb],
        )
        (countries,) = cursor.fetchone()
    draft = Crisis(starts_at=starts_at, ends_at=ends_at, countries=countries)
    parameters = {
        **_parameters(draft, user.jurisdiction(), include_country_only=True),
        "crisis": uuid.UUID(int=0),
        "parts": parts,
    }
    return AreaPreview(
        _counts(parameters, PREVIEW_COUNTS_SQL), list(countries), parsed.warnings, parsed.vertex_count, parsed.geometry
    )


def affected_traveller_ids(
    *, crisis: Crisis, user: User, country: str = "", include_country_only: bool
) -> list[tuple[uuid.UUID, str, int]]:
    """(traveller id, "located" | "country_only", persons) of each affected registration, for a reveal."""
    with connection.cursor() as cursor:
        cursor.execute(
            IDS_SQL, affected_parameters(crisis, user, include_country_only=include_country_only, country=country)
        )
        return [(row[0], row[1], row[2]) for row in cursor.fetchall()]
