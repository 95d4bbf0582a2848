from rest_framework import serializers

from api.serializers import StrictBooleanField, StrictCharField, StrictInputSerializer
from crises.models import Crisis, RevealRequest, Severity


class AreaField(serializers.JSONField):
    """GeoJSON geometry, Feature, FeatureCollection, or {"type": "Circle", "center": [lon, lat], "radius_km": r}."""


class CrisisInput(StrictInputSerializer):
    title = StrictCharField(max_length=200, single_line=True)
    description = StrictCharField(max_length=5000, required=False, allow_blank=True, default="")
    severity = serializers.ChoiceField(choices=Severity.choices)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    public = StrictBooleanField(required=False, default=False)
    area = AreaField()


class CrisisPatchInput(StrictInputSerializer):
    title = StrictCharField(max_length=200, required=False, single_line=True)
    description = StrictCharField(max_length=5000, required=False, allow_blank=True)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    starts_at = serializers.DateTimeField(required=False)
    ends_at = serializers.DateTimeField(required=False, allow_null=True)
    public = StrictBooleanField(required=False)
    area = AreaField(required=False)


class CrisisOutput(serializers.ModelSerializer):
    area = serializers.SerializerMethodField()

    class Meta:
        model = Crisis
        fields = [
            "id", "title", "description", "severity", "status", "starts_at", "ends_at", "public", "area",
            "area_km2", "vertex_count", "countries", "warnings", "created_at", "activated_at", "closed_at",
        ]  # fmt: skip

    def get_area(self, crisis: Crisis) -> dict:
        import json

        import shapely

        return json.loads(shapely.to_geojson(crisis.area))


class CrisisSummaryOutput(serializers.ModelSerializer):
    class Meta:
        model = Crisis
        fields = ["id", "title", "severity", "status", "starts_at", "ends_at", "public", "area_km2", "countries"]


class RevealInput(StrictInputSerializer):
    reason = StrictCharField(max_length=2000)
    country = StrictCharField(max_length=2, min_length=2, required=False, default="")
    include_country_only = StrictBooleanField(required=False, default=False)

    def validate_country(self, value: str) -> str:
        return value.upper()


class RevealRequestOutput(serializers.ModelSerializer):
    count = serializers.SerializerMethodField()

    class Meta:
        model = RevealRequest
        fields = ["id", "crisis", "status", "reason", "country", "include_country_only", "count", "created_at",
                  "decided_at", "fetched_at"]  # fmt: skip

    def get_count(self, request: RevealRequest) -> int:
        return len(request.traveller_ids)
