"""A traveller's profile: the registration created on first write, encrypted under its own key."""

from __future__ import annotations

from typing import Any

import orjson
from django.db import transaction

from accounts.models import User
from accounts.services import account_lock_or_404
from consular.crypto import Cipher, blind_index, seal
from consular.errors import DomainError
from consular.models import DataKey
from consular.rows import insert_unless_conflict
from consular.validation import Invalid, invalid_input
from registrations import selectors
from registrations.models import Traveller
from registrations.validation import first_of_month, validate_profile


def passport_blind_index(passport: str) -> str:
    return blind_index(passport, domain="passport")


def contact_email_blind_index(email: str) -> str:
    return blind_index(email, domain="traveller-email")


# --- Profile ------------------------------------------------------------------------


def traveller_get_or_create(*, user: User) -> Traveller:
    existing = selectors.traveller_of(user=user)
    if existing is not None:
        return existing
    data_key, _ = DataKey.generate()
    data_key.save(force_insert=True)
    traveller = Traveller(user=user, data_key=data_key)
    if insert_unless_conflict(traveller, conflict_columns=["user_id"]):
        return traveller
    # A concurrent request created it first (unique user) and has committed.
    data_key.delete()
    existing = selectors.traveller_of(user=user)
    if existing is None:  # and it is gone again: the account was erased meanwhile
        raise DomainError("not_found", "Not found.", status=404)
    return existing


def profile_plaintexts(clean: dict[str, Any]) -> dict[str, str | None]:
    """The text stored (encrypted) for each of Traveller.ENCRYPTED_FIELDS."""
    born = clean["date_of_birth"]
    contact = clean["emergency_contact"]
    return {
        "given_name": clean["given_name"],
        "family_name": clean["family_name"],
        "date_of_birth": born.isoformat() if born else None,
        "nationality": clean["nationality"],
        "passport_number": clean["passport_number"],
        "phone": clean["phone"],
        "email": clean["email"],
        # orjson: compact like the separators the standard library was given before, and
        # read back by either; five times faster, which the bulk import feels.
        "emergency_contact": orjson.dumps(contact).decode() if contact else None,
        "disclosure": orjson.dumps(clean["disclosure"]).decode() if clean.get("disclosure") else None,
    }


def profile_blind_indexes(clean: dict[str, Any]) -> tuple[str | None, str | None]:
    passport = passport_blind_index(clean["passport_number"]) if clean["passport_number"] else None
    email = contact_email_blind_index(clean["email"]) if clean["email"] else None
    return passport, email


def apply_profile(traveller: Traveller, cipher: Cipher, clean: dict[str, Any]) -> None:
    """Set a traveller's profile fields from validated values (does not save)."""
    for name, value in profile_plaintexts(clean).items():
        seal(cipher, traveller, name, value)
    traveller.passport_bidx, traveller.email_bidx = profile_blind_indexes(clean)
    traveller.birth_month = first_of_month(clean["date_of_birth"])
    traveller.language = clean["language"]
    traveller.consent_contact = clean["consent"]["contact"]
    traveller.consent_share_with_partners = clean["consent"]["share_with_partners"]


def profile_merge_patch(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """A profile PATCH applied to the current profile, JSON Merge Patch style (RFC 7396), one level deep.

    A nested object (``consent``, ``emergency_contact``) merges into the current one,
    where a ``null`` member removes that member; ``null`` or any other value for a
    top-level field replaces it (``"emergency_contact": null`` clears the contact).
    The result is validated as a whole, so a merge leaving a required member out is a 400.
    """
    merged = {name: value for name, value in current.items() if value is not None}
    for name, value in patch.items():
        if isinstance(value, dict):
            # A current value that is not an object (no contact yet) merges as {}.
            nested = dict(merged[name]) if isinstance(merged.get(name), dict) else {}
            for key, member in value.items():
                if member is None:
                    nested.pop(key, None)
                else:
                    nested[key] = member
            value = nested
        merged[name] = value
    return merged


@transaction.atomic
def profile_write(*, user: User, data: Any, partial: bool) -> Traveller:
    """PUT (``partial=False``) or PATCH the caller's profile; a PATCH is checked as the merged whole."""
    account_lock_or_404(user.pk)
    # Row lock: two profile writes of one person apply one after the other, not interleaved.
    traveller = selectors.traveller_of(user=user, for_update=True)
    if traveller is None:
        # First write: build the registration and its key and insert each once.
        data_key, cipher = DataKey.generate()
        traveller = Traveller(user=user, data_key=data_key)
    else:
        data_key, cipher = None, traveller.data_key.cipher()
    if partial:
        current = selectors.profile_of(traveller=traveller, cipher=cipher) or {}
        if not isinstance(data, dict):
            raise invalid_input(Invalid({"non_field_errors": ["Expected a JSON object."]}))
        data = profile_merge_patch(current, data)
    try:
        clean = validate_profile(data)
    except Invalid as exc:
        raise invalid_input(exc) from exc
    apply_profile(traveller, cipher, clean)
    if data_key is None:
        traveller.save()
        return traveller
    data_key.save(force_insert=True)
    if not insert_unless_conflict(traveller, conflict_columns=["user_id"]):
        # A concurrent first write created the registration (unique user) and has committed:
        # drop the key made for this one and write over that registration instead.
        data_key.delete()
        return profile_write(user=user, data=data, partial=False)
    return traveller
