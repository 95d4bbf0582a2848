"""Reads of the register. Every look-up is scoped to its owner, so a foreign id is simply not found."""

from __future__ import annotations

import functools
import json
import uuid
from datetime import datetime
from typing import Any

from django.db.models import F, Prefetch, QuerySet

from accounts.models import User
from consular.crypto import Cipher, unseal
from consular.models import DataKey
from consular.rows import RowShape, fetch_one
from notifications.models import CheckIn, Delivery
from registrations.models import Stay, Traveller, Trip


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
    }


def trips_of(*, user: User) -> QuerySet[Trip]:
    return (
        Trip.objects.filter(traveller__user=user)
        .select_related("traveller__data_key")
        .prefetch_related(Prefetch("stays", queryset=Stay.objects.order_by("start_date", "id")))
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
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def checkins_as_dicts(*, traveller: Traveller, cipher: Cipher) -> list[dict[str, Any]]:
    """The traveller's own answers to "are you safe?", message decrypted (a failed decrypt raises)."""
    checkins = (
        CheckIn.objects.filter(traveller_id=traveller.pk)
        # Only the crisis's id and title: select_related would load its whole area.
        .annotate(crisis_id=F("campaign__crisis_id"), crisis_title=F("campaign__crisis__title"))
        .order_by("updated_at", "id")
    )
    return [
        {
            "campaign_id": str(checkin.campaign_id),
            "crisis": {"id": str(checkin.crisis_id), "title": checkin.crisis_title},
            "status": checkin.status,
            "message": unseal(cipher, checkin, "message"),
            # A check-in keeps only the time of its latest answer (no creation time is stored).
            "updated_at": checkin.updated_at.isoformat(),
        }
        for checkin in checkins
    ]


def deliveries_as_dicts(*, traveller: Traveller) -> list[dict[str, Any]]:
    """What was sent to the traveller: outcomes only, as stored (no text, no address, no retry bookkeeping)."""
    deliveries = (
        Delivery.objects.filter(traveller_id=traveller.pk)  # the (traveller, campaign, channel) index
        .order_by("id")
        .values(
            "campaign_id",
            "channel",
            "status",
            "attempts",
            "provider_message_id",
            "sent_at",
            crisis_id=F("campaign__crisis_id"),
            crisis_title=F("campaign__crisis__title"),
            # The fan-out writes a campaign's deliveries in the campaign's own transaction,
            # so the campaign's creation time is when each delivery was created.
            created_at=F("campaign__created_at"),
        )
    )
    return [
        {
            "campaign_id": str(row["campaign_id"]),
            "crisis": {"id": str(row["crisis_id"]), "title": row["crisis_title"]},
            "channel": row["channel"],
            "status": row["status"],
            "attempts": row["attempts"],
            # The provider's reference for the message sent to the caller: theirs to quote
            # to the provider, and no credential.
            "provider_message_id": row["provider_message_id"] or None,
            "created_at": row["created_at"].isoformat(),
            "sent_at": _iso(row["sent_at"]),
        }
        for row in deliveries
    ]


def export_of(*, user: User) -> dict[str, Any]:
    """Everything held about the caller, decrypted."""
    traveller = traveller_of(user=user)
    document: dict[str, Any] = {
        "account": {
            "id": str(user.pk),
            "email": user.email,
            "role": user.role,
            "created_at": user.date_joined.isoformat(),
        },
        "registration": None,
    }
    if traveller is not None:
        cipher = traveller.data_key.cipher()
        document["registration"] = {
            "reference": traveller.ref,
            "created_at": traveller.created_at.isoformat(),
            "updated_at": traveller.updated_at.isoformat(),
            "profile": profile_of(traveller=traveller, cipher=cipher),
            "trips": [trip_as_dict(trip=trip, cipher=cipher) for trip in trips_of(user=user)],
            "checkins": checkins_as_dicts(traveller=traveller, cipher=cipher),
            "deliveries": deliveries_as_dicts(traveller=traveller),
        }
    return document
