"""The structure of docs/architecture.md, held by tests where import-linter cannot see it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.apps import apps

ROOT = Path(__file__).resolve().parents[2]
APPS = ("consular", "accounts", "registrations", "crises", "notifications", "privacy")
# Statements that write a table, and row locks, naming the table they act on.
_WRITE = re.compile(r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|COPY)\s+([a-z_]+)", re.IGNORECASE)
_LOCKED_FROM = re.compile(r"\bFROM\s+([a-z_]+)[^;]*?\bFOR\s+(?:NO\s+KEY\s+)?(?:UPDATE|SHARE)\b", re.IGNORECASE | re.S)


def _sql_strings(path: Path) -> list[str]:
    """Every string literal of a module, f-strings with their fixed parts."""
    strings = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            strings.append(node.value)
        elif isinstance(node, ast.JoinedStr):
            strings.append(
                "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
            )
    return strings


def _tables_of_other_apps(app: str) -> set[str]:
    return {
        model._meta.db_table
        for config in apps.get_app_configs()
        if config.label in APPS and config.label != app
        for model in config.get_models(include_auto_created=True)
    }


@pytest.mark.parametrize("app", APPS)
def test_no_app_writes_or_locks_another_apps_tables_in_sql(app):
    others = _tables_of_other_apps(app)
    offences = []
    for path in sorted((ROOT / app).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for sql in _sql_strings(path):
            # A bare table name is passed to SQL built elsewhere (a COPY into it, say).
            named = [sql] if sql in others else []
            for table in _WRITE.findall(sql) + _LOCKED_FROM.findall(sql) + named:
                if table in others:
                    offences.append(f"{path.relative_to(ROOT)}: {table}")
    assert offences == [], "call the owning app's service instead: " + ", ".join(offences)


def test_the_checker_sees_a_write_and_a_lock_on_another_apps_table():
    sql = "UPDATE crises_revealrequest SET x = 1; SELECT 1 FROM accounts_user WHERE id = %s FOR NO KEY UPDATE"
    assert _WRITE.findall(sql) == ["crises_revealrequest"]
    assert _WRITE.findall("COPY consular_datakey (id) FROM STDIN") == ["consular_datakey"]
    assert _LOCKED_FROM.findall(sql) == ["accounts_user"]


def test_notifications_plugs_into_the_crisis_hooks():
    from crises import hooks
    from notifications.selectors import latest_checkins
    from notifications.services.campaigns import campaigns_close_for_crisis

    assert campaigns_close_for_crisis in hooks._close_hooks
    assert latest_checkins in hooks._checkin_readers


def test_every_scheduled_task_is_a_function_that_exists():
    from django.utils.module_loading import import_string

    from config.schedules import SCHEDULES

    assert all(callable(import_string(scheduled.func)) for scheduled in SCHEDULES)


def test_every_scheduled_row_is_in_the_database_after_migrating():
    from django_q.models import Schedule

    from config.schedules import SCHEDULES

    rows = {row.name: (row.func, row.schedule_type, row.minutes) for row in Schedule.objects.all()}
    assert {s.name: (s.func, s.schedule_type, s.minutes) for s in SCHEDULES}.items() <= rows.items()


def test_a_schedule_row_left_by_an_older_release_is_updated_by_name():
    from django_q.models import Schedule

    from config.schedules import schedules_sync

    Schedule.objects.filter(name="purge-expired-registrations").update(
        func="registrations.tasks.purge_expired_registrations"
    )
    schedules_sync()
    assert Schedule.objects.get(name="purge-expired-registrations").func == "privacy.tasks.purge_expired_registrations"


def test_migrating_one_app_on_an_empty_database_does_not_need_the_schedules_table(tmp_path):
    """The schedules are written after every migrate, also one that does not create django_q's table."""
    import os
    import subprocess
    import sys

    import psycopg
    from django.conf import settings

    database = settings.DATABASES["default"]
    name = f"{database['NAME']}_schedule_probe"
    admin = {"dbname": "postgres", "user": database["USER"], "host": database["HOST"], "port": database["PORT"]}
    conninfo = " ".join(f"{key}={value}" for key, value in admin.items() if value)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        url = os.environ.get("DATABASE_URL") or settings.DATABASE_URL
        env = {
            **os.environ,
            "DATABASE_URL": url.rsplit("/", 1)[0] + "/" + name,
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
        result = subprocess.run(
            [sys.executable, "manage.py", "migrate", "contenttypes", "-v0"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-2000:]
    finally:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
