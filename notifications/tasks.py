"""django-q2 entry points: ids in, a service call, nothing else."""

from notifications import services


def send_batch(campaign_id: str, first: int, last: int) -> int:
    return services.send_batch(campaign_id=campaign_id, first=first, last=last)


def sweep_deliveries() -> int:
    return services.deliveries_sweep()
