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
