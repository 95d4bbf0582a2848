"""django-q2 entry points: take ids (or nothing), call a service."""

from django.conf import settings
from django_q.tasks import async_task

from consular.task_errors import without_error_details
from privacy.services.retention import purge_expired

PURGE_EXPIRED_TASK = "privacy.tasks.purge_expired_registrations"


@without_error_details
def purge_expired_registrations() -> int:
    # Half the worker's timeout, then a fresh task for the rest: a backlog such as an
    # old legacy import (about 9 ms a registration) is purged over several runs instead
    # of in one that the timeout kills every day at the same point.
    purged, finished = purge_expired(within_seconds=settings.Q_TASK_TIMEOUT_SECONDS / 2)
    if not finished:
        async_task(PURGE_EXPIRED_TASK)
    return purged
