"""Small-count suppression for analysts, as official statistics do it.

Primary: every count from 1 to k-1 is hidden. Secondary: where exactly one cell
of a breakdown is hidden, the next-smallest non-zero cell is hidden too, so the
hidden value cannot be recomputed as total minus the visible cells. (Zeros stay
visible: a zero discloses nobody.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from accounts.models import Role, User


@dataclass(frozen=True)
class Cell:
    count: int | None
    suppressed: bool


def _primary(count: int, k: int) -> bool:
    return 0 < count < k


def suppress_total(total: int, k: int) -> Cell:
    return Cell(None, True) if _primary(total, k) else Cell(total, False)


def suppress_breakdown(cells: dict[str, int], k: int) -> dict[str, Cell]:
    hidden = {name for name, count in cells.items() if _primary(count, k)}
    if len(hidden) == 1:
        candidates = sorted((count, name) for name, count in cells.items() if name not in hidden and count > 0)
        if candidates:
            hidden.add(candidates[0][1])
    return {name: Cell(None, True) if name in hidden else Cell(count, False) for name, count in cells.items()}


def suppress_under(cells: dict[str, int], k: int, *, total_hidden: bool) -> dict[str, Cell]:
    """A breakdown of a total: under a hidden total every non-zero cell is hidden too (any could give it away)."""
    if total_hidden:
        return {name: Cell(None, True) if count else Cell(0, False) for name, count in cells.items()}
    return suppress_breakdown(cells, k)


def flattened(cells: dict[str, Cell]) -> dict[str, Any]:
    """``{name: count}``, with ``name_suppressed: true`` beside each hidden cell (the API's shape)."""
    out: dict[str, Any] = {}
    for name, cell in cells.items():
        out[name] = cell.count
        if cell.suppressed:
            out[f"{name}_suppressed"] = True
    return out


def threshold_for(user: User) -> int | None:
    """k for this caller's counts: analysts see counts from 1 to k-1 hidden, other staff see them all."""
    return settings.SUPPRESS_BELOW if user.role == Role.ANALYST else None


TOTAL = ""  # the row of a grid's totals


def suppress_grid(
    rows: dict[str, dict[str, int]], columns: tuple[str, ...], groups: dict[str, tuple[str, ...]], k: int
) -> tuple[dict[str, Cell], dict[str, dict[str, Cell]]]:
    """Suppression over a table: rows (countries) by columns (registrations, persons, minors, ...).

    Each column is a breakdown of its total over the rows, and in every row (the totals'
    too) each of ``groups`` splits a parent column into children (persons into
    travelling, resident, unconfirmed). Primary suppression hides counts from 1 to k-1;
    under a hidden parent every non-zero child is hidden; and wherever one line (a
    column, or a group in a row) would show all but one of its hidden cells, its
    next-smallest non-zero cell is hidden too, again until no line changes, so no
    hidden count is the difference of visible ones along any line.

    Returns the totals' cells and each row's.
    """
    grid = {**rows, TOTAL: {column: sum(row[column] for row in rows.values()) for column in columns}}
    hidden = {(row, column) for row, values in grid.items() for column in columns if _primary(values[column], k)}

    def hide_smallest_beside_a_lone_one(line: list[tuple[str, str]]) -> None:
        if sum(cell in hidden for cell in line) != 1:
            return
        visible = sorted((grid[row][column], row, column) for row, column in line if (row, column) not in hidden)
        smallest = next(((row, column) for count, row, column in visible if count > 0), None)
        if smallest is not None:
            hidden.add(smallest)

    while True:
        before = len(hidden)
        for column in columns:
            line = [(row, column) for row in rows]
            if (TOTAL, column) in hidden:
                hidden.update(cell for cell in line if grid[cell[0]][column])
            else:
                hide_smallest_beside_a_lone_one(line)
        for row in grid:
            for parent, children in groups.items():
                line = [(row, child) for child in children]
                if (row, parent) in hidden:
                    hidden.update(cell for cell in line if grid[row][cell[1]])
                else:
                    hide_smallest_beside_a_lone_one(line)
        if len(hidden) == before:
            break

    def cells(row: str) -> dict[str, Cell]:
        return {c: Cell(None, True) if (row, c) in hidden else Cell(grid[row][c], False) for c in columns}

    return cells(TOTAL), {row: cells(row) for row in rows}
