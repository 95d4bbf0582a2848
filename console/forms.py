"""The console's forms: bounds and shapes of what an officer types; the rules stay in the services."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from crises.models import Severity
from crises.services.reveals import MIN_REASON_LENGTH

MAX_AREA_BYTES = 1024 * 1024  # as the API's body limit
LANGUAGE_CHOICES = [("en", "English"), ("fr", "French"), ("es", "Spanish"), ("de", "German"), ("ar", "Arabic"),
                    ("pt", "Portuguese"), ("ru", "Russian"), ("zh", "Chinese"), ("ja", "Japanese")]  # fmt: skip


class DeclareForm(forms.Form):
    title = forms.CharField(max_length=200, required=False, help_text="Required, unless a CAP file gives it.")
    severity = forms.ChoiceField(choices=Severity.choices, initial=Severity.SEVERE)
    starts_at = forms.DateTimeField(
        label="Starts (UTC)",
        required=False,
        help_text="Required, unless a CAP file gives its onset.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    ends_at = forms.DateTimeField(
        label="Ends (UTC, optional)",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    public = forms.BooleanField(required=False, label="Public (shown to travellers' apps)")
    description = forms.CharField(max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    area = forms.CharField(
        label="Area (GeoJSON)",
        required=False,
        max_length=MAX_AREA_BYTES,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text="Drawn on the map, or pasted: a Polygon, MultiPolygon, Feature, FeatureCollection or Circle.",
    )
    area_file = forms.FileField(label="…or a GeoJSON or CAP file", required=False)

    def clean_area(self) -> Any:
        text = self.cleaned_data["area"].strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError as problem:
            raise forms.ValidationError(f"Not GeoJSON: {problem}") from problem


class CampaignForm(forms.Form):
    languages = forms.MultipleChoiceField(choices=LANGUAGE_CHOICES, required=False, widget=forms.MultipleHiddenInput)
    default_language = forms.ChoiceField(choices=LANGUAGE_CHOICES, initial="en")
    channels = forms.MultipleChoiceField(
        choices=[("email", "Email"), ("sms", "SMS")], widget=forms.CheckboxSelectMultiple, initial=["email"]
    )
    ask_checkin = forms.BooleanField(required=False, initial=True, label="Ask each person to check in (a link)")
    include_country_only = forms.BooleanField(
        required=False, label="Also those registered in a touched country without a city or point"
    )
    idempotency_key = forms.CharField(max_length=100, required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code, name in LANGUAGE_CHOICES:
            self.fields[f"message_{code}"] = forms.CharField(
                label=f"Message in {name}",
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 3, "data-sms-counter": "true"}),
            )

    def campaign_data(self) -> dict[str, Any]:
        """What notifications.services.campaigns.campaign_validate reads (the API's body)."""
        data = self.cleaned_data
        messages = {code: data[f"message_{code}"] for code, _ in LANGUAGE_CHOICES if data.get(f"message_{code}")}
        return {
            "messages": messages,
            "default_language": data["default_language"],
            "channels": data["channels"],
            "ask_checkin": data["ask_checkin"],
            "include_country_only": data["include_country_only"],
        }


class RevealForm(forms.Form):
    reason = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=f"Why these people must be named (at least {MIN_REASON_LENGTH} characters); kept in the audit log.",
    )
    country = forms.CharField(max_length=2, required=False, help_text="Only this country (ISO code), optional.")
    include_country_only = forms.BooleanField(required=False, label="Include those registered by country only")

    def clean_country(self) -> str:
        code = self.cleaned_data["country"].strip().upper()
        if code and not (len(code) == 2 and code.isalpha()):
            raise forms.ValidationError("Two letters: ISO 3166-1 alpha-2.")
        return code
