from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.notifications.serializers import CheckInCounts
from api.registrations.serializers import DisclosureSchema
from api.serializers import StrictBooleanField, StrictCharField, StrictInputSerializer
from consular.validation import country_codes
from crises.models import Crisis, Origin, RevealRequest, Severity, Status
from feeds.models import FeedSource
from notifications.models import CheckInStatus

_POSITION = {
    "type": "array",
    "items": {"type": "number", "minimum": -360, "maximum": 360},
    "minItems": 2,
    "maxItems": 3,
    "description": "[longitude, latitude] (or with an altitude, ignored); latitude within ±90.",
}
_RING = {
    "type": "array",
    "items": _POSITION,
    "minItems": 4,
    "description": "Closed: its first and last positions are the same.",
}
_POLYGON = {"type": "array", "items": _RING, "minItems": 1, "description": "The shell, then any holes."}
_AREA_GEOMETRY = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {
            "type": "string",
            "enum": ["Polygon", "MultiPolygon", "Feature", "FeatureCollection", "GeometryCollection", "Circle"],
        },
        "coordinates": {
            "type": "array",
            "description": "A Polygon's rings, or a MultiPolygon's polygons.",
            "items": {"oneOf": [_RING, _POLYGON]},
        },
        "geometry": {"type": "object", "description": "A Feature's geometry: any of these shapes."},
        "features": {"type": "array", "minItems": 1, "items": {"type": "object"}},
        "geometries": {"type": "array", "minItems": 1, "items": {"type": "object"}},
        "center": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
        "radius_km": {"type": "number", "exclusiveMinimum": True, "minimum": 0, "maximum": 2000},
    },
}


@extend_schema_field(
    {
        **_AREA_GEOMETRY,
        "description": "A GeoJSON (RFC 7946, lon/lat) Polygon, MultiPolygon, Feature, FeatureCollection or "
        "GeometryCollection of them (points and lines in a collection are ignored with a warning), or a circle "
        '`{"type": "Circle", "center": [lon, lat], "radius_km": r}` (r up to 2,000, not over a pole). Rings must '
        "be closed with at least 4 positions and latitudes within ±90; a ring crossing the antimeridian is split "
        "there, an invalid one repaired with a warning, one that repairs to nothing refused. At most "
        "CRISIS_MAX_VERTICES vertices (413 above).",
    }
)
class AreaField(serializers.JSONField):
    """GeoJSON geometry, Feature, FeatureCollection, or {"type": "Circle", "center": [lon, lat], "radius_km": r}."""


class MultiPolygonGeometry(serializers.Serializer):
    type = serializers.ChoiceField(choices=["MultiPolygon"])
    coordinates = serializers.ListField(
        child=serializers.ListField(child=serializers.ListField(child=serializers.ListField(
            child=serializers.FloatField(), min_length=2, max_length=2
        )))
    )  # fmt: skip


CRISIS_TIME = "ISO 8601, e.g. 2026-11-10T06:00:00Z; a time without a zone is read as UTC. Between 1970 and 2100."


class CrisisInput(StrictInputSerializer):
    title = StrictCharField(max_length=200, single_line=True)
    description = StrictCharField(max_length=5000, required=False, allow_blank=True, default="")
    severity = serializers.ChoiceField(choices=Severity.choices)
    starts_at = serializers.DateTimeField(help_text=CRISIS_TIME)
    ends_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text=f"{CRISIS_TIME} null: open-ended."
    )
    public = StrictBooleanField(required=False, default=False)
    area = AreaField()


class CrisisPatchInput(StrictInputSerializer):
    title = StrictCharField(max_length=200, required=False, single_line=True)
    description = StrictCharField(max_length=5000, required=False, allow_blank=True)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    starts_at = serializers.DateTimeField(required=False, help_text=CRISIS_TIME)
    ends_at = serializers.DateTimeField(required=False, allow_null=True, help_text=f"{CRISIS_TIME} null: open-ended.")
    public = StrictBooleanField(required=False)
    area = AreaField(required=False)


class CrisisSource(serializers.Serializer):
    """The feed message a proposed crisis came from, as its source names it."""

    kind = serializers.ChoiceField(choices=FeedSource.Kind.choices)
    external_id = serializers.CharField()
    version = serializers.CharField()
    link = serializers.CharField(help_text="The agency's page for the event; may be empty.")


