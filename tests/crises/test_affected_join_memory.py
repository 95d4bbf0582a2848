"""The join's transaction gets JOIN_WORK_MEM, and only that transaction."""

from __future__ import annotations

from django.db import connection, transaction

from crises.selectors import affected_counts, join_memory
from tests.factories import declared_crisis, square, traveller_with_stay


def work_mem() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW work_mem")
        return cursor.fetchone()[0]


def test_the_join_s_transaction_gets_join_work_mem(settings):
    settings.JOIN_WORK_MEM = "48MB"
    with transaction.atomic(), connection.cursor() as cursor:
        join_memory(cursor)
        assert work_mem() == "48MB"


def test_after_the_counts_the_connection_has_its_own_work_mem_again(transactional_db, olivia, settings):
    settings.JOIN_WORK_MEM = "48MB"
    before = work_mem()
    traveller_with_stay(lon=178.4, lat=-18.1)
    crisis = declared_crisis(olivia, area=square(178.0, -18.5, 178.8, -17.8))
    assert sum(affected_counts(crisis=crisis, user=olivia).located.values()) == 1
    assert work_mem() == before != "48MB"
