"""The aggregate-first answer about a crisis, with small-count suppression for analysts."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from crises.models import Crisis
from crises.selectors import AffectedCounts
from crises.suppression import Cell, flattened, suppress_breakdown, suppress_total, suppress_under


def _total(cell: Cell) -> dict[str, Any]:
    return {"total": cell.count, "total_suppressed": True} if cell.suppressed else {"total": cell.count}


def _by_country(cells: dict[str, Cell]) -> list[dict[str, Any]]:
    rows = []
    for country in sorted(cells):
        cell = cells[country]
        rows.append({"country": country, "count": cell.count, **({"suppressed": True} if cell.suppressed else {})})
    return rows


def _section(by_country: dict[str, int], k: int | None) -> tuple[dict[str, Any], int]:
    total = sum(by_country.values())
    if k is None:
        return {"total": total, "by_country": _by_country({c: Cell(n, False) for c, n in by_country.items()})}, total
    total_cell = suppress_total(total, k)
    cells = suppress_under(by_country, k, total_hidden=total_cell.suppressed)
    return {**_total(total_cell), "by_country": _by_country(cells)}, total


def _checkins(checkins: dict[str, int] | None, k: int | None) -> dict[str, Any] | None:
    if checkins is None:
        return None
    if k is None:
        return dict(checkins)
    return flattened(suppress_breakdown(checkins, k))


def affected_report(
    *, crisis: Crisis, counts: AffectedCounts, suppress_below: int | None, checkins: dict[str, int] | None = None
) -> dict[str, Any]:
    """``suppress_below`` is k for analysts (counts 1..k-1 hidden), None for everyone else;
    ``checkins`` is the check-in breakdown once a campaign asked for them."""
    by_country: dict[str, int] = {}
    by_precision = {"point": 0, "city": 0}
    for (country, precision), n in counts.located.items():
        by_country[country] = by_country.get(country, 0) + n
        by_precision[precision] += n
    located, located_total = _section(by_country, suppress_below)
    if suppress_below is None or suppress_total(located_total, suppress_below).suppressed is False:
        precision_cells = (
            suppress_breakdown(by_precision, suppress_below)
            if suppress_below
            else {p: Cell(n, False) for p, n in by_precision.items()}
        )
    else:
        precision_cells = {p: Cell(None, True) if n else Cell(0, False) for p, n in by_precision.items()}
    located["by_precision"] = {}
    for precision, cell in precision_cells.items():
        located["by_precision"][precision] = cell.count
        if cell.suppressed:
            located["by_precision"][f"{precision}_suppressed"] = True
    country_only, _ = _section(counts.country_only, suppress_below)
    return {
        "crisis": str(crisis.pk),
        "as_of": timezone.now().isoformat(),
        "located": located,
        "country_only": country_only,
        "checkins": _checkins(checkins, suppress_below),
        "suppressed_below": suppress_below,
    }
