"""django-q2 entry points: take ids (or nothing), call a service."""

from registrations.services import purge_expired


def purge_expired_registrations() -> int:
    return purge_expired()
