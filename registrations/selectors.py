"""Reads of the register. Every look-up is scoped to its owner, so a foreign id is simply not found."""

from __future__ import annotations

import functools
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import F, Prefetch, Q, QuerySet

from accounts.models import User
from consular.crypto import Cipher, unseal
from consular.models import DataKey
from consular.rows import RowShape, fetch_one
from consular.validation import add_months
from registrations.models import Companion, Residence, Stay, Traveller, Trip

# Whom the ministry may tell when a person said nothing: their emergency contact.
DEFAULT_DISCLOSURE: dict[str, Any] = {"tell": "emergency_contact", "relatives": []}


@functools.cache
def _traveller_shapes() -> tuple[RowShape, RowShape, str]:
    traveller, data_key = RowShape(Traveller, "t"), RowShape(DataKey, "k")
    sql = f"""
        SELECT {traveller.columns}, {data_key.columns}
        FROM registrations_traveller t JOIN consular_datakey k ON k.id = t.data_key_id
        WHERE t.user_id = %s
    """  # noqa: S608 - column lists from the models, no outside text
    return traveller, data_key, sql


def traveller_of(*, user: User, for_update: bool = False) -> Traveller | None:
    """The user's own registration with its data key (every /me request runs this).

    ``for_update`` locks the registration row until the transaction ends.
    """
    traveller_shape, data_key_shape, sql = _traveller_shapes()
    row = fetch_one(sql + " FOR UPDATE OF t" if for_update else sql, [user.pk])
    if row is None:
        return None
    traveller = traveller_shape.instance(row)
    traveller.data_key = data_key_shape.instance(row, traveller_shape.width)
    return traveller


def profile_of(*, traveller: Traveller, cipher: Cipher) -> dict[str, Any] | None:
    """The decrypted profile in the API's shape, or None when none was ever written."""
    if traveller.given_name_enc is None:
        return None
    contact = unseal(cipher, traveller, "emergency_contact")
    disclosure = unseal(cipher, traveller, "disclosure")
    return {
        "given_name": unseal(cipher, traveller, "given_name"),
        "family_name": unseal(cipher, traveller, "family_name"),
        "date_of_birth": unseal(cipher, traveller, "date_of_birth"),
        "nationality": unseal(cipher, traveller, "nationality"),
        "passport_number": unseal(cipher, traveller, "passport_number"),
        "phone": unseal(cipher, traveller, "phone"),
        "email": unseal(cipher, traveller, "email"),
        "language": traveller.language,
        "emergency_contact": json.loads(contact) if contact else None,
        "consent": {
            "contact": traveller.consent_contact,
            "share_with_partners": traveller.consent_share_with_partners,
        },
        "disclosure": json.loads(disclosure) if disclosure else DEFAULT_DISCLOSURE,
    }


def trips_of(*, user: User) -> QuerySet[Trip]:
    return (
        Trip.objects.filter(traveller__user=user)
        .select_related("traveller__data_key")
        .prefetch_related(
            Prefetch("stays", queryset=Stay.objects.order_by("start_date", "id")),
            Prefetch("companions", queryset=Companion.objects.only("id").order_by("created_at", "id")),
        )
        .order_by("start_date", "id")
    )


def trip_of(*, user: User, trip_id: uuid.UUID) -> Trip | None:
    return trips_of(user=user).filter(pk=trip_id).first()


def stay_as_dict(*, stay: Stay, cipher: Cipher) -> dict[str, Any]:
    return {
        "id": str(stay.id),
        "country": stay.country,
        "city": unseal(cipher, stay, "city"),
        "location": {"lat": stay.point.y, "lon": stay.point.x} if stay.point is not None else None,
        "address": unseal(cipher, stay, "address"),
        "start_date": stay.start_date.isoformat(),
        "end_date": stay.end_date.isoformat(),
        "precision": stay.precision,
    }


def trip_as_dict(*, trip: Trip, cipher: Cipher) -> dict[str, Any]:
    return {
        "id": str(trip.id),
        "title": unseal(cipher, trip, "title"),
        "start_date": trip.start_date.isoformat(),
        "end_date": trip.end_date.isoformat(),
        "stays": [stay_as_dict(stay=stay, cipher=cipher) for stay in trip.stays.all()],
        "companions": [str(companion.id) for companion in trip.companions.all()],
    }


def companions_of(*, user: User) -> QuerySet[Companion]:
    return (
        Companion.objects.filter(traveller__user=user)
        .select_related("traveller__data_key")
        .order_by("created_at", "id")
    )


def companion_of(*, user: User, companion_id: uuid.UUID) -> Companion | None:
    return companions_of(user=user).filter(pk=companion_id).first()


