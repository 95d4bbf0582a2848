"""Every django-q2 schedule of the service, in one list, written to the database after each `migrate`.

A schedule is a row of django_q's table that the cluster reads; keeping the rows
here, rather than one data migration each, gives one place to see what runs when,
and an upgrade that moves or renames a task updates its row by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.db import DEFAULT_DB_ALIAS, router
from django_q.models import Schedule


@dataclass(frozen=True)
class Scheduled:
    name: str  # the row's unique name: how an upgrade finds it again
    func: str  # dotted path of the task (a `tasks` module: ids in, a service call)
    schedule_type: str  # Schedule.MINUTES, HOURLY, DAILY
    minutes: int | None = None  # with MINUTES


SCHEDULES = (
    # /readyz reports the worker ready while this row keeps running.
    Scheduled("worker-heartbeat", "consular.tasks.record_worker_heartbeat", Schedule.MINUTES, minutes=1),
    Scheduled("anchor-audit-chain", "consular.tasks.anchor_audit_chain", Schedule.HOURLY),
    Scheduled("forget-expired-rate-counters", "accounts.tasks.forget_expired_rate_counters", Schedule.HOURLY),
    # Due retries, the deliveries of workers that died, the batches of interrupted launches.
    Scheduled("sweep-deliveries", "notifications.tasks.sweep_deliveries", Schedule.MINUTES, minutes=1),
    Scheduled("purge-expired-registrations", "privacy.tasks.purge_expired_registrations", Schedule.DAILY),
    # Holders of residences a month from counting as unconfirmed are asked to confirm them.
    Scheduled("remind-residences", "notifications.tasks.remind_residences", Schedule.DAILY),
)


def schedules_sync(*, apps: Apps = global_apps, using: str = DEFAULT_DB_ALIAS, **_: Any) -> None:
    """Create or update each listed row by name (a post_migrate receiver); its next run is kept.

    Like Django's own content types: through the migration state's model, and only where
    django_q's table exists in that state (a `migrate` of one app on an empty database,
    or of django_q back to zero, leaves it out) and the router lets django_q migrate.
    """
    try:
        model = apps.get_model("django_q", "Schedule")
    except LookupError:
        return
    if not router.allow_migrate_model(using, model):
        return
    for scheduled in SCHEDULES:
        model.objects.using(using).update_or_create(
            name=scheduled.name,
            defaults={
                "func": scheduled.func,
                "schedule_type": scheduled.schedule_type,
                "minutes": scheduled.minutes,
                "repeats": -1,
            },
        )
