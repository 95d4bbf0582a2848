from __future__ import annotations

import math
from typing import Any

from rest_framework import serializers

from api.serializers import StrictCharField, StrictInputSerializer, StrictIntegerField


class CoordinateField(serializers.FloatField):
    """A JSON number only (not a string, not a boolean), finite, within its range; the value never echoed."""

    default_error_messages = {"invalid": "A number is required.", "range": "Out of range."}

    def __init__(self, *, limit: float, **kwargs: Any) -> None:
        self.limit = limit
        super().__init__(min_value=-limit, max_value=limit, **kwargs)

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float) or not math.isfinite(data):
            self.fail("invalid")
        if not -self.limit <= data <= self.limit:
            self.fail("range")
        return float(data)


class LookupInput(StrictInputSerializer):
    lat = CoordinateField(limit=90)
    lon = CoordinateField(limit=180)


class CountryRef(serializers.Serializer):
    code = serializers.CharField(help_text="ISO 3166-1 alpha-2")
    name = serializers.CharField()
    at_sea = serializers.BooleanField(help_text="The point is at sea within 22 km of this country's coast.")


class AdvisoryText(serializers.Serializer):
    level = serializers.IntegerField(min_value=1, max_value=4, help_text="1 normal precautions … 4 do not travel.")
    language = serializers.CharField(help_text="The language picked from Accept-Language.")
    title = serializers.CharField()
    summary = serializers.CharField()
    regional_notes = serializers.CharField(allow_null=True)
    updated_at = serializers.DateTimeField()


class PublicCrisis(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    severity = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()
    origin = serializers.CharField()


class LookupOutput(serializers.Serializer):
    country = CountryRef(allow_null=True, help_text="null: not in a country nor within 22 km of one.")
    countries = serializers.ListField(child=serializers.CharField(), help_text="Two on a border.")
    advisory = AdvisoryText(allow_null=True)
    crises = PublicCrisis(many=True, help_text="Active public crises covering the point (or touching the country).")


class TextInput(serializers.Serializer):
    title = StrictCharField(max_length=200, single_line=True)
    summary = StrictCharField(max_length=5000)


class AdvisoryInput(StrictInputSerializer):
    level = StrictIntegerField(min_value=1, max_value=4)
    texts = serializers.DictField(
        child=TextInput(), allow_empty=False, help_text="By BCP 47 language tag; at least one."
    )
    regional_notes = serializers.DictField(
        child=StrictCharField(max_length=5000), required=False, default=dict, help_text="By language, optional."
    )

    def validate_texts(self, value: dict) -> dict:
        if len(value) > 30 or any(not 2 <= len(tag) <= 35 for tag in value):
            raise serializers.ValidationError("At most 30 languages, each a tag of 2 to 35 characters.")
        return value


class AdvisoryOutput(serializers.Serializer):
    country = serializers.CharField()
    name = serializers.CharField()
    level = serializers.IntegerField(allow_null=True, help_text="null: no advisory yet.")
    texts = serializers.DictField(child=TextInput(), allow_null=True)
    regional_notes = serializers.DictField(child=serializers.CharField(), allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)
    may_edit = serializers.BooleanField()
