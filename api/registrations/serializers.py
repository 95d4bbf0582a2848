"""Shapes of the register's endpoints, for the OpenAPI schema.

Validation itself lives in registrations.validation (shared with the bulk
importer, which must be faster than DRF serializers allow); these classes only
describe the JSON.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers import SINGLE_LINE, VISIBLE, trimmed_pattern
from consular.validation import EMAIL_MAX_LENGTH, MAX_LANGUAGE_TAG_LENGTH, PASSPORT_MAX_LENGTH, PHONE_MAX_LENGTH
from notifications.models import Channel, CheckInStatus, DeliveryStatus
from registrations.models import Precision, Tell
from registrations.validation import (
    ADDRESS_MAX_LENGTH,
    CITY_MAX_LENGTH,
    MAX_COMPANIONS,
    MAX_RELATIVES,
    MAX_STAYS_PER_TRIP,
    NAME_MAX_LENGTH,
    RELATION_MAX_LENGTH,
    TITLE_MAX_LENGTH,
)


def _text(
    max_length: int, *, required: bool = True, nullable: bool = False, rule: dict[str, str] | None = None
) -> serializers.CharField:
    """A text input as the register's rules read it: trimmed first, then checked.

    The schema says no more than those rules accept (so nothing it calls invalid is
    taken), and the rules it cannot say are in the descriptions: a blank optional value
    counts as absent, a required one must hold a non-space character.
    """
    rule = dict(rule or {})
    # The register's rules refuse control characters in every text (consular.validation.clean_text).
    pattern = trimmed_pattern(rule.pop("core", SINGLE_LINE), blank=not required)
    field_schema: dict[str, object] = {"type": "string", "maxLength": max_length, "pattern": pattern, **rule}
    if nullable:
        field_schema["nullable"] = True
    field_class = extend_schema_field(field_schema)(type("RuleText", (serializers.CharField,), {}))
    field: serializers.CharField = field_class(
        max_length=max_length, required=required, allow_null=nullable, allow_blank=not required
    )
    return field


COUNTRY = {"core": "[A-Za-z]{2}", "description": "ISO 3166-1 alpha-2, any case (an assigned code)."}
PHONE = {
    "core": f"\\+(?:[^\\u0000-\\u001f\\u007f]*{VISIBLE})?",
    "description": "E.164, starting with +, e.g. +6793312345; a valid number.",
}
LANGUAGE = {"description": "A BCP 47 language tag, e.g. en, fr-CA; stored standardised (en-gb → en-GB)."}


class LocationSchema(serializers.Serializer):
    lat = serializers.FloatField(min_value=-90, max_value=90)
    lon = serializers.FloatField(min_value=-180, max_value=180)


class EmergencyContactSchema(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_MAX_LENGTH)
    phone = serializers.CharField(max_length=PHONE_MAX_LENGTH, help_text="E.164, e.g. +6793312345")
    relation = serializers.CharField(max_length=RELATION_MAX_LENGTH, allow_null=True)


class ConsentSchema(serializers.Serializer):
    contact = serializers.BooleanField(help_text="May be contacted in a crisis.")
    share_with_partners = serializers.BooleanField(help_text="May be shared with partner states in a joint evacuation.")


class PersonToTellSchema(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_MAX_LENGTH)
    phone = serializers.CharField(max_length=PHONE_MAX_LENGTH, help_text="E.164")
    relation = serializers.CharField(allow_null=True, max_length=RELATION_MAX_LENGTH)


class DisclosureSchema(serializers.Serializer):
    """Whom the ministry may tell about this person's situation in a crisis."""

    tell = serializers.ChoiceField(choices=Tell.choices)
    relatives = PersonToTellSchema(many=True, help_text="Named when `tell` is `relatives`; empty otherwise.")


class PersonToTellInput(serializers.Serializer):
    name = _text(NAME_MAX_LENGTH)
    phone = _text(PHONE_MAX_LENGTH, rule=PHONE)
    relation = _text(RELATION_MAX_LENGTH, required=False, nullable=True)


class DisclosureInput(serializers.Serializer):
    """Whom the ministry may tell about this person's situation in a crisis; absent or null: the emergency contact.

    `relatives` (1 to 5) only with `"tell": "relatives"`.
    """

    tell = serializers.ChoiceField(choices=Tell.choices)
    relatives = serializers.ListField(child=PersonToTellInput(), required=False, max_length=MAX_RELATIVES)