def companion_as_dict(*, companion: Companion, cipher: Cipher) -> dict[str, Any]:
    disclosure = unseal(cipher, companion, "disclosure")
    return {
        "id": str(companion.id),
        "given_name": unseal(cipher, companion, "given_name"),
        "family_name": unseal(cipher, companion, "family_name"),
        "date_of_birth": unseal(cipher, companion, "date_of_birth"),
        "nationality": unseal(cipher, companion, "nationality"),
        "relation": unseal(cipher, companion, "relation"),
        "passport_number": unseal(cipher, companion, "passport_number"),
        "phone": unseal(cipher, companion, "phone"),
        "email": unseal(cipher, companion, "email"),
        "language": companion.language,
        "contact_directly": companion.contact_directly,
        "disclosure": json.loads(disclosure) if disclosure else DEFAULT_DISCLOSURE,
    }


def disclosure_of(*, traveller: Traveller, cipher: Cipher) -> dict[str, Any]:
    """Whom the ministry may tell about the registrant (the default when they said nothing)."""
    stored = unseal(cipher, traveller, "disclosure")
    return json.loads(stored) if stored else DEFAULT_DISCLOSURE


def registration_companions(ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Companion]]:
    """These companions, by registration, in the order they were added."""
    grouped: dict[uuid.UUID, list[Companion]] = {}
    for companion in Companion.objects.filter(pk__in=ids).order_by("created_at", "id"):
        grouped.setdefault(companion.traveller_id, []).append(companion)
    return grouped


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def companion_for_reveal(*, companion: Companion, cipher: Cipher, today: date) -> dict[str, Any]:
    """What a reveal shows of a companion: name, relation, age, their own phone and email, whom to tell.

    Never the date of birth (the age is enough to find a seat), the passport or an address.
    """
    born = unseal(cipher, companion, "date_of_birth")
    disclosure = unseal(cipher, companion, "disclosure")
    return {
        "given_name": unseal(cipher, companion, "given_name"),
        "family_name": unseal(cipher, companion, "family_name"),
        "relation": unseal(cipher, companion, "relation"),
        "age": age_on(date.fromisoformat(born), today) if born else None,
        "phone": unseal(cipher, companion, "phone"),
        "email": unseal(cipher, companion, "email"),
        "disclosure": json.loads(disclosure) if disclosure else DEFAULT_DISCLOSURE,
    }


def companions_by_id(ids: list[uuid.UUID]) -> dict[uuid.UUID, Companion]:
    """Companions by id, for the send of their messages (their registration's key decrypts them)."""
    return Companion.objects.in_bulk(ids) if ids else {}


def residences_of(*, user: User) -> QuerySet[Residence]:
    return (
        Residence.objects.filter(traveller__user=user)
        .select_related("traveller__data_key")
        .prefetch_related(Prefetch("companions", queryset=Companion.objects.only("id").order_by("created_at", "id")))
        .order_by("since", "id")
    )


def residence_of(*, user: User, residence_id: uuid.UUID) -> Residence | None:
    return residences_of(user=user).filter(pk=residence_id).first()


def confirm_by(residence: Residence) -> date:
    """The day a residence not confirmed again becomes unconfirmed."""
    return add_months(residence.confirmed_at.date(), settings.RESIDENCE_CONFIRM_MONTHS)


def residence_as_dict(*, residence: Residence, cipher: Cipher, today: date | None = None) -> dict[str, Any]:
    deadline = confirm_by(residence)
    return {
        "id": str(residence.id),
        "country": residence.country,
        "city": unseal(cipher, residence, "city"),
        "location": {"lat": residence.point.y, "lon": residence.point.x} if residence.point is not None else None,
        "address": unseal(cipher, residence, "address"),
        "precision": residence.precision,
        "since": residence.since.isoformat(),
        "until": residence.until.isoformat() if residence.until else None,
        "companions": [str(companion.id) for companion in residence.companions.all()],
        "confirmed_at": residence.confirmed_at.isoformat(),
        "confirm_by": deadline.isoformat(),
        "unconfirmed": (today or date.today()) >= deadline,
    }


def registration_export(*, user: User, traveller: Traveller) -> dict[str, Any]:
    """The register's part of a person's export (privacy.services.export): the registration, decrypted."""
    cipher = traveller.data_key.cipher()
    return {
        "reference": traveller.ref,
        "created_at": traveller.created_at.isoformat(),
        "updated_at": traveller.updated_at.isoformat(),
        "profile": profile_of(traveller=traveller, cipher=cipher),
        "trips": [trip_as_dict(trip=trip, cipher=cipher) for trip in trips_of(user=user)],
        "companions": [companion_as_dict(companion=companion, cipher=cipher) for companion in companions_of(user=user)],
        "residences": [residence_as_dict(residence=residence, cipher=cipher) for residence in residences_of(user=user)],
    }