class OriginFields(serializers.Serializer):
    origin = serializers.ChoiceField(choices=Origin.choices, help_text="`feed`: proposed by a crisis feed.")
    # DRF's metaclass takes declared fields off the class, so this does not shadow Field.source; mypy cannot tell.
    source = serializers.SerializerMethodField()  # type: ignore[assignment]

    @extend_schema_field(CrisisSource(allow_null=True, help_text="null for a drawn crisis."))
    def get_source(self, crisis: Crisis) -> dict | None:
        if crisis.origin != Origin.FEED:
            return None
        return {
            "kind": crisis.source_kind,
            "external_id": crisis.source_external_id,
            "version": crisis.source_version,
            "link": crisis.source_link,
        }


class CrisisOutput(OriginFields, serializers.ModelSerializer):
    area = serializers.SerializerMethodField()

    class Meta:
        model = Crisis
        fields = [
            "id", "title", "description", "severity", "status", "starts_at", "ends_at", "public", "area",
            "area_km2", "vertex_count", "countries", "warnings", "created_at", "activated_at", "closed_at",
            "origin", "source",
        ]  # fmt: skip

    @extend_schema_field(MultiPolygonGeometry)
    def get_area(self, crisis: Crisis) -> dict:
        import json

        import shapely

        return json.loads(shapely.to_geojson(crisis.area))


class Exposure(serializers.Serializer):
    located = serializers.IntegerField(allow_null=True, help_text="Registrations located in the caller's countries.")
    located_suppressed = serializers.BooleanField(required=False)
    computed_at = serializers.DateTimeField()


class CrisisSummaryOutput(OriginFields, serializers.ModelSerializer):
    exposure = serializers.SerializerMethodField()

    class Meta:
        model = Crisis
        fields = ["id", "title", "severity", "status", "starts_at", "ends_at", "public", "area_km2", "countries",
                  "origin", "source", "exposure"]  # fmt: skip

    @extend_schema_field(
        Exposure(allow_null=True, help_text="A feed crisis's counts, computed when it arrived or its area changed.")
    )
    def get_exposure(self, crisis: Crisis) -> dict | None:
        located = getattr(crisis, "exposure_located", None)
        if crisis.exposure_at is None or located is None:
            return None
        body: dict = {"located": located, "computed_at": crisis.exposure_at}
        k = self.context.get("k")
        if k and 0 < located < k:
            body.update(located=None, located_suppressed=True)
        return body


@extend_schema_field(
    {
        "type": "string",
        "maxLength": 2000,
        "pattern": "^\\s*[^\\s\\u0000][^\\u0000]{18,}[^\\s\\u0000]\\s*$",
        "description": "Why, in at least 20 characters (white space around it not counted); kept in the audit log.",
    }
)
class ReasonField(StrictCharField):
    pass


@extend_schema_field(
    {
        "type": "string",
        "enum": ["", *sorted(country_codes()), *sorted(code.lower() for code in country_codes())],
        "default": "",
        "description": "Only the people in this country (ISO 3166-1 alpha-2, any case); empty: all.",
    }
)
class CountryFilterField(StrictCharField):
    pass


class RevealInput(StrictInputSerializer):
    reason = ReasonField(max_length=2000)
    country = CountryFilterField(max_length=2, required=False, allow_blank=True, default="")
    include_country_only = StrictBooleanField(required=False, default=False)

    def validate_country(self, value: str) -> str:
        code = value.upper()
        if code and code not in country_codes():
            raise serializers.ValidationError("Not an ISO 3166-1 alpha-2 country code.")
        return code


class RevealRequestOutput(serializers.ModelSerializer):
    count = serializers.SerializerMethodField()

    class Meta:
        model = RevealRequest
        fields = ["id", "crisis", "status", "reason", "country", "include_country_only", "count", "created_at",
                  "decided_at", "fetched_at"]  # fmt: skip

    def get_count(self, request: RevealRequest) -> int:
        return len(request.traveller_ids)


class PersonCountsFields(serializers.Serializer):
    """People, each counted once: the registrants and the companions on the matching trips or residences."""

    persons = serializers.IntegerField(allow_null=True, help_text="Registrants and their companions, each once.")
    persons_suppressed = serializers.BooleanField(required=False)
    minors = serializers.IntegerField(allow_null=True, help_text="Under 18 on the crisis's first day (by month).")
    minors_suppressed = serializers.BooleanField(required=False)
    travelling = serializers.IntegerField(allow_null=True, help_text="Placed by a trip.")
    travelling_suppressed = serializers.BooleanField(required=False)
    resident = serializers.IntegerField(allow_null=True, help_text="Placed by a confirmed residence.")
    resident_suppressed = serializers.BooleanField(required=False)
    unconfirmed = serializers.IntegerField(
        allow_null=True, help_text="Placed by a residence not confirmed for RESIDENCE_CONFIRM_MONTHS."
    )
    unconfirmed_suppressed = serializers.BooleanField(required=False)


