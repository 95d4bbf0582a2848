"""django-q2 entry points for accounts."""

from accounts import throttling
from consular.task_errors import without_error_details


@without_error_details
def forget_expired_rate_counters() -> int:
    return throttling.forget_expired()
