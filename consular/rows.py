"""Hand-written SQL for the few statements on every request's path.

The bearer-token and "my registration" look-ups run on every citizen request.
Building them through the ORM (query compilation, select_related joins, model
construction) cost about 1.5 ms of CPU each, more than everything else a write
does; the same SQL written once and rows turned into instances with
``Model.from_db`` costs a tenth of that. Only models whose fields need no
database converters qualify, and ``RowShape`` refuses the others, so a future
field that needs one (a JSON or geometry column) cannot be read wrongly here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


class RowShape(Generic[M]):
    """The columns of one model in a hand-written SELECT, and the instance made from them."""

    def __init__(self, model: type[M], alias: str) -> None:
        fields = model._meta.concrete_fields
        needing_conversion = [f.name for f in fields if f.get_db_converters(connection)]
        if needing_conversion:
            raise TypeError(f"{model.__name__} fields {needing_conversion} need converters; use the ORM")
        self.model = model
        self.attnames = [f.attname for f in fields]
        self.columns = ", ".join(f'{alias}."{f.column}"' for f in fields)
        self.width = len(fields)

    def instance(self, row: Sequence[Any], start: int = 0) -> M:
        return self.model.from_db(DEFAULT_DB_ALIAS, self.attnames, row[start : start + self.width])


def fetch_one(sql: str, params: Sequence[Any]) -> tuple | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def insert_unless_conflict(instance: Model, *, conflict_columns: Sequence[str]) -> bool:
    """INSERT the new instance unless a row with the same unique ``conflict_columns`` exists.

    Returns whether it was inserted. ``INSERT … ON CONFLICT DO NOTHING`` waits for a
    concurrent insert of the same key to commit or roll back and then decides, so a race
    between two first writes needs no savepoint (two round trips) to recover from.
    """
    model = type(instance)
    fields = model._meta.concrete_fields
    columns = ", ".join(f'"{f.column}"' for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    values = [f.get_db_prep_save(f.pre_save(instance, add=True), connection) for f in fields]
    conflict = ", ".join(f'"{column}"' for column in conflict_columns)
    sql = (
        f'INSERT INTO "{model._meta.db_table}" ({columns}) VALUES ({placeholders}) '  # noqa: S608 - names from the model
        f"ON CONFLICT ({conflict}) DO NOTHING RETURNING 1"
    )
    inserted = fetch_one(sql, values) is not None
    if inserted:
        instance._state.adding = False
        instance._state.db = DEFAULT_DB_ALIAS
    return inserted


def in_id_order(queryset: QuerySet[M], *, batch_size: int) -> Iterator[M]:
    """Every row of ``queryset`` by ascending id, read ``batch_size`` at a time (keyset, not OFFSET).

    Rows added or changed behind the cursor are not revisited: for one-off sweeps
    over large tables (re-indexing) that run while the service writes.
    """
    last_id = None
    while True:
        batch = queryset.order_by("id") if last_id is None else queryset.filter(id__gt=last_id).order_by("id")
        rows = list(batch[:batch_size])
        if not rows:
            return
        yield from rows
        last_id = rows[-1].pk
