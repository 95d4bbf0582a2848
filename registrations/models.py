"""The encrypted register.

In clear only what the spatial join and the fan-out need: a stay's country,
point, precision and dates; a traveller's language and consents. Everything
that identifies a person is encrypted under the traveller's own data key,
bound to its table, field and row (see consular.crypto).
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.postgres.indexes import GistIndex
from django.db import models
from django.db.models import F, Func, Value

from consular.geometry import GeometryField

# Base32 without look-alikes (no 0/O, 1/I/L): references are read out on the phone.
REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_reference() -> str:
    # 11 random symbols (about 54 bits): collisions stay negligible at millions of travellers.
    return "T" + "".join(secrets.choice(REF_ALPHABET) for _ in range(11))


class Precision(models.TextChoices):
    POINT = "point", "Point given by the client"
    CITY = "city", "City from the gazetteer"
    COUNTRY = "country", "Country only"


class Tell(models.TextChoices):
    """Whom the ministry may tell about a person's situation in a crisis (their disclosure choice)."""

    EMERGENCY_CONTACT = "emergency_contact", "Their emergency contact"
    RELATIVES = "relatives", "The relatives they name"
    NOBODY = "nobody", "Nobody"


class Traveller(models.Model):
    ENCRYPTED_FIELDS = (
        "given_name",
        "family_name",
        "date_of_birth",
        "nationality",
        "passport_number",
        "phone",
        "email",
        "emergency_contact",
        "disclosure",
    )

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    ref = models.CharField(max_length=12, default=new_reference, editable=False)
    # Null for travellers imported from a legacy register (they have no login).
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="traveller"
    )
    # The traveller's own key, separate from the account's: retention can shred a
    # registration while the account lives on.
    data_key = models.OneToOneField("consular.DataKey", on_delete=models.PROTECT, related_name="traveller")

    given_name_enc = models.BinaryField(null=True)
    family_name_enc = models.BinaryField(null=True)
    date_of_birth_enc = models.BinaryField(null=True)
    nationality_enc = models.BinaryField(null=True)
    passport_number_enc = models.BinaryField(null=True)
    phone_enc = models.BinaryField(null=True)
    email_enc = models.BinaryField(null=True)
    emergency_contact_enc = models.BinaryField(null=True)
    disclosure_enc = models.BinaryField(null=True)  # NULL: the default, the emergency contact
    # The first day of the month of birth, in clear (the date itself is encrypted): the
    # join counts minors with it, to the month (docs/api.md#counting-people).
    birth_month = models.DateField(null=True)
    # NULL, not "", when absent: an empty string would make every blank value a "duplicate".
    passport_bidx = models.CharField(max_length=64, null=True)  # noqa: DJ001
    email_bidx = models.CharField(max_length=64, null=True)  # noqa: DJ001

    language = models.CharField(max_length=35, default="en")
    consent_contact = models.BooleanField(default=False)
    consent_share_with_partners = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # Declared here rather than with unique=True / db_index=True on the fields:
        # for a CharField those also build a second, LIKE-only index, and every
        # index is paid on each insert (the bulk import and every registration).
        # Migration 0004 renames and drops, so nothing is rebuilt.
        constraints = [models.UniqueConstraint(fields=["ref"], name="registrations_traveller_ref_key")]
        indexes = [
            models.Index(fields=["passport_bidx"], name="traveller_passport_bidx"),
            models.Index(fields=["email_bidx"], name="traveller_email_bidx"),
        ]


class Companion(models.Model):
    """Someone who travels or lives with the registrant: a child, a partner, a pupil of a school group.

    Encrypted under the registrant's data key, so shredded with the registration. In
    clear only what the join and the fan-out need: the month of birth (minors), the
    language of a message, and whether the registrant lets the ministry contact them.
    """

    ENCRYPTED_FIELDS = (
        "given_name",
        "family_name",
        "date_of_birth",
        "nationality",
        "relation",
        "passport_number",
        "phone",
        "email",
        "disclosure",
    )

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    traveller = models.ForeignKey(Traveller, on_delete=models.CASCADE, related_name="companions", db_index=False)
    given_name_enc = models.BinaryField(null=True)
    family_name_enc = models.BinaryField(null=True)
    date_of_birth_enc = models.BinaryField(null=True)
    nationality_enc = models.BinaryField(null=True)
    relation_enc = models.BinaryField(null=True)
    passport_number_enc = models.BinaryField(null=True)
    phone_enc = models.BinaryField(null=True)
    email_enc = models.BinaryField(null=True)
    disclosure_enc = models.BinaryField(null=True)
    birth_month = models.DateField()
    language = models.CharField(max_length=35, null=True)  # noqa: DJ001 - NULL: the registrant's
    contact_directly = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["traveller", "created_at"], name="companion_traveller")]


