"""Companions: the people a registrant travels or lives with, encrypted under the registrant's key."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from django.db import connection, transaction

from accounts.models import User
from accounts.services import account_lock, account_lock_or_404
from consular.crypto import Cipher, seal
from consular.errors import DomainError
from consular.validation import Invalid, invalid_input
from registrations import selectors
from registrations.models import Companion, Traveller
from registrations.services.profiles import traveller_get_or_create
from registrations.validation import MAX_COMPANIONS, first_of_month, validate_companion


def companion_plaintexts(clean: dict[str, Any]) -> dict[str, str | None]:
    """The text stored (encrypted) for each of Companion.ENCRYPTED_FIELDS."""
    return {
        "given_name": clean["given_name"],
        "family_name": clean["family_name"],
        "date_of_birth": clean["date_of_birth"].isoformat(),
        "nationality": clean["nationality"],
        "relation": clean["relation"],
        "passport_number": clean["passport_number"],
        "phone": clean["phone"],
        "email": clean["email"],
        "disclosure": orjson.dumps(clean["disclosure"]).decode() if clean["disclosure"] else None,
    }


def apply_companion(companion: Companion, cipher: Cipher, clean: dict[str, Any]) -> None:
    """Set a companion's fields from validated values (does not save)."""
    for name, value in companion_plaintexts(clean).items():
        seal(cipher, companion, name, value)
    companion.birth_month = first_of_month(clean["date_of_birth"])
    companion.language = clean["language"]
    companion.contact_directly = clean["contact_directly"]


def _validated(data: Any) -> dict[str, Any]:
    try:
        return validate_companion(data)
    except Invalid as exc:
        raise invalid_input(exc) from exc


def _has_companions(traveller: Traveller, *, at_least: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM registrations_companion WHERE traveller_id = %s OFFSET %s LIMIT 1",
            [traveller.pk, at_least - 1],
        )
        return cursor.fetchone() is not None


@transaction.atomic
def companion_create(*, user: User, data: Any) -> Companion:
    clean = _validated(data)
    # Under the account's lock: two additions at once cannot both count 49 and make 51.
    account_lock_or_404(user.pk)
    traveller = traveller_get_or_create(user=user)
    if _has_companions(traveller, at_least=MAX_COMPANIONS):
        raise DomainError(
            "too_many_companions",
            f"A registration lists at most {MAX_COMPANIONS} companions: remove one to add another.",
            status=400,
        )
    companion = Companion(id=uuid.uuid4(), traveller=traveller)
    apply_companion(companion, traveller.data_key.cipher(), clean)
    companion.save(force_insert=True)
    return companion


@transaction.atomic
def companion_update(*, companion: Companion, data: Any, partial: bool) -> Companion:
    """PUT replaces the companion; PATCH overlays the fields given and checks the result whole."""
    companion = _lock(companion)
    cipher = companion.traveller.data_key.cipher()
    if partial:
        if not isinstance(data, dict):
            raise invalid_input(Invalid({"non_field_errors": ["Expected a JSON object."]}))
        current = selectors.companion_as_dict(companion=companion, cipher=cipher)
        data = {**current, **data}
    apply_companion(companion, cipher, _validated(data))
    companion.save()
    return companion


@transaction.atomic
def companion_delete(*, companion: Companion) -> None:
    """The companion goes, and with them their place on every trip and residence."""
    _lock(companion).delete()


def _lock(companion: Companion) -> Companion:
    """The companion re-read under its account's lock; 404 if it is gone since the look-up."""
    user_id = companion.traveller.user_id
    if user_id is not None and not account_lock(user_id, for_="write"):
        raise DomainError("not_found", "Not found.", status=404)
    locked = Companion.objects.select_for_update().select_related("traveller__data_key").filter(pk=companion.pk).first()
    if locked is None:
        raise DomainError("not_found", "Not found.", status=404)
    return locked


def companions_named(*, traveller: Traveller, ids: list[uuid.UUID], path: str) -> list[uuid.UUID]:
    """The ids a trip or a residence names, each one of this registration's companions; else a 400 naming it."""
    if not ids:
        return []
    own = set(Companion.objects.filter(traveller=traveller, pk__in=ids).values_list("pk", flat=True))
    unknown = {f"{path}.{index}": ["No such companion."] for index, cid in enumerate(ids) if cid not in own}
    if unknown:
        raise DomainError("invalid", "Invalid input.", fields=unknown)
    return ids
