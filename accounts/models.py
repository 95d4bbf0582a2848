from __future__ import annotations

import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

from consular.crypto import Cipher, DecryptionError, unseal


class Role(models.TextChoices):
    CITIZEN = "citizen", "Citizen"
    OFFICER = "officer", "Consular officer"
    SUPERVISOR = "supervisor", "Supervisor"
    ANALYST = "analyst", "Analyst"
    ADMIN = "admin", "Administrator"


STAFF_ROLES = frozenset({Role.OFFICER, Role.SUPERVISOR, Role.ANALYST, Role.ADMIN})
# Roles whose view of the world is limited to their post's jurisdiction.
# In a fixed order for the check constraint below: a frozenset iterates in string-hash
# order, which changes per process, and makemigrations then saw a new constraint.
POSTED_ROLE_ORDER = (Role.OFFICER, Role.ANALYST, Role.SUPERVISOR)
POSTED_ROLES = frozenset(POSTED_ROLE_ORDER)


class Post(models.Model):
    """A consular post (embassy, consulate) and the countries it covers."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120, unique=True)
    countries = ArrayField(models.CharField(max_length=2), default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager):
    # Accounts are created through accounts.services, which encrypts the email;
    # the manager only serves look-ups.
    use_in_migrations = False


class User(AbstractBaseUser):
    """An account. The login email is stored encrypted; look-ups use its blind index."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email_bidx = models.CharField(max_length=64, unique=True)
    email_enc = models.BinaryField()
    data_key = models.OneToOneField("consular.DataKey", on_delete=models.PROTECT, related_name="user")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CITIZEN)
    post = models.ForeignKey(Post, on_delete=models.PROTECT, null=True, blank=True, related_name="staff")
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    USERNAME_FIELD = "email_bidx"
    REQUIRED_FIELDS = []

    objects = UserManager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]),
                name="user_role_known",
            ),
            # Officers, supervisors and analysts always belong to a post; citizens never do.
            models.CheckConstraint(
                condition=(
                    models.Q(role__in=[r.value for r in POSTED_ROLE_ORDER], post__isnull=False)
                    | models.Q(role=Role.CITIZEN, post__isnull=True)
                    | models.Q(role=Role.ADMIN)
                ),
                name="user_post_matches_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role} {self.pk}"

    @property
    def is_staff_member(self) -> bool:
        return self.role in STAFF_ROLES

    def jurisdiction(self) -> frozenset[str] | None:
        """The countries whose crises, counts and people this account may see; None means all (admins).

        Officers, supervisors and analysts see their post's countries; anyone else
        (a citizen, or staff without a post, which the database refuses) sees none.
        """
        if self.role == Role.ADMIN:
            return None
        if self.role not in POSTED_ROLES or self.post is None:
            return frozenset()
        return frozenset(self.post.countries)

    def cipher(self) -> Cipher:
        return self.data_key.cipher()

    @property
    def email(self) -> str:
        """The decrypted login email (raises if the data key is gone or the value was tampered with)."""
        email = unseal(self.cipher(), self, "email")
        if email is None:  # the column is NOT NULL: only a row written around the ORM could lack it
            raise DecryptionError("the account has no stored email")
        return email


class AccessToken(models.Model):
    """A bearer token; only its SHA-256 is stored, so a database dump yields no usable token."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "expires_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")), name="token_expires_after_creation"
            )
        ]


class RateCounter(models.Model):
    """A fixed-window counter shared by every web process (login failures, signups).

    Keys are HMACs of the account or client address, never the values themselves.
    """

    key = models.CharField(primary_key=True, max_length=100)
    window_started = models.DateTimeField()
    hits = models.PositiveIntegerField()
