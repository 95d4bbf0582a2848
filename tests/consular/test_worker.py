"""A real django-q2 worker takes tasks from the ORM broker and proves itself to /readyz."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import django
import pytest
from django.conf import settings
from django.db import connection
from django_q.tasks import async_task

from consular.models import WorkerHeartbeat
from consular.tasks import HEARTBEAT_FUNC

ROOT = Path(__file__).resolve().parents[2]


def test_django_is_at_least_the_patched_lts_release():
    assert django.VERSION[:3] >= (5, 2, 17)


def _start_worker() -> subprocess.Popen:
    parts = urlsplit(settings.DATABASE_URL)
    test_url = urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))
    env = {**os.environ, "DATABASE_URL": test_url, "DJANGO_SETTINGS_MODULE": "tests.settings", "Q_WORKERS": "1"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return process


def _kill(process: subprocess.Popen) -> None:
    # A graceful django-q2 stop takes seconds; this worker holds nothing worth keeping.
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@pytest.fixture
def worker(transactional_db):
    process = _start_worker()
    yield process
    _kill(process)


@pytest.mark.slow
def test_a_real_worker_runs_the_heartbeat_and_readyz_turns_ready(worker, api):
    assert api.get("/readyz").status_code == 503
    async_task(HEARTBEAT_FUNC)
    deadline = time.monotonic() + 60
    while not WorkerHeartbeat.objects.exists():
        assert worker.poll() is None, "the worker exited"
        assert time.monotonic() < deadline, "no heartbeat within 60 s"
        time.sleep(0.2)
    assert api.get("/readyz").status_code == 200


@pytest.mark.slow
def test_a_worker_proves_itself_as_soon_as_it_starts_without_waiting_for_a_scheduled_beat(transactional_db, api):
    from django_q.models import Schedule

    Schedule.objects.all().delete()  # no scheduled heartbeat, no task: only the start can beat
    process = _start_worker()
    try:
        deadline = time.monotonic() + 30
        while api.get("/readyz").status_code != 200:
            assert process.poll() is None, "the worker exited"
            assert time.monotonic() < deadline, "not ready within 30 s of the worker starting"
            time.sleep(0.2)
    finally:
        _kill(process)
