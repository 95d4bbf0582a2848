"""Trips with their stays: written whole, under the account's lock, never more than the cap."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from shapely.geometry import Point

from accounts.models import User
from accounts.services import account_lock, account_lock_or_404
from consular.crypto import Cipher, seal
from consular.errors import DomainError
from consular.validation import Invalid, invalid_input
from registrations import selectors
from registrations.models import Companion, Stay, Traveller, Trip
from registrations.services.companions import companions_named
from registrations.services.profiles import traveller_get_or_create
from registrations.validation import CleanStay, CleanTrip, validate_trip

# Trips one traveller may hold, through the API and in one bulk-import line: the
# export of a person is built in memory, and nobody has a hundred trips ahead.
MAX_TRIPS_PER_TRAVELLER = 100


def build_stays(traveller: Traveller, trip: Trip, cipher: Cipher, stays: Iterable[CleanStay]) -> list[Stay]:
    built = []
    for clean in stays:
        stay = Stay(
            id=uuid.uuid4(),
            trip=trip,
            traveller=traveller,
            country=clean.country,
            point=Point(clean.longitude, clean.latitude)
            if clean.latitude is not None and clean.longitude is not None
            else None,
            precision=clean.precision,
            start_date=clean.start_date,
            end_date=clean.end_date,
        )
        seal(cipher, stay, "city", clean.city)
        seal(cipher, stay, "address", clean.address)
        built.append(stay)
    return built


def _write_trip(traveller: Traveller, trip: Trip, clean: CleanTrip, *, new: bool, keep_stays: bool = False) -> Trip:
    cipher = traveller.data_key.cipher()
    trip.start_date, trip.end_date = clean.start_date, clean.end_date
    seal(cipher, trip, "title", clean.title)
    companions = companions_named(traveller=traveller, ids=clean.companions, path="companions")
    if new:
        trip.save(force_insert=True)
    else:
        trip.save()
    trip.companions.set(Companion.objects.filter(pk__in=companions))
    if not new:
        if keep_stays:
            # A PATCH without "stays" leaves them as they are (their ids too); the
            # merged validation has checked they still lie within the new dates.
            return trip
        trip.stays.all().delete()
    stays = Stay.objects.bulk_create(build_stays(traveller, trip, cipher, clean.stays))
    # The response shows what was just written: no need to read it back.
    trip._prefetched_objects_cache = {"stays": sorted(stays, key=lambda stay: (stay.start_date, str(stay.id)))}
    return trip


def _validated_trip(data: Any) -> CleanTrip:
    try:
        return validate_trip(data)
    except Invalid as exc:
        raise invalid_input(exc) from exc


def _has_trips(traveller: Traveller, *, at_least: int) -> bool:
    # Hand-written, and stopping at the limit rather than counting: it runs on every
    # trip creation (consular/rows.py explains the choice).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM registrations_trip WHERE traveller_id = %s OFFSET %s LIMIT 1", [traveller.pk, at_least - 1]
        )
        return cursor.fetchone() is not None


@transaction.atomic
def trip_create(*, user: User, data: Any) -> tuple[Trip, list[str]]:
    clean = _validated_trip(data)
    # The account lock serialises this person's trip creations, so two at once cannot
    # both count 99 and make 101.
    account_lock_or_404(user.pk)
    traveller = traveller_get_or_create(user=user)
    if _has_trips(traveller, at_least=MAX_TRIPS_PER_TRAVELLER):
        raise DomainError(
            "too_many_trips",
            f"A registration holds at most {MAX_TRIPS_PER_TRAVELLER} trips: delete past ones to add another.",
            status=409,
        )
    trip = _write_trip(traveller, Trip(id=uuid.uuid4(), traveller=traveller), clean, new=True)
    return trip, clean.warnings


@transaction.atomic
def trip_update(*, trip: Trip, data: Any, partial: bool) -> tuple[Trip, list[str]]:
    """PUT replaces the trip and its stays; PATCH overlays the given fields (``stays`` replaces all stays)."""
    trip = _lock_trip(trip)
    keep_stays = False
    if partial:
        if not isinstance(data, dict):
            raise invalid_input(Invalid({"non_field_errors": ["Expected a JSON object."]}))
        current = selectors.trip_as_dict(trip=trip, cipher=trip.traveller.data_key.cipher())
        keep_stays = "stays" not in data
        data = {**current, **data}
    clean = _validated_trip(data)
    return _write_trip(trip.traveller, trip, clean, new=False, keep_stays=keep_stays), clean.warnings


@transaction.atomic
def trip_delete(*, trip: Trip) -> None:
    # Locked like an update: a DELETE that ran alongside a PUT of the same trip missed
    # the stays the PUT re-inserted, and failed its foreign key at commit (a 500).
    trip = _lock_trip(trip)
    trip.delete()
    # A change of the registration, which the retention clock counts once no trip is left:
    # a profile written long ago whose only trip is cancelled is not purged that night.
    Traveller.objects.filter(pk=trip.traveller_id).update(updated_at=timezone.now())


def _lock_trip(trip: Trip) -> Trip:
    """The trip re-read under its account's lock and its own row lock; 404 if it is gone since the look-up."""
    # By id: reading trip.traveller.user would fail (a 500) once the account is erased.
    if trip.traveller.user_id is not None and not account_lock(trip.traveller.user_id, for_="write"):
        raise DomainError("not_found", "Not found.", status=404)
    locked = Trip.objects.select_for_update().select_related("traveller__data_key").filter(pk=trip.pk).first()
    if locked is None:  # deleted or erased, with its traveller, since the request looked it up
        raise DomainError("not_found", "Not found.", status=404)
    return locked