class ProfileSchema(serializers.Serializer):
    """The profile as the API answers it."""

    given_name = serializers.CharField(max_length=NAME_MAX_LENGTH)
    family_name = serializers.CharField(max_length=NAME_MAX_LENGTH)
    date_of_birth = serializers.DateField()
    nationality = serializers.CharField(help_text="ISO 3166-1 alpha-2")
    passport_number = serializers.CharField(allow_null=True)
    phone = serializers.CharField(allow_null=True, help_text="E.164")
    email = serializers.CharField(allow_null=True)
    language = serializers.CharField(help_text="BCP 47 tag, e.g. en, fr-CA")
    emergency_contact = EmergencyContactSchema(allow_null=True)
    consent = ConsentSchema()
    disclosure = DisclosureSchema()


class EmergencyContactInput(serializers.Serializer):
    name = _text(NAME_MAX_LENGTH)
    phone = _text(PHONE_MAX_LENGTH, rule=PHONE)
    relation = _text(RELATION_MAX_LENGTH, required=False, nullable=True)


class ProfileInput(serializers.Serializer):
    """A whole profile (PUT), checked by registrations.validation.

    Beyond what the schema says: the date of birth lies between 1900-01-01 and today; the
    passport number has 5 to 20 letters and digits once spaces and dashes are dropped;
    the phone numbers are valid for their country code; the email is a deliverable address.
    """

    given_name = _text(NAME_MAX_LENGTH)
    family_name = _text(NAME_MAX_LENGTH)
    date_of_birth = serializers.DateField()
    nationality = _text(2, rule=COUNTRY)
    passport_number = _text(PASSPORT_MAX_LENGTH, required=False, nullable=True)
    phone = _text(PHONE_MAX_LENGTH, required=False, nullable=True, rule=PHONE)
    email = _text(EMAIL_MAX_LENGTH, required=False, nullable=True)
    language = _text(MAX_LANGUAGE_TAG_LENGTH, rule=LANGUAGE)
    emergency_contact = EmergencyContactInput(required=False, allow_null=True)
    consent = ConsentSchema()
    disclosure = DisclosureInput(required=False, allow_null=True)


class EmergencyContactPatch(serializers.Serializer):
    name = _text(NAME_MAX_LENGTH, required=False, nullable=True)
    phone = _text(PHONE_MAX_LENGTH, required=False, nullable=True, rule=PHONE)
    relation = _text(RELATION_MAX_LENGTH, required=False, nullable=True)


class ConsentPatch(serializers.Serializer):
    contact = serializers.BooleanField(required=False, allow_null=True)
    share_with_partners = serializers.BooleanField(required=False, allow_null=True)


class ProfilePatchInput(serializers.Serializer):
    """A JSON Merge Patch (RFC 7396) of the profile, one level deep; the merged profile is checked as a PUT.

    Any field may be left out; `consent` and `emergency_contact` merge into the current
    ones, a null member removing that member.
    """

    given_name = _text(NAME_MAX_LENGTH, required=False, nullable=True)
    family_name = _text(NAME_MAX_LENGTH, required=False, nullable=True)
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    nationality = _text(2, required=False, nullable=True, rule=COUNTRY)
    passport_number = _text(PASSPORT_MAX_LENGTH, required=False, nullable=True)
    phone = _text(PHONE_MAX_LENGTH, required=False, nullable=True, rule=PHONE)
    email = _text(EMAIL_MAX_LENGTH, required=False, nullable=True)
    language = _text(MAX_LANGUAGE_TAG_LENGTH, required=False, nullable=True, rule=LANGUAGE)
    emergency_contact = EmergencyContactPatch(required=False, allow_null=True)
    consent = ConsentPatch(required=False, allow_null=True)
    disclosure = DisclosureInput(required=False, allow_null=True, help_text="Replaced whole when given.")


class StaySchema(serializers.Serializer):
    """A stay as the API answers it."""

    id = serializers.UUIDField()
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2")
    city = serializers.CharField(allow_null=True, max_length=CITY_MAX_LENGTH)
    location = LocationSchema(allow_null=True)
    address = serializers.CharField(allow_null=True, max_length=ADDRESS_MAX_LENGTH)
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    precision = serializers.ChoiceField(choices=Precision.choices)


