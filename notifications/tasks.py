"""django-q2 entry points: ids in, a service call, nothing else."""

from consular.task_errors import without_error_details
from notifications.services import reminders, sending


@without_error_details
def send_batch(campaign_id: str, first: int, last: int) -> int:
    return sending.send_batch(campaign_id=campaign_id, first=first, last=last)


@without_error_details
def sweep_deliveries() -> int:
    return sending.deliveries_sweep()


@without_error_details
def remind_residences() -> int:
    return reminders.residence_reminders_send()
