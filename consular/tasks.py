from __future__ import annotations

import socket

from django.utils import timezone

from consular.models import WorkerHeartbeat
from consular.task_errors import without_error_details

HEARTBEAT_FUNC = "consular.tasks.record_worker_heartbeat"


@without_error_details
def record_worker_heartbeat() -> None:
    """Run by a django-q2 schedule: proves a worker is taking tasks off the queue."""
    WorkerHeartbeat.objects.update_or_create(name=socket.gethostname()[:64], defaults={"seen_at": timezone.now()})
