"""django-q2 entry points: take ids (or nothing), call a service."""

from consular.task_errors import without_error_details
from registrations.services import purge_expired


@without_error_details
def purge_expired_registrations() -> int:
    return purge_expired()