class CountryCount(PersonCountsFields):
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2")
    count = serializers.IntegerField(allow_null=True, help_text="Registrations.")
    suppressed = serializers.BooleanField(required=False, help_text="`count` is suppressed.")


class PrecisionCounts(serializers.Serializer):
    point = serializers.IntegerField(allow_null=True)
    point_suppressed = serializers.BooleanField(required=False)
    city = serializers.IntegerField(allow_null=True)
    city_suppressed = serializers.BooleanField(required=False)


class CountryOnlyCounts(PersonCountsFields):
    total = serializers.IntegerField(allow_null=True, help_text="Registrations.")
    total_suppressed = serializers.BooleanField(required=False)
    by_country = CountryCount(many=True)


class LocatedCounts(CountryOnlyCounts):
    by_precision = PrecisionCounts()


class AffectedOutput(serializers.Serializer):
    """Counts only. For analysts a count from 1 to k-1 is null with a `…suppressed: true` beside it."""

    crisis = serializers.UUIDField()
    as_of = serializers.DateTimeField()
    located = LocatedCounts()
    country_only = CountryOnlyCounts()
    checkins = CheckInCounts(allow_null=True, help_text="null until a campaign of the caller's post asked.")
    suppressed_below = serializers.IntegerField(allow_null=True, help_text="k for analysts; null for other staff.")


class RevealedStay(serializers.Serializer):
    country = serializers.CharField()
    city = serializers.CharField(allow_null=True)
    start_date = serializers.DateField()
    end_date = serializers.DateField()


class RevealedResidence(serializers.Serializer):
    country = serializers.CharField()
    city = serializers.CharField(allow_null=True)
    since = serializers.DateField()
    until = serializers.DateField(allow_null=True)
    unconfirmed = serializers.BooleanField(help_text="Not confirmed for RESIDENCE_CONFIRM_MONTHS.")


class RevealedCompanion(serializers.Serializer):
    """A companion on a matching trip or residence: never date of birth, passport or address."""

    given_name = serializers.CharField(allow_null=True)
    family_name = serializers.CharField(allow_null=True)
    relation = serializers.CharField(allow_null=True)
    age = serializers.IntegerField(allow_null=True, help_text="In whole years, today.")
    phone = serializers.CharField(allow_null=True, help_text="Their own, if any.")
    email = serializers.CharField(allow_null=True, help_text="Their own, if any.")
    disclosure = DisclosureSchema()
    checkin = serializers.ChoiceField(choices=CheckInStatus.choices, allow_null=True)


class RevealedTraveller(serializers.Serializer):
    """The minimal contact record: never passport number, date of birth, address or emergency contact."""

    ref = serializers.CharField()
    given_name = serializers.CharField(allow_null=True)
    family_name = serializers.CharField(allow_null=True)
    phone = serializers.CharField(allow_null=True)
    email = serializers.CharField(allow_null=True)
    language = serializers.CharField()
    disclosure = DisclosureSchema(help_text="Whom the ministry may tell about the registrant.")
    stays = RevealedStay(many=True)
    residences = RevealedResidence(many=True)
    companions = RevealedCompanion(many=True, help_text="The people on the matching trips and residences.")
    checkin = serializers.ChoiceField(choices=CheckInStatus.choices, allow_null=True)


class RevealOutput(serializers.Serializer):
    travellers = RevealedTraveller(many=True)
    audit_id = serializers.IntegerField(help_text="The audit entry that records this reveal.")


class RevealPendingOutput(serializers.Serializer):
    status = serializers.ChoiceField(choices=["pending_approval"])
    request = RevealRequestOutput()


class AreaProperties(serializers.Serializer):
    title = serializers.CharField()
    severity = serializers.ChoiceField(choices=Severity.choices)
    status = serializers.ChoiceField(choices=Status.choices)


class AreaFeatureOutput(serializers.Serializer):
    type = serializers.ChoiceField(choices=["Feature"])
    id = serializers.UUIDField()
    geometry = MultiPolygonGeometry()
    properties = AreaProperties()
