from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers import StrictBooleanField, StrictCharField, StrictInputSerializer, StrictIntegerField
from feeds.models import FeedSource

SEVERITY_CHOICES = ["", "minor", "moderate", "severe", "extreme"]


class FeedSourceInput(StrictInputSerializer):
    name = StrictCharField(max_length=100, single_line=True)
    kind = serializers.ChoiceField(choices=FeedSource.Kind.choices)
    url = StrictCharField(max_length=2000, single_line=True, help_text="http or https; never a non-public address.")
    poll_minutes = StrictIntegerField(min_value=1, max_value=1440, required=False, default=10)
    enabled = StrictBooleanField(required=False, default=True)
    activate_min_severity = serializers.ChoiceField(
        choices=SEVERITY_CHOICES,
        required=False,
        default="",
        help_text="Activate new or grown events of at least this severity at once (with activate_min_located); "
        "empty: never.",
    )
    activate_min_located = StrictIntegerField(
        min_value=0, max_value=10_000_000, required=False, default=0, help_text="Registrations located inside."
    )


class FeedSourcePatchInput(FeedSourceInput):
    name = StrictCharField(max_length=100, single_line=True, required=False)
    kind = serializers.ChoiceField(choices=FeedSource.Kind.choices, required=False)
    url = StrictCharField(max_length=2000, single_line=True, required=False)
    poll_minutes = StrictIntegerField(min_value=1, max_value=1440, required=False)
    enabled = StrictBooleanField(required=False)
    activate_min_severity = serializers.ChoiceField(choices=SEVERITY_CHOICES, required=False)
    activate_min_located = StrictIntegerField(min_value=0, max_value=10_000_000, required=False)


class LastRun(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    skipped = serializers.IntegerField()
    flagged = serializers.IntegerField()
    # DRF's metaclass takes declared fields off the class: Serializer.errors stays; mypy cannot tell.
    errors = serializers.IntegerField()  # type: ignore[assignment]


class FeedSourceOutput(serializers.ModelSerializer):
    last_run = serializers.SerializerMethodField()

    class Meta:
        model = FeedSource
        fields = [
            "id", "name", "kind", "url", "poll_minutes", "enabled", "activate_min_severity", "activate_min_located",
            "last_polled_at", "last_success_at", "last_failure_at", "last_failure_reason", "last_run", "created_at",
        ]  # fmt: skip

    @extend_schema_field(
        LastRun(allow_null=True, help_text="Counts of the last run that read the feed; null: none yet.")
    )
    def get_last_run(self, source: FeedSource) -> dict | None:
        return source.last_run or None


class Item(serializers.Serializer):
    item = serializers.CharField()
    reason = serializers.CharField()


class PollOutput(serializers.Serializer):
    changed = serializers.BooleanField(help_text="false: the feed answered 304 Not Modified; nothing was written.")
    failure = serializers.CharField(help_text="Why the poll failed; empty when it did not.")
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    activated = serializers.IntegerField()
    skipped = Item(many=True)
    flagged = Item(many=True)
    errors = serializers.ListField(child=serializers.CharField())  # type: ignore[assignment]


class AlertOutput(serializers.Serializer):
    """Counts only; for analysts a count from 1 to k-1 is null with `<name>_suppressed: true`."""

    id = serializers.UUIDField()
    crisis = serializers.UUIDField(help_text="The feed crisis (GET /api/v1/crises/{id}).")
    title = serializers.CharField()
    severity = serializers.CharField()
    status = serializers.CharField(help_text="The crisis's status now.")
    located = serializers.IntegerField(allow_null=True, help_text="Registrations located in the post's countries.")
    located_suppressed = serializers.BooleanField(required=False)
    persons = serializers.IntegerField(allow_null=True, help_text="The people those registrations hold there.")
    persons_suppressed = serializers.BooleanField(required=False)
    created_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
