from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers import StrictBooleanField, StrictCharField, StrictInputSerializer
from notifications.messages import MAX_LANGUAGES, MAX_TEMPLATE_LENGTH
from notifications.models import CampaignStatus, Channel, CheckInStatus
from registrations.validation import MAX_COMPANIONS

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
    recipients = serializers.IntegerField(
        help_text="People messaged: registrants, and companions with their own contact."
    )
    persons = serializers.IntegerField(
        help_text="People whose answer is awaited: everyone a reached registrant answers for."
    )
    by_channel = serializers.DictField(child=serializers.IntegerField())
    by_language = serializers.DictField(child=serializers.IntegerField())
    without_consent = serializers.IntegerField(help_text="Registrants in the area who did not consent to be contacted.")


class CampaignAccepted(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    recipients = serializers.IntegerField(help_text="People messaged.")
    persons = serializers.IntegerField(help_text="People whose answer is awaited.")


@extend_schema_field(
    {
        "type": "object",
        "minProperties": 1,
        "maxProperties": MAX_COMPANIONS + 1,
        "additionalProperties": {"type": "string", "enum": list(CheckInStatus.values)},
        "description": "Answers by person: `self`, or the id of a companion listed in `persons` of the GET.",
    }
)
class AnswersByPersonField(serializers.DictField):
    pass


class CheckInInput(StrictInputSerializer):
    """One answer or several: `status` (the link holder's own), `all` (everyone the link answers for),
    or `persons` (by id, `self` for the holder). `all` goes alone; `status` and `persons` may go together."""

    status = serializers.ChoiceField(
        choices=CheckInStatus.choices, required=False, help_text="The link holder's own answer."
    )
    all = serializers.ChoiceField(
        choices=CheckInStatus.choices, required=False, help_text="One answer for everyone the link answers for."
    )
    persons = AnswersByPersonField(child=serializers.ChoiceField(choices=CheckInStatus.choices), required=False)
    message = StrictCharField(
        max_length=500,
        required=False,
        allow_blank=True,
        allow_null=True,
        default=None,
        help_text="The link holder's own message, kept with their answer.",
    )


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
    recipients = serializers.IntegerField(allow_null=True, help_text="People the campaign messages (each once).")
    recipients_suppressed = serializers.BooleanField(required=False)
    persons = serializers.IntegerField(
        allow_null=True, help_text="People whose answer is awaited: safe + need_help + no_response."
    )
    persons_suppressed = serializers.BooleanField(required=False)
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


class CheckInPersonOutput(serializers.Serializer):
    id = serializers.CharField(help_text="`self` for the link holder, else a companion's id.")
    given_name = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=CheckInStatus.choices, allow_null=True, help_text="null: no answer yet.")


class CheckInAnswerOutput(serializers.Serializer):
    crisis = serializers.CharField(help_text="The crisis's title.")
    status = serializers.ChoiceField(
        choices=CheckInStatus.choices, allow_null=True, help_text="The link holder's answer; null: none yet."
    )
    persons = CheckInPersonOutput(many=True, help_text="Everyone this link answers for, the holder first.")
