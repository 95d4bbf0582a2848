"""Base serializer pieces shared by every domain's input serializers."""

from __future__ import annotations

import re
from typing import Any

from rest_framework import serializers

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


class StrictCharField(serializers.CharField):
    """A CharField that refuses numbers and booleans instead of silently stringifying them.

    ``single_line`` also refuses line breaks and other control characters: for
    values that end up in a header or a one-line display (a crisis title is an
    email's Subject).
    """

    default_error_messages = {"single_line": "Line breaks and control characters are not allowed."}

    def __init__(self, *, single_line: bool = False, **kwargs: Any) -> None:
        self.single_line = single_line
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        value = super().to_internal_value(data)
        if self.single_line and _CONTROL_CHARACTERS.search(value):
            self.fail("single_line")
        return value


class StrictBooleanField(serializers.BooleanField):
    """Only JSON true/false."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictInputSerializer(serializers.Serializer):
    """Refuses unknown fields and non-object bodies, naming the offending field."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Expected a JSON object."]})
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)
