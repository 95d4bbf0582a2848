"""Residences abroad: where a registrant lives, open-ended, confirmed once a year."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from shapely.geometry import Point

from accounts.models import User
from accounts.services import account_lock, account_lock_or_404
from consular.crypto import seal
from consular.errors import DomainError
from consular.validation import Invalid, invalid_input
from registrations import selectors
from registrations.models import Companion, Residence, Traveller
from registrations.services.companions import companions_named
from registrations.services.profiles import traveller_get_or_create
from registrations.validation import CleanResidence, validate_residence

# Residences one registration may hold: people live in few places at once.
MAX_RESIDENCES = 20


def _validated(data: Any) -> CleanResidence:
    try:
        return validate_residence(data)
    except Invalid as exc:
        raise invalid_input(exc) from exc


def _write(traveller: Traveller, residence: Residence, clean: CleanResidence, *, new: bool) -> Residence:
    place = clean.place
    residence.country, residence.precision = place.country, place.precision
    lat, lon = place.latitude, place.longitude
    residence.point = Point(lon, lat) if lat is not None and lon is not None else None
    residence.since, residence.until = clean.since, clean.until
    # Every write is a confirmation: the holder has just said where they live.
    residence.confirmed_at, residence.reminded_at = timezone.now(), None
    cipher = traveller.data_key.cipher()
    seal(cipher, residence, "city", place.city)
    seal(cipher, residence, "address", place.address)
    companions = companions_named(traveller=traveller, ids=clean.companions, path="companions")
    residence.save(force_insert=new)
    residence.companions.set(Companion.objects.filter(pk__in=companions))
    return residence


def _has_residences(traveller: Traveller, *, at_least: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM registrations_residence WHERE traveller_id = %s OFFSET %s LIMIT 1",
            [traveller.pk, at_least - 1],
        )
        return cursor.fetchone() is not None


@transaction.atomic
def residence_create(*, user: User, data: Any) -> tuple[Residence, list[str]]:
    clean = _validated(data)
    account_lock_or_404(user.pk)
    traveller = traveller_get_or_create(user=user)
    if _has_residences(traveller, at_least=MAX_RESIDENCES):
        raise DomainError(
            "too_many_residences",
            f"A registration holds at most {MAX_RESIDENCES} residences: remove one that has ended.",
            status=400,
        )
    residence = _write(traveller, Residence(id=uuid.uuid4(), traveller=traveller), clean, new=True)
    return residence, clean.warnings


@transaction.atomic
def residence_update(*, residence: Residence, data: Any, partial: bool) -> tuple[Residence, list[str]]:
    """PUT replaces the residence; PATCH overlays the fields given and checks the result whole."""
    residence = _lock(residence)
    if partial:
        if not isinstance(data, dict):
            raise invalid_input(Invalid({"non_field_errors": ["Expected a JSON object."]}))
        current = selectors.residence_as_dict(residence=residence, cipher=residence.traveller.data_key.cipher())
        data = {**current, **data}
    clean = _validated(data)
    return _write(residence.traveller, residence, clean, new=False), clean.warnings


@transaction.atomic
def residence_confirm(*, residence: Residence) -> Residence:
    """The holder says they still live there: counted as confirmed for another RESIDENCE_CONFIRM_MONTHS."""
    residence = _lock(residence)
    residence.confirmed_at, residence.reminded_at = timezone.now(), None
    residence.save(update_fields=["confirmed_at", "reminded_at"])
    return residence


@transaction.atomic
def residence_delete(*, residence: Residence) -> None:
    _lock(residence).delete()
    # A change of the registration, which the retention clock counts once nothing else is left.
    Traveller.objects.filter(pk=residence.traveller_id).update(updated_at=timezone.now())


def _lock(residence: Residence) -> Residence:
    user_id = residence.traveller.user_id
    if user_id is not None and not account_lock(user_id, for_="write"):
        raise DomainError("not_found", "Not found.", status=404)
    locked = (
        Residence.objects.select_for_update(of=("self",))
        .select_related("traveller__data_key")
        .prefetch_related("companions")
        .filter(pk=residence.pk)
        .first()
    )
    if locked is None:
        raise DomainError("not_found", "Not found.", status=404)
    return locked


def residences_purge_expired(*, before: date) -> int:
    """Delete the residences whose last day (ended, or unconfirmed past its deadline) is before the day.

    The retention purge's share for registrations that live on with other trips or
    residences; one statement, whose condition PostgreSQL checks again on a row a
    holder confirms meanwhile, so a residence confirmed at that moment stays.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH gone AS (
                DELETE FROM registrations_residence r WHERE {selectors.RESIDENCE_LAST_DAY} < %(before)s RETURNING r.id
            ), links AS (
                DELETE FROM registrations_residence_companions WHERE residence_id IN (SELECT id FROM gone)
            )
            SELECT count(*) FROM gone
            """,  # noqa: S608 - fixed fragments only, no outside text
            {"months": settings.RESIDENCE_CONFIRM_MONTHS, "before": before},
        )
        return cursor.fetchone()[0]


def residences_mark_reminded(*, residence_ids: list[uuid.UUID]) -> int:
    """Their holders were reminded to confirm them: not again until they confirm."""
    return Residence.objects.filter(pk__in=residence_ids).update(reminded_at=timezone.now())
