"""Writes to the register: profiles, trips with their stays, erasure, retention, key rotation."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from shapely.geometry import Point

from accounts.models import User
from accounts.services import EmailReindex
from consular import crypto
from consular.audit import audit_record
from consular.crypto import Cipher, blind_index, seal
from consular.errors import DomainError
from consular.keys import get_key_provider
from consular.models import DataKey
from consular.rows import in_id_order, insert_unless_conflict
from notifications.models import Delivery
from registrations import gazetteer, selectors
from registrations.models import Erasure, Precision, Stay, Traveller, Trip
from registrations.validation import CleanStay, CleanTrip, Invalid, validate_profile, validate_trip

log = logging.getLogger(__name__)

# Trips one traveller may hold, through the API and in one bulk-import line: the
# export of a person is built in memory, and nobody has a hundred trips ahead.
MAX_TRIPS_PER_TRAVELLER = 100


def invalid(exc: Invalid) -> DomainError:
    return DomainError("invalid", "Invalid input.", fields=exc.errors)


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
    return selectors.traveller_of(user=user)


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


def _lock_account(user: User) -> None:
    """Serialise a write with the account's erasure, which locks the user row FOR UPDATE.

    Without it, a trip or first profile written while the erasure runs fails its
    foreign key at commit (a 500), or, had it committed first, would be missed by it.
    An account erased meanwhile is a 404, as for any missing row.
    """
    if not _account_locked(user.pk):
        raise DomainError("not_found", "Not found.", status=404)


_ACCOUNT_LOCKS = {
    "write": "SELECT 1 FROM accounts_user WHERE id = %s FOR NO KEY UPDATE",
    "read": "SELECT 1 FROM accounts_user WHERE id = %s FOR SHARE",
}


def _account_locked(user_id: uuid.UUID, *, for_: Literal["write", "read"] = "write") -> bool:
    """Lock an account's row against its erasure and the other writes of its person; False if it is gone.

    "write" serialises with the erasure (FOR UPDATE) and the person's other writes;
    "read" (FOR SHARE) lets reads run together while writes and the erasure wait.
    """
    # Hand-written: through the ORM this one statement cost about 0.6 ms of CPU, on
    # every profile and trip write (consular/rows.py explains the same choice).
    with connection.cursor() as cursor:
        cursor.execute(_ACCOUNT_LOCKS[for_], [user_id])
        return cursor.fetchone() is not None


@transaction.atomic
def profile_write(*, user: User, data: Any, partial: bool) -> Traveller:
    """PUT (``partial=False``) or PATCH the caller's profile; a PATCH is checked as the merged whole."""
    _lock_account(user)
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
            raise invalid(Invalid({"non_field_errors": ["Expected a JSON object."]}))
        data = profile_merge_patch(current, data)
    try:
        clean = validate_profile(data)
    except Invalid as exc:
        raise invalid(exc) from exc
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


# --- Trips --------------------------------------------------------------------------