class TripSchema(serializers.Serializer):
    """A trip as the API answers it."""

    id = serializers.UUIDField()
    title = serializers.CharField(allow_null=True, max_length=TITLE_MAX_LENGTH)
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    stays = StaySchema(many=True)
    companions = serializers.ListField(child=serializers.UUIDField(), help_text="Who travels with the registrant.")


class TripWrittenSchema(TripSchema):
    warnings = serializers.ListField(child=serializers.CharField(), help_text="About where stays were placed.")


@extend_schema_field({"description": "Read-only: any value sent back is ignored."})
class IgnoredField(serializers.JSONField):
    pass


class StayInput(serializers.Serializer):
    id = IgnoredField(required=False)
    country = _text(2, rule=COUNTRY)
    city = _text(CITY_MAX_LENGTH, required=False, nullable=True)
    location = LocationSchema(required=False, allow_null=True)
    address = _text(ADDRESS_MAX_LENGTH, required=False, nullable=True)
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    precision = serializers.ChoiceField(
        choices=Precision.choices,
        required=False,
        allow_null=True,
        help_text="Read-only, derived again on every write: a stay sent back as `city` is placed from its city.",
    )


class TripInput(serializers.Serializer):
    """A trip with its stays, checked by registrations.validation.

    Beyond what the schema says: dates lie between 1970-01-01 and 2100-12-31, a trip
    ends on or after its start and lasts at most two years, and each stay lies within
    its trip's dates.
    """

    id = IgnoredField(required=False)
    title = _text(TITLE_MAX_LENGTH, required=False, nullable=True)
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    stays = serializers.ListField(child=StayInput(), required=False, max_length=MAX_STAYS_PER_TRIP)
    companions = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        max_length=MAX_COMPANIONS,
        help_text="Ids of the registration's companions on this trip, each once; absent from a PUT: nobody.",
    )


class TripPatchInput(TripInput):
    """Fields given replace the trip's; `stays`, when given, replaces all its stays. Checked as the merged whole."""

    start_date = serializers.DateField(required=False)
    end_date = serializers.DateField(required=False)


class CompanionSchema(serializers.Serializer):
    """A companion as the API answers it."""

    id = serializers.UUIDField()
    given_name = serializers.CharField(max_length=NAME_MAX_LENGTH)
    family_name = serializers.CharField(max_length=NAME_MAX_LENGTH)
    date_of_birth = serializers.DateField()
    nationality = serializers.CharField(help_text="ISO 3166-1 alpha-2, any country's")
    relation = serializers.CharField(max_length=RELATION_MAX_LENGTH)
    passport_number = serializers.CharField(allow_null=True)
    phone = serializers.CharField(allow_null=True, help_text="E.164")
    email = serializers.CharField(allow_null=True)
    language = serializers.CharField(allow_null=True, help_text="null: the registrant's")
    contact_directly = serializers.BooleanField()
    disclosure = DisclosureSchema()


class CompanionInput(serializers.Serializer):
    """A companion (PUT, POST), checked by registrations.validation as a profile is.

    Beyond what the schema says: the date of birth lies between 1900-01-01 and today; a
    phone number valid for its country code; a deliverable email; `contact_directly`
    needs a phone or an email. A registration lists at most 50 companions.
    """

    id = IgnoredField(required=False)
    given_name = _text(NAME_MAX_LENGTH)
    family_name = _text(NAME_MAX_LENGTH)
    date_of_birth = serializers.DateField()
    nationality = _text(2, rule=COUNTRY)
    relation = _text(RELATION_MAX_LENGTH)
    passport_number = _text(PASSPORT_MAX_LENGTH, required=False, nullable=True)
    phone = _text(PHONE_MAX_LENGTH, required=False, nullable=True, rule=PHONE)
    email = _text(EMAIL_MAX_LENGTH, required=False, nullable=True)
    language = _text(MAX_LANGUAGE_TAG_LENGTH, required=False, nullable=True, rule=LANGUAGE)
    contact_directly = serializers.BooleanField(
        required=False, help_text="Whether the ministry may message this companion themselves (default false)."
    )
    disclosure = DisclosureInput(required=False, allow_null=True)


