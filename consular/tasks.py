from __future__ import annotations

import logging
import socket
import time

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from consular.audit import audit_verify_anchored
from consular.models import WorkerHeartbeat
from consular.task_errors import without_error_details

HEARTBEAT_FUNC = "consular.tasks.record_worker_heartbeat"
log = logging.getLogger(__name__)


@without_error_details
def record_worker_heartbeat() -> None:
    """Run by a django-q2 schedule: proves a worker is taking tasks off the queue."""
    _beat()


def _beat() -> None:
    WorkerHeartbeat.objects.update_or_create(name=socket.gethostname()[:64], defaults={"seen_at": timezone.now()})


_last_beat = 0.0
BEAT_EVERY_SECONDS = 30


def note_worker_activity(**kwargs: object) -> None:
    """django-q2's pre_execute signal: a worker taking any task off the queue is alive.

    The scheduled heartbeat alone waits in the queue like every task: behind the
    thousand batches of a large campaign it could run half an hour late, and /readyz
    would call the service not ready in the middle of a crisis. Written at most every
    BEAT_EVERY_SECONDS per process.
    """
    global _last_beat
    now = time.monotonic()
    if now - _last_beat >= BEAT_EVERY_SECONDS:
        _last_beat = now
        _beat()


def note_worker_started(**kwargs: object) -> None:
    """django-q2's post_spawn signal: a worker process has started and reached the database.

    Without it a fresh service waited for the scheduler's first heartbeat task, and
    /readyz answered 503 for half a minute after everything was up.
    """
    try:
        _beat()
    except DatabaseError:
        # A worker must not die at its start for a database that blinks: the scheduled
        # beat, or its first task, records it.
        log.warning("worker heartbeat at start not recorded (database unavailable)")


@without_error_details
def anchor_audit_chain() -> None:
    """Hourly: verify the audit chain and its anchors, then anchor the newest entry.

    Hourly anchors narrow what an unnoticed deletion of the newest entries can hide
    to the last hour. A broken chain is logged (ids only) and fails the task.
    """
    path = settings.AUDIT_ANCHOR_FILE
    if not path:
        return
    report = audit_verify_anchored(path)
    if report.chain.first_broken_id is not None:
        log.error("audit chain broken at entry %s", report.chain.first_broken_id)
        raise RuntimeError("audit chain broken")
    if report.missing is not None:
        log.error("audit log cut short: anchored entry %s is gone or changed", report.missing.id)
        raise RuntimeError("audit log cut short")