class Trip(models.Model):
    ENCRYPTED_FIELDS = ("title",)
    # Django's own cache of prefetched relations, declared for the type checker: a trip
    # just written carries its new stays in it (registrations.services.trips).
    _prefetched_objects_cache: dict[str, Any]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: (traveller, start_date) below serves look-ups by traveller.
    traveller = models.ForeignKey(Traveller, on_delete=models.CASCADE, related_name="trips", db_index=False)
    title_enc = models.BinaryField(null=True)
    start_date = models.DateField()
    end_date = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    # Who travels with the registrant on this trip (the registrant always does).
    companions = models.ManyToManyField(Companion, related_name="trips", blank=True)

    class Meta:
        ordering = ["start_date", "id"]
        indexes = [models.Index(fields=["traveller", "start_date"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(end_date__gte=models.F("start_date")), name="trip_dates_ordered"),
            models.CheckConstraint(
                condition=models.Q(end_date__lte=models.F("start_date") + timedelta(days=731)),
                name="trip_at_most_two_years",
            ),
        ]


class Stay(models.Model):
    ENCRYPTED_FIELDS = ("city", "address")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    trip = models.ForeignKey(Trip, on_delete=models.CASCADE, related_name="stays")
    # Denormalised from the trip so the join counts distinct travellers without touching trips.
    traveller = models.ForeignKey(Traveller, on_delete=models.CASCADE, related_name="stays", db_index=False)
    country = models.CharField(max_length=2)
    city_enc = models.BinaryField(null=True)
    address_enc = models.BinaryField(null=True)
    point = GeometryField(geom_type="POINT", null=True)
    precision = models.CharField(max_length=8, choices=Precision.choices)
    start_date = models.DateField()
    end_date = models.DateField()

    class Meta:
        ordering = ["start_date", "id"]
        indexes = [
            # Serves the join's two filters at once: the point and the date-range overlap.
            GistIndex(
                "point",
                Func(F("start_date"), F("end_date"), Value("[]"), function="daterange"),
                name="stay_point_period_gist",
            ),
            models.Index(fields=["country", "start_date"], name="stay_country_start"),
            models.Index(fields=["traveller"], name="stay_traveller"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(end_date__gte=models.F("start_date")), name="stay_dates_ordered"),
            models.CheckConstraint(
                condition=(
                    models.Q(precision__in=["point", "city"], point__isnull=False)
                    | models.Q(precision="country", point__isnull=True)
                ),
                name="stay_point_matches_precision",
            ),
        ]


class Residence(models.Model):
    """Where a registrant lives abroad: a stay without a trip, open-ended unless it has an ``until``.

    It goes stale: one not confirmed for RESIDENCE_CONFIRM_MONTHS is counted apart as
    unconfirmed (never dropped), and its holder is reminded a month before.
    """

    ENCRYPTED_FIELDS = ("city", "address")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    traveller = models.ForeignKey(Traveller, on_delete=models.CASCADE, related_name="residences", db_index=False)
    country = models.CharField(max_length=2)
    city_enc = models.BinaryField(null=True)
    address_enc = models.BinaryField(null=True)
    point = GeometryField(geom_type="POINT", null=True)
    precision = models.CharField(max_length=8, choices=Precision.choices)
    since = models.DateField()
    until = models.DateField(null=True)  # NULL: open-ended
    confirmed_at = models.DateTimeField()
    reminded_at = models.DateTimeField(null=True)  # the last reminder to confirm it
    companions = models.ManyToManyField(Companion, related_name="residences", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["since", "id"]
        indexes = [
            # As the stays' index: the point and the period, here open at its end when until is NULL.
            GistIndex(
                "point",
                Func(F("since"), F("until"), Value("[]"), function="daterange"),
                name="residence_point_period_gist",
            ),
            models.Index(fields=["country", "since"], name="residence_country_since"),
            models.Index(fields=["traveller"], name="residence_traveller"),
            models.Index(fields=["confirmed_at"], name="residence_confirmed_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(until__isnull=True) | models.Q(until__gte=models.F("since")),
                name="residence_dates_ordered",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(precision__in=["point", "city"], point__isnull=False)
                    | models.Q(precision="country", point__isnull=True)
                ),
                name="residence_point_matches_precision",
            ),
        ]
