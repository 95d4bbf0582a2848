from rest_framework import serializers

from api.serializers import StrictBooleanField, StrictCharField, StrictInputSerializer
from notifications.models import Channel


class CampaignInput(StrictInputSerializer):
    messages = serializers.DictField(
        child=serializers.JSONField(), help_text='{"en": "...", "fr": "..."}; placeholders {given_name}, {checkin_url}'
    )
    default_language = StrictCharField(max_length=35)
    channels = serializers.ListField(child=serializers.ChoiceField(choices=Channel.choices), max_length=2)
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
    status = serializers.ChoiceField(choices=["safe", "need_help"])
    message = StrictCharField(max_length=500, required=False, allow_blank=True, allow_null=True, default=None)
