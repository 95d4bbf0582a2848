"""Shared set-up for benchmarks: a fresh, migrated database of their own.

Benchmarks never touch the development database: they create
``<name>_bench`` on the same server as DATABASE_URL (dropping an old one),
migrate it, and point Django at it. Run them with `make bench` or
`.venv/bin/python bench/<script>.py` after `scripts/bootstrap.sh`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]


def _configured_database_url() -> str:
    # Read like config.settings does, without importing it: Django must only
    # load its settings once DATABASE_URL points at the bench database.
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    dev_env = ROOT / ".local" / "dev.env"
    for line in dev_env.read_text().splitlines() if dev_env.exists() else []:
        key, _, value = line.partition("=")
        if key.strip() == "DATABASE_URL":
            return value.strip()
    raise SystemExit("No DATABASE_URL: run scripts/bootstrap.sh first.")


def bench_database_url(suffix: str = "bench") -> str:
    parts = urlsplit(_configured_database_url())
    name = parts.path.lstrip("/") or "consular"
    return urlunsplit(parts._replace(path=f"/{name}_{suffix}"))


def fresh_bench_database(suffix: str = "bench") -> str:
    """Create and migrate an empty ``<name>_<suffix>`` database; returns its URL and makes Django use it."""
    url = bench_database_url(suffix)
    name = urlsplit(url).path.lstrip("/")
    admin_url = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    import psycopg

    with psycopg.connect(_libpq(admin_url), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True, env=os.environ.copy())
    import django

    django.setup()
    return url


def _libpq(url: str) -> str:
    """dj-database-url style URLs (socket directory as %2F-encoded host) to a libpq conninfo."""
    import dj_database_url

    config = dj_database_url.parse(url)
    parts = {"dbname": config["NAME"], "user": config["USER"], "host": config["HOST"], "port": config["PORT"]}
    if config.get("PASSWORD"):
        parts["password"] = config["PASSWORD"]
    return " ".join(f"{key}={value}" for key, value in parts.items() if value)


def libpq_conninfo(url: str) -> str:
    return _libpq(url)
