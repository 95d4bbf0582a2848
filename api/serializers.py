"""Base serializer pieces shared by every domain's input serializers."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
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
        # Counted as sent, before trimming, as the schema's maxLength counts it.
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
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


class StrictIntegerField(serializers.IntegerField):
    """Only JSON integers: not "10", not 10.0, not true."""

    def to_internal_value(self, data: Any) -> int:
        if not isinstance(data, int) or isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictInputSerializer(serializers.Serializer):
    """Refuses unknown fields and non-object bodies, naming the offending field."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Expected a JSON object."]})
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class StrictCharFieldSchema(OpenApiSerializerFieldExtension):
    """What a StrictCharField takes, in its schema: DRF trims it first, refuses NUL, and, when
    blank is not allowed, a value of white space only; a single-line one refuses control
    characters too. Said as a pattern, so a client's generated checks agree with ours."""

    target_class = StrictCharField
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "request" and "pattern" not in schema and schema.get("type") == "string":
            schema["pattern"] = text_pattern(
                single_line=self.target.single_line,
                trimmed=self.target.trim_whitespace,
                blank=self.target.allow_blank,
            )
        return schema


# One visible character, and a single line of text beginning and ending with one: what a
# trimmed value that refuses control characters holds.
VISIBLE = "[^\\s\\u0000-\\u001f\\u007f]"
SINGLE_LINE = f"{VISIBLE}(?:[^\\u0000-\\u001f\\u007f]*{VISIBLE})?"


def trimmed_pattern(core: str, *, blank: bool) -> str:
    """``core`` with the white space that trimming takes away around it; all white space too if ``blank``."""
    return f"^\\s*(?:{core})?\\s*$" if blank else f"^\\s*{core}\\s*$"


def text_pattern(*, single_line: bool, trimmed: bool, blank: bool) -> str:
    """The pattern of what a text field takes, written without look-aheads: generators (and
    some clients' validators) handle those badly.

    DRF refuses NUL anywhere; a single-line value refuses every control character, except
    in the white space around it that trimming takes away; a value that may not be blank
    has a character that is not white space.
    """
    if single_line and trimmed:
        return trimmed_pattern(SINGLE_LINE, blank=blank)
    allowed = "[^\\u0000-\\u001f\\u007f]" if single_line else "[^\\u0000]"
    if blank or not trimmed:
        return f"^{allowed}*$"
    return f"^{allowed}*{allowed[:-1]}\\s]{allowed}*$"
