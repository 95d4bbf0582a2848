"""Account writes: sign-up, staff creation, tokens, login with throttling."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, cast

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts import throttling
from accounts.models import POSTED_ROLES, STAFF_ROLES, AccessToken, Post, Role, User
from consular.audit import audit_record
from consular.crypto import DecryptionError, email_blind_index, normalise_email, seal
from consular.errors import DomainError
from consular.models import DataKey
from consular.rows import in_id_order
from consular.validation import country_codes

TOKEN_PREFIX = "cct_"  # noqa: S105 - a public prefix that makes leaked tokens easy to scan for


class _PasswordContext:
    """What UserAttributeSimilarityValidator compares the password against."""

    def __init__(self, email: str) -> None:
        self.email = email


def _validated_email(email: str) -> str:
    email = normalise_email(email)
    try:
        validate_email(email)
    except ValidationError as exc:
        raise DomainError("invalid", "Invalid input.", fields={"email": ["Enter a valid email address."]}) from exc
    return email


def _validated_password(password: str, *, email: str) -> None:
    try:
        # The validators only read attributes (the similarity one, `email`): a stand-in
        # avoids a User whose email property would decrypt.
        validate_password(password, user=cast(User, _PasswordContext(email)))
    except ValidationError as exc:
        raise DomainError("invalid", "Invalid input.", fields={"password": list(exc.messages)}) from exc


@transaction.atomic
def user_create(*, email: str, password: str | None, role: str = Role.CITIZEN, post: Post | None = None) -> User:
    """Create an account with its own data key; the email is stored encrypted and blind-indexed."""
    email = _validated_email(email)
    if password is not None:
        _validated_password(password, email=email)
    if role not in Role.values:
        raise DomainError("invalid", "Invalid input.", fields={"role": [f"Unknown role {role!r}."]})
    if role in POSTED_ROLES and post is None:
        raise DomainError("invalid", "Invalid input.", fields={"post": [f"A {role} must belong to a post."]})
    if role == Role.CITIZEN and post is not None:
        raise DomainError("invalid", "Invalid input.", fields={"post": ["Citizens do not belong to a post."]})
    bidx = email_blind_index(email)
    if User.objects.filter(email_bidx=bidx).exists():
        raise DomainError("email_unavailable", "An account with this email already exists.", status=409)

    data_key, cipher = DataKey.generate()
    data_key.save()
    user = User(email_bidx=bidx, data_key=data_key, role=role, post=post)
    seal(cipher, user, "email", email)
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    try:
        with transaction.atomic():
            user.save(force_insert=True)
    except IntegrityError as exc:
        # Two sign-ups with the same address raced past the exists() check.
        raise DomainError("email_unavailable", "An account with this email already exists.", status=409) from exc
    return user


def throttled(message: str, retry_after: int) -> DomainError:
    """A 429 that tells the client when to try again, in the header HTTP defines for it."""
    return DomainError("throttled", message, status=429, headers={"Retry-After": str(retry_after)})


def citizen_register(*, email: str, password: str, client_address: str) -> User:
    key = throttling.counter_key("signup-addr", client_address)
    window = settings.SIGNUP_WINDOW_SECONDS
    retry_after = throttling.take(key, limit=settings.SIGNUPS_PER_ADDRESS, window_seconds=window)
    if retry_after:
        raise throttled(f"Too many sign-ups; retry in {retry_after} s.", retry_after)
    return user_create(email=email, password=password, role=Role.CITIZEN)


def normalise_countries(codes: list[str]) -> list[str]:
    result: list[str] = []
    for code in codes:
        code = code.strip().upper()
        if code not in country_codes():
            raise DomainError(
                "invalid", "Invalid input.", fields={"countries": [f"{code!r} is not an ISO 3166-1 alpha-2 code."]}
            )
        if code not in result:
            result.append(code)
    return sorted(result)


def post_upsert(*, name: str, countries: list[str] | None) -> Post:
    """Return the post called ``name``, creating it (or updating its jurisdiction when countries are given)."""
    name = name.strip()
    if not name or len(name) > 120:
        raise DomainError("invalid", "Invalid input.", fields={"post": ["A post name has 1 to 120 characters."]})
    post = Post.objects.filter(name=name).first()
    if post is None:
        if not countries:
            raise DomainError("invalid", "Invalid input.", fields={"countries": ["A new post needs its countries."]})
        return Post.objects.create(name=name, countries=normalise_countries(countries))
    if countries:
        post.countries = normalise_countries(countries)
        post.save(update_fields=["countries"])
    return post


@transaction.atomic
def staff_create(
    *, email: str, password: str, role: str, post_name: str | None = None, countries: list[str] | None = None
) -> User:
    if role not in STAFF_ROLES:
        raise DomainError(
            "invalid", "Invalid input.", fields={"role": [f"Staff roles are {', '.join(sorted(STAFF_ROLES))}."]}
        )
    post = post_upsert(name=post_name, countries=countries) if post_name else None
    return user_create(email=email, password=password, role=role, post=post)


def hash_token(raw: str) -> str:
    # Tokens carry 256 bits of randomness, so a fast hash suffices (no dictionary to attack).
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime


def token_issue(*, user: User) -> IssuedToken:
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ttl = settings.STAFF_TOKEN_TTL_SECONDS if user.is_staff_member else settings.CITIZEN_TOKEN_TTL_SECONDS
    now = timezone.now()
    token = AccessToken.objects.create(
        user=user, key_hash=hash_token(raw), created_at=now, expires_at=now + timedelta(seconds=ttl)
    )
    return IssuedToken(token=raw, expires_at=token.expires_at)


def token_revoke(*, token: AccessToken) -> None:
    AccessToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def login(*, email: str, password: str, client_address: str) -> IssuedToken:
    """Exchange credentials for a token, throttling failures per account and per client address."""
    user = credentials_check(email=email, password=password, client_address=client_address)
    with transaction.atomic():
        sign_in_record(user=user, via="api")
        return token_issue(user=user)


def credentials_check(*, email: str, password: str, client_address: str, staff_only: bool = False) -> User:
    """The account these credentials open, throttled alike for the API and the console.

    Outside any transaction: the failure counters must stay counted when the check fails.
    ``staff_only`` (the console): a citizen's right password is refused as a wrong one would be,
    so the console tells nobody which addresses hold citizens' accounts.
    """
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    account_key = throttling.counter_key("login-account", normalise_email(email))
    address_key = throttling.counter_key("login-addr", client_address)
    # Every attempt counts as a failure until its password checks out: counted first, so
    # attempts in flight at once cannot all pass a limit that is read before they count.
    retry_after = max(
        throttling.take(account_key, limit=settings.LOGIN_FAILURES_PER_ACCOUNT, window_seconds=window),
        throttling.take(address_key, limit=settings.LOGIN_FAILURES_PER_ADDRESS, window_seconds=window),
    )
    if retry_after:
        raise throttled(f"Too many failed logins; retry in {retry_after} s.", retry_after)
    user = authenticate(None, email=email, password=password)
    if user is None or (staff_only and not user.is_staff_member):
        raise DomainError("invalid_credentials", "Email or password is incorrect.", status=401)
    throttling.clear(account_key)
    throttling.give_back(address_key)
    return user


def sign_in_record(*, user: User, via: str) -> None:
    """In the transaction that opens the session or issues the token: last login, and a staff sign-in audited."""
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    if user.is_staff_member:
        audit_record(actor=user, action="staff.login", object_type="user", object_id=user.pk, details={"via": via})


@dataclass
class EmailReindex:
    """What a re-index changed; ids only, never addresses."""

    updated: int = 0
    conflicts: list[uuid.UUID] = field(default_factory=list)  # another account already holds the mailbox
    unreadable: list[uuid.UUID] = field(default_factory=list)  # the stored email would not decrypt


def reindex_account_emails(*, batch_size: int = 500) -> EmailReindex:
    """Rewrite each account's email in normalise_email's form, with its blind index.

    Needed once after normalise_email changed (internationalised domains), so that
    accounts created before log in with either form of their address. An account
    whose address is now another account's is left as it was and reported, as is one
    whose email does not decrypt; the others carry on.
    """
    result = EmailReindex()
    for user in in_id_order(User.objects.select_related("data_key"), batch_size=batch_size):
        try:
            stored = user.email
        except DecryptionError:
            result.unreadable.append(user.id)
            continue
        canonical = normalise_email(stored)
        changes: dict[str, str | bytes] = {"email_bidx": email_blind_index(canonical)}
        if canonical != stored:
            changes["email_enc"] = user.cipher().encrypt(
                canonical, table=User._meta.db_table, field="email", row_id=user.pk
            )
        elif changes["email_bidx"] == user.email_bidx:
            continue
        # Checked first so that PostgreSQL does not log the clashing index; the unique
        # constraint still decides a race with a sign-up.
        if User.objects.filter(email_bidx=changes["email_bidx"]).exclude(id=user.id).exists():
            result.conflicts.append(user.id)
            continue
        try:
            with transaction.atomic():
                # Only if nothing changed it since it was read (an edit or an erasure in between).
                result.updated += User.objects.filter(id=user.id, email_bidx=user.email_bidx).update(**changes)
        except IntegrityError:
            result.conflicts.append(user.id)
    return result


# --- The account row as the lock of its person --------------------------------------
#
# Every write that concerns one person, and their erasure, lock the account's row
# first, then (registrations.services) the registration's: any two of them then run
# one after the other instead of failing at commit or deadlocking (docs/architecture.md).

_ACCOUNT_LOCKS = {
    "erase": "SELECT 1 FROM accounts_user WHERE id = %s FOR UPDATE",
    "write": "SELECT 1 FROM accounts_user WHERE id = %s FOR NO KEY UPDATE",
    "read": "SELECT 1 FROM accounts_user WHERE id = %s FOR SHARE",
}


def account_lock(user_id: uuid.UUID, *, for_: Literal["erase", "write", "read"]) -> bool:
    """Lock an account's row until the transaction ends; False if the account is gone.

    "erase" (FOR UPDATE) waits for every other lock and makes them wait; "write" (FOR
    NO KEY UPDATE) serialises the person's writes with each other and with the erasure;
    "read" (FOR SHARE) lets reads run together while writes and the erasure wait.
    """
    # Hand-written: through the ORM this one statement cost about 0.6 ms of CPU, on
    # every profile and trip write (consular/rows.py explains the same choice).
    with connection.cursor() as cursor:
        cursor.execute(_ACCOUNT_LOCKS[for_], [user_id])
        return cursor.fetchone() is not None


def account_lock_or_404(user_id: uuid.UUID, *, for_: Literal["write", "read"] = "write") -> None:
    """account_lock for a request on the caller's own data: an account erased meanwhile is a 404.

    Without it, a trip or first profile written while the erasure runs fails its
    foreign key at commit (a 500), or, had it committed first, would be missed by it.
    """
    if not account_lock(user_id, for_=for_):
        raise DomainError("not_found", "Not found.", status=404)


def accounts_delete(*, user_ids: list[uuid.UUID]) -> int:
    """The accounts with their tokens (their data keys are the caller's to shred and delete)."""
    return User.objects.filter(pk__in=user_ids).delete()[1].get("accounts.User", 0)
