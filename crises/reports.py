"""The aggregate-first answer about a crisis, with small-count suppression for analysts."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.utils import timezone

from crises.models import Crisis
from crises.selectors import AffectedCounts, PersonCounts
from crises.suppression import Cell, flattened, suppress_breakdown, suppress_grid

# A section's columns: registrations ("count" in a country's row, "total" for the
# section), then the people (each counted once) and how they split.
PERSON_COLUMNS = ("persons", "minors", "travelling", "resident", "unconfirmed")
COLUMNS = ("count", *PERSON_COLUMNS)
GROUPS: dict[str, tuple[str, ...]] = {"persons": ("travelling", "resident", "unconfirmed")}


def _section(registrations: dict[str, int], persons: dict[str, PersonCounts], k: int | None) -> dict[str, Any]:
    rows = {
        country: {"count": registrations.get(country, 0), **asdict(persons.get(country, PersonCounts()))}
        for country in sorted(set(registrations) | set(persons))
    }
    if k is None:
        totals = {column: Cell(sum(row[column] for row in rows.values()), False) for column in COLUMNS}
        cells = {country: {column: Cell(row[column], False) for column in COLUMNS} for country, row in rows.items()}
    else:
        totals, cells = suppress_grid(rows, COLUMNS, GROUPS, k)
    section: dict[str, Any] = {"total": totals["count"].count}
    if totals["count"].suppressed:
        section["total_suppressed"] = True
    section.update(flattened({column: totals[column] for column in PERSON_COLUMNS}))
    by_country = []
    for country, row in cells.items():
        entry: dict[str, Any] = {"country": country, "count": row["count"].count}
        if row["count"].suppressed:
            entry["suppressed"] = True
        entry.update(flattened({column: row[column] for column in PERSON_COLUMNS}))
        by_country.append(entry)
    section["by_country"] = by_country
    return section


def checkins_report(checkins: dict[str, int] | None, k: int | None) -> dict[str, Any] | None:
    """The check-in breakdown as `affected` answers it (small counts hidden for analysts), on its own."""
    return _checkins(checkins, k)


def _checkins(checkins: dict[str, int] | None, k: int | None) -> dict[str, Any] | None:
    if checkins is None:
        return None
    if k is None:
        return dict(checkins)
    return flattened(suppress_breakdown(checkins, k))


def _by_precision(counts: AffectedCounts, located: dict[str, Any], k: int | None) -> dict[str, Any]:
    by_precision = {"point": 0, "city": 0}
    for (_, precision), n in counts.located.items():
        by_precision[precision] += n
    if k is None:
        cells = {p: Cell(n, False) for p, n in by_precision.items()}
    elif not located.get("total_suppressed"):
        cells = suppress_breakdown(by_precision, k)
    else:
        cells = {p: Cell(None, True) if n else Cell(0, False) for p, n in by_precision.items()}
    return flattened(cells)


def affected_report(
    *, crisis: Crisis, counts: AffectedCounts, suppress_below: int | None, checkins: dict[str, int] | None = None
) -> dict[str, Any]:
    """``suppress_below`` is k for analysts (counts 1..k-1 hidden), None for everyone else;
    ``checkins`` is the check-in breakdown once a campaign asked for them."""
    registrations: dict[str, int] = {}
    for (country, _), n in counts.located.items():
        registrations[country] = registrations.get(country, 0) + n
    located = _section(registrations, counts.located_persons, suppress_below)
    located["by_precision"] = _by_precision(counts, located, suppress_below)
    country_only = _section(counts.country_only, counts.country_only_persons, suppress_below)
    return {
        "crisis": str(crisis.pk),
        "as_of": timezone.now().isoformat(),
        "located": located,
        "country_only": country_only,
        "checkins": _checkins(checkins, suppress_below),
        "suppressed_below": suppress_below,
    }