@dataclass(frozen=True)
class Contact:
    """How to reach a traveller, decrypted for one use (a send, a reveal): never stored or logged."""

    given_name: str | None  # None for a registration whose profile is not written yet
    family_name: str | None  # None also when not asked for (contact_of)
    phone: str | None
    email: str | None
    language: str


def contact_of(*, traveller: Traveller, family_name: bool = False, companion: Companion | None = None) -> Contact:
    """The traveller's (or one of their companions') contact details; a failed decryption raises
    (consular.crypto.DecryptionError).

    The family name only when asked (a reveal): a message greets by the given name, and
    what is not needed is not decrypted.
    """
    cipher = traveller.data_key.cipher()
    if companion is not None:
        return Contact(
            given_name=unseal(cipher, companion, "given_name"),
            family_name=unseal(cipher, companion, "family_name") if family_name else None,
            phone=unseal(cipher, companion, "phone"),
            email=unseal(cipher, companion, "email"),
            language=companion.language or traveller.language,
        )
    return Contact(
        given_name=unseal(cipher, traveller, "given_name"),
        family_name=unseal(cipher, traveller, "family_name") if family_name else None,
        phone=unseal(cipher, traveller, "phone"),
        email=unseal(cipher, traveller, "email"),
        language=traveller.language,
    )


# --- Reminders to confirm a residence -------------------------------------------------


@dataclass(frozen=True)
class ResidenceDue:
    residence_id: uuid.UUID
    traveller: Traveller
    confirm_by: date


def residences_due_for_reminder(*, today: date, lead_days: int, limit: int) -> list[ResidenceDue]:
    """Residences going on whose confirmation deadline is within ``lead_days`` (or past) and whose
    holder was not reminded since they last confirmed it."""
    soon = today + timedelta(days=lead_days)
    due = (
        Residence.objects.select_related("traveller__data_key")
        .filter(Q(until__isnull=True) | Q(until__gte=today))
        .filter(Q(reminded_at__isnull=True) | Q(reminded_at__lt=F("confirmed_at")))
        .filter(
            confirmed_at__lt=add_months(
                datetime.combine(soon, time.min, tzinfo=UTC), -settings.RESIDENCE_CONFIRM_MONTHS
            )
        )
        .order_by("confirmed_at", "id")[:limit]
    )
    return [ResidenceDue(residence.pk, residence.traveller, confirm_by(residence)) for residence in due]


# --- Retention ------------------------------------------------------------------------

# A residence's last day for retention: the day it ended, or, while it goes on, its
# confirmation deadline (an unconfirmed residence is kept until then plus the
# retention period, like a trip that ended on that day).
RESIDENCE_LAST_DAY = (
    "least(coalesce(r.until, 'infinity'::date), (r.confirmed_at + make_interval(months => %(months)s))::date)"
)

# A registration's last day: the end of its last trip (a stay never outlasts its trip) or
# of its last residence, whichever is later; without either, its last change (otherwise
# it would never expire).
_LAST_DAY_SQL = f"""
SELECT t.id FROM registrations_traveller t
WHERE coalesce(
    greatest(
        (SELECT max(end_date) FROM registrations_trip WHERE traveller_id = t.id),
        (SELECT max({RESIDENCE_LAST_DAY}) FROM registrations_residence r WHERE r.traveller_id = t.id)
    ),
    t.updated_at::date
) < %(before)s
"""  # noqa: S608 - fixed fragments only, no outside text


def _expired_ids(sql: str, parameters: dict[str, Any]) -> list[uuid.UUID]:
    with connection.cursor() as cursor:
        cursor.execute(sql, {"months": settings.RESIDENCE_CONFIRM_MONTHS, **parameters})
        return [row[0] for row in cursor.fetchall()]


def registrations_expired(*, before: date, excluding: set[uuid.UUID], limit: int) -> list[Traveller]:
    """Registrations whose last trip or residence ended (without any: that last changed) before the day, in id order."""
    ids = _expired_ids(
        _LAST_DAY_SQL + " AND NOT (t.id = ANY(%(excluding)s)) ORDER BY t.id LIMIT %(limit)s",
        {"before": before, "excluding": list(excluding), "limit": limit},
    )
    return list(Traveller.objects.filter(pk__in=ids).order_by("pk"))


def registration_expired(*, traveller_id: uuid.UUID, before: date) -> bool:
    """Checked again under the registration's lock: a trip or residence added since it was selected keeps it."""
    return bool(_expired_ids(_LAST_DAY_SQL + " AND t.id = %(id)s", {"before": before, "id": traveller_id}))
