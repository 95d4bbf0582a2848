from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers import StrictBooleanField, StrictCharField, StrictInputSerializer
from notifications.messages import MAX_LANGUAGES, MAX_TEMPLATE_LENGTH
from notifications.models import CampaignStatus, Channel, CheckInStatus

# A message: line breaks and tabs allowed, other control characters not, something visible.
_MESSAGE_CHARACTER = "[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]"
_MESSAGE_VISIBLE = "[^\\s\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]"


@extend_schema_field(
    {
        "type": "object",
        "minProperties": 1,
        "maxProperties": MAX_LANGUAGES,
        "additionalProperties": {
            "type": "string",
            "maxLength": MAX_TEMPLATE_LENGTH,
            "pattern": f"^{_MESSAGE_CHARACTER}*{_MESSAGE_VISIBLE}{_MESSAGE_CHARACTER}*$",
        },
        "description": 'One template per BCP 47 language tag, e.g. {"en": "...", "fr": "..."}; placeholders '
        "{given_name}, {checkin_url} (added at the end when asking for a check-in and missing).",
    }
)
class MessagesField(serializers.DictField):
    """Checked by notifications.messages.validate_messages: the schema says what it refuses."""


class CampaignInput(StrictInputSerializer):
    messages = MessagesField(child=serializers.JSONField())
    default_language = StrictCharField(max_length=35)
    channels = serializers.ListField(child=serializers.ChoiceField(choices=Channel.choices), min_length=1, max_length=2)
    ask_checkin = StrictBooleanField(required=False, default=False)
    include_country_only = StrictBooleanField(required=False, default=False)
    dry_run = StrictBooleanField(required=False, default=False)


class DryRunOutput(serializers.Serializer):
    recipients = serializers.IntegerField()
    by_channel = serializers.DictField(child=serializers.IntegerField())
    by_language = serializers.DictField(child=serializers.IntegerField())
    without_consent = serializers.IntegerField()


class CampaignAccepted(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    recipients = serializers.IntegerField()


class CheckInInput(StrictInputSerializer):
    status = serializers.ChoiceField(choices=CheckInStatus.choices)
    message = StrictCharField(max_length=500, required=False, allow_blank=True, allow_null=True, default=None)


class CheckInCounts(serializers.Serializer):
    """Answers to "are you safe?"; for analysts a count from 1 to k-1 is null with `<name>_suppressed: true`."""

    safe = serializers.IntegerField(allow_null=True)
    safe_suppressed = serializers.BooleanField(required=False)
    need_help = serializers.IntegerField(allow_null=True)
    need_help_suppressed = serializers.BooleanField(required=False)
    no_response = serializers.IntegerField(allow_null=True)
    no_response_suppressed = serializers.BooleanField(required=False)


class CampaignProgressOutput(serializers.Serializer):
    """Counts only; for analysts a count from 1 to k-1 is null with `<name>_suppressed: true` beside it."""

    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=CampaignStatus.choices)
    recipients = serializers.IntegerField(allow_null=True, help_text="People the campaign reaches (each once).")
    recipients_suppressed = serializers.BooleanField(required=False)
    queued = serializers.IntegerField(allow_null=True, help_text="Deliveries waiting or being sent.")
    queued_suppressed = serializers.BooleanField(required=False)
    sent = serializers.IntegerField(allow_null=True)
    sent_suppressed = serializers.BooleanField(required=False)
    failed = serializers.IntegerField(allow_null=True)
    failed_suppressed = serializers.BooleanField(required=False)
    dead = serializers.IntegerField(allow_null=True, help_text="Given up after repeated failures.")
    dead_suppressed = serializers.BooleanField(required=False)
    cancelled = serializers.IntegerField(allow_null=True)
    cancelled_suppressed = serializers.BooleanField(required=False)
    checkins = CheckInCounts(allow_null=True, help_text="null when the campaign asked for no check-in.")


class CheckInAnswerOutput(serializers.Serializer):
    crisis = serializers.CharField(help_text="The crisis's title.")
    status = serializers.ChoiceField(choices=CheckInStatus.choices, allow_null=True, help_text="null: no answer yet.")
