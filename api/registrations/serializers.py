"""Shapes of the register's endpoints, for the OpenAPI schema.

Validation itself lives in registrations.validation (shared with the bulk
importer, which must be faster than DRF serializers allow); these classes only
describe the JSON.
"""

from rest_framework import serializers

from consular.validation import EMAIL_MAX_LENGTH, MAX_LANGUAGE_TAG_LENGTH, PASSPORT_MAX_LENGTH, PHONE_MAX_LENGTH
from registrations.validation import (
    ADDRESS_MAX_LENGTH,
    CITY_MAX_LENGTH,
    MAX_STAYS_PER_TRIP,
    NAME_MAX_LENGTH,
    RELATION_MAX_LENGTH,
    TITLE_MAX_LENGTH,
)


class LocationSchema(serializers.Serializer):
    lat = serializers.FloatField(min_value=-90, max_value=90)
    lon = serializers.FloatField(min_value=-180, max_value=180)


class EmergencyContactSchema(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_MAX_LENGTH)
    phone = serializers.CharField(max_length=PHONE_MAX_LENGTH, help_text="E.164, e.g. +6793312345")
    relation = serializers.CharField(max_length=RELATION_MAX_LENGTH, required=False, allow_null=True)


class ConsentSchema(serializers.Serializer):
    contact = serializers.BooleanField(help_text="May be contacted in a crisis.")
    share_with_partners = serializers.BooleanField(help_text="May be shared with partner states in a joint evacuation.")


class ProfileSchema(serializers.Serializer):
    given_name = serializers.CharField(max_length=NAME_MAX_LENGTH)
    family_name = serializers.CharField(max_length=NAME_MAX_LENGTH)
    date_of_birth = serializers.DateField()
    nationality = serializers.CharField(help_text="ISO 3166-1 alpha-2")
    passport_number = serializers.CharField(max_length=PASSPORT_MAX_LENGTH, required=False, allow_null=True)
    phone = serializers.CharField(max_length=PHONE_MAX_LENGTH, required=False, allow_null=True, help_text="E.164")
    email = serializers.EmailField(max_length=EMAIL_MAX_LENGTH, required=False, allow_null=True)
    language = serializers.CharField(max_length=MAX_LANGUAGE_TAG_LENGTH, help_text="BCP 47 tag, e.g. en, fr-CA")
    emergency_contact = EmergencyContactSchema(required=False, allow_null=True)
    consent = ConsentSchema()


class StaySchema(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2")
    city = serializers.CharField(required=False, allow_null=True, max_length=CITY_MAX_LENGTH)
    location = LocationSchema(required=False, allow_null=True)
    address = serializers.CharField(required=False, allow_null=True, max_length=ADDRESS_MAX_LENGTH)
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    precision = serializers.ChoiceField(choices=["point", "city", "country"], read_only=True)


class TripSchema(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    title = serializers.CharField(required=False, allow_null=True, max_length=TITLE_MAX_LENGTH)
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    stays: serializers.ListSerializer = serializers.ListSerializer(
        child=StaySchema(), required=False, max_length=MAX_STAYS_PER_TRIP
    )


class TripWrittenSchema(TripSchema):
    warnings = serializers.ListField(child=serializers.CharField(), read_only=True)