def build_stays(traveller: Traveller, trip: Trip, cipher: Cipher, stays: Iterable[CleanStay]) -> list[Stay]:
    built = []
    for clean in stays:
        stay = Stay(
            id=uuid.uuid4(),
            trip=trip,
            traveller=traveller,
            country=clean.country,
            point=Point(clean.longitude, clean.latitude) if clean.latitude is not None else None,
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
    if new:
        trip.save(force_insert=True)
    else:
        trip.save()
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
        raise invalid(exc) from exc


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
    _lock_account(user)
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
            raise invalid(Invalid({"non_field_errors": ["Expected a JSON object."]}))
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
    if trip.traveller.user_id is not None and not _account_locked(trip.traveller.user_id):
        raise DomainError("not_found", "Not found.", status=404)
    locked = Trip.objects.select_for_update().select_related("traveller__data_key").filter(pk=trip.pk).first()
    if locked is None:  # deleted or erased, with its traveller, since the request looked it up
        raise DomainError("not_found", "Not found.", status=404)
    return locked


@transaction.atomic
def export_for(*, user: User) -> dict[str, Any]:
    """Everything held about the caller, decrypted; the export itself is audited (without its content)."""
    # FOR SHARE on the account: the person's erasure, writes and retention purge (which
    # lock it for update) wait for the export to end, so it reads one consistent state;
    # an erasure that committed after the request authenticated makes it a 404 instead
    # of a failed decryption with the destroyed key.
    if not _account_locked(user.pk, for_="read"):
        raise DomainError("not_found", "Not found.", status=404)
    audit_record(actor=user, action="export", object_type="user", object_id=user.pk)
    return selectors.export_of(user=user)


# --- Erasure and retention ----------------------------------------------------------


def _shred(data_key_ids: list[uuid.UUID]) -> None:
    # Overwrite the wrapped keys before anything else, so that even a failure
    # half-way through leaves nothing decryptable behind.
    for key_id in data_key_ids:
        DataKey.objects.filter(pk=key_id).update(wrapped=os.urandom(60))


def _record_erasure(
    *, traveller_id: uuid.UUID | None, user_id: uuid.UUID | None, key_ids: list[uuid.UUID], reason: str
) -> None:
    entry = Erasure(
        traveller_id=traveller_id,
        user_id=user_id,
        data_key_ids=[str(k) for k in key_ids],
        reason=reason,
        erased_at=timezone.now(),
    )
    # Written and synced before the erasure commits, not after: a ledger that cannot be
    # written (a full or unmounted volume) then undoes the erasure, which the caller may
    # retry, instead of committing one that a restored backup would silently bring back.
    # An erasure that fails after this line leaves an entry for a person who asked to
    # be erased (or was due), which reapply_erasures then completes. And before the
    # audit entry, whose lock every audited action in the system waits for: a slow
    # volume must not hold that lock through its fsync.
    try:
        append_to_ledger_file([entry])
    except OSError as exc:
        log.error("erasure ledger file not writable (%s); the erasure is undone", exc.strerror)
        raise DomainError(
            "ledger_unavailable", "The erasure could not be recorded; nothing was erased. Try again later.", status=503
        ) from exc
    entry.save(force_insert=True)
    audit_record(
        actor=None,
        action="erasure",
        object_type="traveller" if traveller_id else "user",
        object_id=traveller_id or user_id,
        details={"reason": reason, "user_id": str(user_id) if user_id else None},
    )


def ledger_line(entry: Erasure) -> str:
    return json.dumps(
        {
            "traveller_id": str(entry.traveller_id) if entry.traveller_id else None,
            "user_id": str(entry.user_id) if entry.user_id else None,
            "data_key_ids": entry.data_key_ids,
            "reason": entry.reason,
            "erased_at": entry.erased_at.isoformat(),
        },
        sort_keys=True,
    )


def append_to_ledger_file(entries: list[Erasure]) -> None:
    """Append ledger entries to ERASURE_LEDGER_FILE, kept apart from database backups, and sync it.

    A write that fails part-way is cut off again, so a retry does not append its line
    to a torn one; a line torn by a crash is ended before the next is appended. The file
    lock keeps the processes that append (web and task workers) one at a time, so the
    cut never removes another process's line.
    """
    path = settings.ERASURE_LEDGER_FILE
    if not path:
        return
    data = "".join(ledger_line(entry) + "\n" for entry in entries).encode()
    descriptor = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        size = os.fstat(descriptor).st_size
        if size and os.pread(descriptor, 1, size - 1) != b"\n":
            data = b"\n" + data
        try:
            _write_all(descriptor, data)
            os.fsync(descriptor)
        except OSError:
            os.ftruncate(descriptor, size)
            raise
    finally:
        os.close(descriptor)  # releases the lock


def _write_all(descriptor: int, data: bytes) -> None:
    written = 0
    while written < len(data):
        written += os.write(descriptor, data[written:])


@transaction.atomic
def person_erase(*, user: User) -> None:
    """The citizen's own erasure: registration, account and both data keys, crypto-shredded first."""
    user = User.objects.select_for_update().filter(pk=user.pk).first()
    if user is None:
        return  # a retried request: the first one has erased everything since this one authenticated
    # Locked before anything is collected for deletion, in the order every writer takes
    # (account, then registration): a check-in answered meanwhile either commits first or
    # finds the registration gone, and a retention purge of it waits, instead of either
    # failing this erasure's foreign keys at commit or deadlocking with it.
    traveller = Traveller.objects.select_for_update().filter(user=user).first()
    # Ids first: Django clears an instance's pk when it deletes the row.
    user_id, traveller_id = user.pk, traveller.pk if traveller else None
    key_ids = [user.data_key_id] + ([traveller.data_key_id] if traveller else [])
    _shred(key_ids)
    if traveller is not None:
        _erase_rows_naming_travellers([traveller.pk])
        traveller.delete()
    user.delete()  # cascades to tokens
    DataKey.objects.filter(pk__in=key_ids).delete()
    _record_erasure(traveller_id=traveller_id, user_id=user_id, key_ids=key_ids, reason="request")


_FEW_IDS = 100


def _erase_rows_naming_travellers(traveller_ids: list) -> None:
    """Rows that name travellers by id outside the register's own cascade."""
    if not traveller_ids:
        return
    # Deliveries have no database foreign key (see notifications.models), and one
    # written by a fan-out that committed after the erasure began is not reached by
    # Django's cascade: remove them by id. A pending reveal request keeps ids only,
    # but an erased person's id must not stay linked to a crisis area.
    Delivery.objects.filter(traveller_id__in=traveller_ids).delete()
    ids = [str(traveller_id) for traveller_id in traveller_ids]
    # The lists are filtered through a hash join, so a replay of a long ledger (a
    # million ids after some years of retention) stays linear in the ids listed, where
    # `&&` or `<> ALL` compares every pair. A few ids (one person's erasure) first pick
    # the requests naming them, through the GIN index once there are many requests.
    pick_first = len(ids) <= _FEW_IDS
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH erased AS (SELECT DISTINCT unnest(%s::uuid[]) AS id),
            kept AS (
                SELECT request.id,
                       coalesce(array_agg(listed.id ORDER BY listed.position) FILTER (WHERE erased.id IS NULL),
                                '{{}}') AS traveller_ids
                FROM crises_revealrequest AS request
                CROSS JOIN LATERAL unnest(request.traveller_ids) WITH ORDINALITY AS listed(id, position)
                LEFT JOIN erased ON erased.id = listed.id
                {"WHERE request.traveller_ids && %s::uuid[]" if pick_first else ""}
                GROUP BY request.id
                HAVING bool_or(erased.id IS NOT NULL)
            )
            UPDATE crises_revealrequest AS request SET traveller_ids = kept.traveller_ids
            FROM kept WHERE kept.id = request.id
            """,  # noqa: S608 - no value in the text: the optional clause is fixed
            [ids, ids] if pick_first else [ids],
        )


def _last_day():
    # The end of the last trip (a stay never outlasts its trip), or for a registration
    # without trips its last change: otherwise it would never expire.
    return Coalesce(Max("trips__end_date"), TruncDate("updated_at"))


@transaction.atomic
def traveller_purge(*, traveller: Traveller, reason: str, expired_before: date | None = None) -> bool:
    """Erase one registration (not the account, which has its own key); False if it no longer qualifies.

    With ``expired_before`` (retention) the traveller is locked and the condition checked
    again: a trip added since the batch was selected keeps the registration.
    """
    # Lock first, then check: an aggregate cannot be selected FOR UPDATE itself. The
    # account first, as the API's writes do: their foreign keys are checked only at
    # commit, so the traveller's row lock alone let a trip written meanwhile commit
    # against a purged registration (a 500) or the two transactions deadlock.
    if traveller.user_id is not None:
        _account_locked(traveller.user_id)
    if not Traveller.objects.select_for_update().filter(pk=traveller.pk).exists():
        return False  # erased meanwhile
    if expired_before is not None:
        still = Traveller.objects.filter(pk=traveller.pk).alias(last_day=_last_day())
        if not still.filter(last_day__lt=expired_before).exists():
            return False
    traveller_id, key_id = traveller.pk, traveller.data_key_id
    _shred([key_id])
    _erase_rows_naming_travellers([traveller.pk])
    traveller.delete()
    DataKey.objects.filter(pk=key_id).delete()
    _record_erasure(traveller_id=traveller_id, user_id=None, key_ids=[key_id], reason=reason)
    return True


def purge_expired(
    *,
    today: date | None = None,
    retention_days: int | None = None,
    batch_size: int = 500,
    within_seconds: float | None = None,
) -> tuple[int, bool]:
    """Purge registrations whose last trip ended (or, without trips, that last changed) before the period.

    Returns how many were purged and whether none is left. With ``within_seconds`` it
    stops once that time is spent (after at least one), so a queued run ends before
    the worker's timeout kills it; the task then queues the rest.
    """
    today = today or timezone.localdate()
    retention_days = settings.RETENTION_DAYS if retention_days is None else retention_days
    cutoff = today - timedelta(days=retention_days)
    deadline = None if within_seconds is None else time.monotonic() + within_seconds
    purged = 0
    skipped: set = set()
    while True:
        batch = list(
            Traveller.objects.alias(last_day=_last_day())
            .filter(last_day__lt=cutoff)
            .exclude(pk__in=skipped)
            .order_by("pk")[:batch_size]
        )
        for index, traveller in enumerate(batch):
            if traveller_purge(traveller=traveller, reason="retention", expired_before=cutoff):
                purged += 1
            else:
                skipped.add(traveller.pk)
            if deadline is not None and time.monotonic() >= deadline:
                return purged, index == len(batch) - 1 and len(batch) < batch_size
        if len(batch) < batch_size:
            return purged, True


def read_ledger_file(path: str) -> tuple[list[dict[str, Any]], list[int]]:
    """The entries of a ledger file, and the numbers of its lines that are not entries.

    A bad line (torn by a crash, say) is skipped, not fatal: every other erasure in
    the file must still be re-applied.
    """
    entries, bad = [], []
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    entry = json.loads(line)
                except ValueError:  # not UTF-8, or not JSON
                    bad.append(number)
                    continue
                entry = _ledger_entry(entry)
                if entry is None:
                    bad.append(number)
                else:
                    entries.append(entry)
    return entries, bad


def _ledger_entry(value: Any) -> dict[str, Any] | None:
    """A ledger line's entry with its ids checked, or None if it is not one."""
    if not isinstance(value, dict) or not isinstance(value.get("data_key_ids"), list):
        return None
    try:
        traveller_id = uuid.UUID(value["traveller_id"]) if value.get("traveller_id") else None
        user_id = uuid.UUID(value["user_id"]) if value.get("user_id") else None
        key_ids = [str(uuid.UUID(key)) for key in value["data_key_ids"]]
        erased_at = datetime.fromisoformat(value["erased_at"]) if value.get("erased_at") else None
    except (TypeError, ValueError, AttributeError):
        return None
    if traveller_id is None and user_id is None:
        return None
    return {
        "traveller_id": traveller_id,
        "user_id": user_id,
        "data_key_ids": key_ids,
        "reason": value.get("reason") if value.get("reason") in ("request", "retention") else "request",
        "erased_at": erased_at,
    }


@transaction.atomic
def erasures_reapply(*, extra_entries: list[dict[str, Any]]) -> dict[str, int]:
    """Re-apply every known erasure (the table's and those given) to a restored database."""
    entries = [
        {"traveller_id": e.traveller_id, "user_id": e.user_id, "data_key_ids": e.data_key_ids, "reason": e.reason}
        for e in Erasure.objects.all()
    ]
    known = {(str(e["traveller_id"]), str(e["user_id"])) for e in entries}
    restored_ledger = 0
    for entry in extra_entries:  # as read_ledger_file gives them
        identity = (str(entry["traveller_id"]), str(entry["user_id"]))
        if identity not in known:
            known.add(identity)  # the same entry in a second ledger file is restored once
            Erasure.objects.create(
                traveller_id=entry["traveller_id"],
                user_id=entry["user_id"],
                data_key_ids=entry["data_key_ids"],
                reason=entry["reason"],
                erased_at=entry["erased_at"] or timezone.now(),
            )
            entries.append(entry)
            restored_ledger += 1
    key_ids = [key for entry in entries for key in entry["data_key_ids"]]
    traveller_ids = [entry["traveller_id"] for entry in entries if entry["traveller_id"]]
    user_ids = [entry["user_id"] for entry in entries if entry["user_id"]]
    _shred(key_ids)
    _erase_rows_naming_travellers(traveller_ids)
    travellers = Traveller.objects.filter(pk__in=traveller_ids).delete()[1].get("registrations.Traveller", 0)
    users = User.objects.filter(pk__in=user_ids).delete()[1].get("accounts.User", 0)
    keys = DataKey.objects.filter(pk__in=key_ids).delete()[0]
    return {"travellers": travellers, "users": users, "data_keys": keys, "ledger_entries_restored": restored_ledger}


# --- Key rotation -------------------------------------------------------------------


# Held in shared mode by every running bulk import, for its whole run: its workers
# wrap data keys well before the parent commits them, so a master version must not be
# retired while an import that started before the rotation is still loading.
IMPORT_ADVISORY_LOCK = 0x636F6E73756C6172  # "consular"


ROTATION_ADVISORY_LOCK = IMPORT_ADVISORY_LOCK + 2


class RotationNotSettled(Exception):
    """Transactions or imports that may still commit keys under an older version are running."""


class RotationRunning(Exception):
    """Another key rotation holds the rotation lock."""


@contextmanager
def only_rotation() -> Iterator[None]:
    """Hold the rotation lock for a whole rotation; RotationRunning if another has it.

    Two rotations at once could each retire the version the other had just added, with
    every data key wrapped under it meanwhile.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [ROTATION_ADVISORY_LOCK])
        if not cursor.fetchone()[0]:
            raise RotationRunning("another key rotation is running")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [ROTATION_ADVISORY_LOCK])


@contextmanager
def rotation_settled(*, timeout_seconds: float) -> Iterator[None]:
    """Wait until nothing can still commit a data key wrapped under a retired version, and hold that.

    A transaction that wrapped a key before the rotation and commits after the
    re-wrap would leave that key under the old version, and retiring the version
    would lose it. So: no running import (their advisory lock), and no transaction
    older than this moment in this database. Later ones wrap under the new version.
    """
    deadline = time.monotonic() + timeout_seconds
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        (moment,) = cursor.fetchone()
        while True:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [IMPORT_ADVISORY_LOCK])
            if cursor.fetchone()[0]:
                break
            if time.monotonic() > deadline:
                raise RotationNotSettled("a bulk import started before the rotation is still running")
            time.sleep(1)
        try:
            while True:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND xact_start < %s",
                    [moment],
                )
                if cursor.fetchone()[0] == 0:
                    break
                if time.monotonic() > deadline:
                    raise RotationNotSettled("transactions older than the re-wrap are still open")
                time.sleep(1)
            yield
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [IMPORT_ADVISORY_LOCK])


def data_keys_rewrap(*, batch_size: int = 1000) -> int:
    """Re-wrap every data key not under the current master version, in short transactions.

    Rows locked by another transaction are skipped (SKIP LOCKED) and picked up
    by the next pass, so rotation runs online beside normal traffic.
    """
    provider = get_key_provider()
    rewrapped = 0
    while True:
        current = provider.current_version()
        with transaction.atomic():
            batch = list(
                DataKey.objects.select_for_update(skip_locked=True)
                .filter(master_version__lt=current)
                .order_by("pk")[:batch_size]
            )
            for key in batch:
                plaintext = crypto.unwrap_data_key(key.wrapped, key_id=key.pk, provider=provider)
                key.master_version, key.wrapped = crypto.wrap_data_key(plaintext, key_id=key.pk, provider=provider)
            DataKey.objects.bulk_update(batch, ["master_version", "wrapped"])
        rewrapped += len(batch)
        if not batch:
            if not DataKey.objects.filter(master_version__lt=current).exists():
                return rewrapped
            time.sleep(0.2)  # only rows locked by other transactions remain: let them finish


def reindex_traveller_emails(*, batch_size: int = 500) -> EmailReindex:
    """Rewrite each registration's contact email in normalise_email's form, with its blind index.

    The registrations' half of accounts.services.reindex_account_emails (run once
    after normalise_email changed): without it, an import would not recognise a
    traveller registered with the other form of the same address, and mail to a
    Unicode domain stored before would go through Django's IDNA 2003 conversion.
    """
    result = EmailReindex()
    travellers = Traveller.objects.select_related("data_key").exclude(email_enc=None)
    for traveller in in_id_order(travellers.only("id", "email_enc", "email_bidx", "data_key"), batch_size=batch_size):
        try:
            cipher = traveller.data_key.cipher()
            stored = crypto.unseal(cipher, traveller, "email")
        except crypto.DecryptionError:
            result.unreadable.append(traveller.id)
            continue
        canonical = crypto.normalise_email(stored)
        changes = {"email_bidx": contact_email_blind_index(canonical)}
        if canonical != stored:
            changes["email_enc"] = cipher.encrypt(
                canonical, table=Traveller._meta.db_table, field="email", row_id=traveller.pk
            )
        elif changes["email_bidx"] == traveller.email_bidx:
            continue
        result.updated += Traveller.objects.filter(id=traveller.id, email_bidx=traveller.email_bidx).update(**changes)
    return result


@dataclass
class StaysPlacedAgain:
    """What placing stays again changed; ids only, never a city name."""

    placed: int = 0  # now at a (different) city's point
    coarsened: int = 0  # now at country precision: the name is ambiguous or no longer found
    unreadable: list[uuid.UUID] = field(default_factory=list)  # the stored city would not decrypt


def place_city_stays_again(*, batch_size: int = 500) -> StaysPlacedAgain:
    """Place every stay that has a city and no point of its own again, with the current gazetteer.

    Run once after upgrading past the gazetteer change that stopped placing names shared
    by cities far apart (a stay in Portland, Maine had been put in Portland, Oregon) and
    let a city's own name win over other cities' alternate names. A stay whose client
    gave a point is left alone. Safe to re-run, and to run while the service serves: a
    stay is never edited in place (a trip's update replaces its stays), so a row read
    here is either unchanged or gone.
    """
    result = StaysPlacedAgain()
    stays = (
        Stay.objects.select_related("traveller__data_key")
        .exclude(city_enc=None)
        .exclude(precision=Precision.POINT)
        .only("id", "country", "city_enc", "point", "precision", "traveller__data_key")
    )
    for stay in in_id_order(stays, batch_size=batch_size):
        try:
            city = crypto.unseal(stay.traveller.data_key.cipher(), stay, "city")
        except crypto.DecryptionError:
            result.unreadable.append(stay.id)
            continue
        found = gazetteer.find_city(stay.country, city)
        if isinstance(found, gazetteer.Place):
            precision, point = Precision.CITY, Point(found.longitude, found.latitude)
        else:
            precision, point = Precision.COUNTRY, None
        if precision == stay.precision and _same_point(point, stay.point):
            continue
        if Stay.objects.filter(id=stay.id).update(precision=precision, point=point):
            if precision == Precision.CITY:
                result.placed += 1
            else:
                result.coarsened += 1
    return result


def _same_point(a: Point | None, b: Point | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and a.equals(b))
