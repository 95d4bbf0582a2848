"""The shipped server (gunicorn with config.gunicorn_conf) started for a test, on the test's database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def shipped_server(*, workers: int, log: Path, env: dict[str, str] | None = None) -> Iterator[int]:
    """Its port, once it accepts connections; its output in ``log``; killed with its workers at the end."""
    parts = urlsplit(settings.DATABASE_URL)
    test_url = urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))
    port = free_port()
    environment = {**os.environ, "DATABASE_URL": test_url, "DJANGO_SETTINGS_MODULE": "tests.settings", **(env or {})}
    with open(log, "w") as output:
        process = subprocess.Popen(
            [ROOT / ".venv/bin/gunicorn", "config.wsgi:application", "--config", "python:config.gunicorn_conf",
             "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
            cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "gunicorn exited"
            assert time.monotonic() < deadline, "gunicorn did not answer within 60 s"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