class CompanionPatchInput(CompanionInput):
    """Fields given replace the companion's; the result is checked whole."""

    given_name = _text(NAME_MAX_LENGTH, required=False)
    family_name = _text(NAME_MAX_LENGTH, required=False)
    date_of_birth = serializers.DateField(required=False)
    nationality = _text(2, required=False, rule=COUNTRY)
    relation = _text(RELATION_MAX_LENGTH, required=False)


class ResidenceSchema(serializers.Serializer):
    """A residence abroad as the API answers it."""

    id = serializers.UUIDField()
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2")
    city = serializers.CharField(allow_null=True, max_length=CITY_MAX_LENGTH)
    location = LocationSchema(allow_null=True)
    address = serializers.CharField(allow_null=True, max_length=ADDRESS_MAX_LENGTH)
    precision = serializers.ChoiceField(choices=Precision.choices)
    since = serializers.DateField()
    until = serializers.DateField(allow_null=True, help_text="null: open-ended.")
    companions = serializers.ListField(child=serializers.UUIDField(), help_text="Who lives there with the registrant.")
    confirmed_at = serializers.DateTimeField(help_text="Set by every write and by confirm.")
    confirm_by = serializers.DateField(help_text="Unconfirmed from this day unless confirmed again.")
    unconfirmed = serializers.BooleanField(help_text="Counted apart in a crisis, never dropped.")


class ResidenceWrittenSchema(ResidenceSchema):
    warnings = serializers.ListField(child=serializers.CharField(), help_text="About where it was placed.")


class ResidenceInput(serializers.Serializer):
    """A residence abroad, checked by registrations.validation: placed as a stay is.

    Beyond what the schema says: dates lie between 1970-01-01 and 2100-12-31, `until`
    (absent: open-ended) is on or after `since`, and each companion is the
    registration's own. A registration holds at most 20 residences.
    """

    id = IgnoredField(required=False)
    country = _text(2, rule=COUNTRY)
    city = _text(CITY_MAX_LENGTH, required=False, nullable=True)
    location = LocationSchema(required=False, allow_null=True)
    address = _text(ADDRESS_MAX_LENGTH, required=False, nullable=True)
    precision = serializers.ChoiceField(
        choices=Precision.choices, required=False, allow_null=True, help_text="Read-only, derived again on every write."
    )
    since = serializers.DateField()
    until = serializers.DateField(required=False, allow_null=True)
    companions = serializers.ListField(
        child=serializers.UUIDField(), required=False, max_length=MAX_COMPANIONS, help_text="Each once."
    )
    confirmed_at = IgnoredField(required=False)
    confirm_by = IgnoredField(required=False)
    unconfirmed = IgnoredField(required=False)


class ResidencePatchInput(ResidenceInput):
    """Fields given replace the residence's; the result is checked whole. Any write confirms it."""

    country = _text(2, required=False, rule=COUNTRY)
    since = serializers.DateField(required=False)


class ExportedAccount(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.CharField()
    role = serializers.CharField()
    created_at = serializers.DateTimeField()


class ExportedCrisis(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()


class ExportedCheckIn(serializers.Serializer):
    campaign_id = serializers.UUIDField()
    crisis = ExportedCrisis()
    companion = serializers.UUIDField(allow_null=True, help_text="Whose answer: a companion's, or null: yours.")
    status = serializers.ChoiceField(choices=CheckInStatus.choices)
    message = serializers.CharField(allow_null=True)
    updated_at = serializers.DateTimeField()


class ExportedDelivery(serializers.Serializer):
    campaign_id = serializers.UUIDField()
    crisis = ExportedCrisis()
    companion = serializers.UUIDField(allow_null=True, help_text="To whom: a companion, or null: you.")
    channel = serializers.ChoiceField(choices=Channel.choices)
    status = serializers.ChoiceField(choices=DeliveryStatus.choices)
    attempts = serializers.IntegerField()
    provider_message_id = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)


class ExportedRegistration(serializers.Serializer):
    reference = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    profile = ProfileSchema(allow_null=True, help_text="null until a profile is written.")
    trips = TripSchema(many=True)
    companions = CompanionSchema(many=True)
    residences = ResidenceSchema(many=True)
    checkins = ExportedCheckIn(many=True)
    deliveries = ExportedDelivery(many=True)


class ExportOutput(serializers.Serializer):
    """Everything held about the caller, decrypted."""

    account = ExportedAccount()
    registration = ExportedRegistration(allow_null=True, help_text="null for an account that never registered.")
