"""Message templates: validation at campaign creation, rendering at send time."""

from __future__ import annotations

import re

from django.conf import settings
from django.core import signing

from consular.errors import DomainError
from consular.validation import Errors, Invalid, invalid_input, normalise_language

PLACEHOLDERS = frozenset({"given_name", "checkin_url"})
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
# Line breaks and tabs belong in a message; other control characters do not
# (PostgreSQL cannot even store NUL in the campaign's jsonb).
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_TEMPLATE_LENGTH = 2000
MAX_LANGUAGES = 30
# Budget for a name when checking an SMS template's length before knowing who gets it.
NAME_BUDGET = 30
CHECKIN_SALT = "consular.checkin"


def validate_messages(messages: object, default_language: object, *, ask_checkin: bool) -> tuple[dict[str, str], str]:
    """Clean templates keyed by normalised language tag, and the default language; 400 naming the field."""
    try:
        return _validate_messages(messages, default_language, ask_checkin=ask_checkin)
    except Invalid as exc:
        raise invalid_input(exc) from exc


def _validate_messages(messages: object, default_language: object, *, ask_checkin: bool) -> tuple[dict[str, str], str]:
    errors = Errors()
    clean: dict[str, str] = {}
    if not isinstance(messages, dict) or not messages:
        errors.add("messages", "Give at least one message, keyed by language tag.")
        raise errors.invalid()
    if len(messages) > MAX_LANGUAGES:
        errors.add("messages", f"At most {MAX_LANGUAGES} languages.")
    for raw_tag, text in messages.items():
        tag = normalise_language(raw_tag, f"messages.{raw_tag}", errors, required=True)
        path = f"messages.{raw_tag}"
        if not isinstance(text, str) or not text.strip():
            errors.add(path, "A message may not be empty.")
            continue
        if len(text) > MAX_TEMPLATE_LENGTH:
            errors.add(path, f"At most {MAX_TEMPLATE_LENGTH} characters.")
            continue
        if _CONTROL_CHARACTERS.search(text):
            errors.add(path, "Control characters other than line breaks and tabs are not allowed.")
            continue
        unknown = sorted({name for name in _PLACEHOLDER.findall(text) if name not in PLACEHOLDERS})
        if unknown:
            errors.add(path, f"Unknown placeholder(s): {', '.join('{' + n + '}' for n in unknown)}.")
            continue
        if tag:
            if ask_checkin and "{checkin_url}" not in text:
                text = text.rstrip() + "\n{checkin_url}"
            clean[tag] = text.strip()
    default = normalise_language(default_language, "default_language", errors, required=True)
    if default and clean and default not in clean:
        errors.add("default_language", "Must be one of the message languages.")
    if errors.items or default is None:  # a missing default is among the errors
        raise errors.invalid()
    return clean, default


def check_length(messages: dict[str, str], *, limit: int, sample_url: str) -> None:
    for tag, text in messages.items():
        rendered = render(text, given_name="X" * NAME_BUDGET, checkin_url=sample_url)
        if len(rendered) > limit:
            raise DomainError(
                "invalid",
                "Invalid input.",
                fields={f"messages.{tag}": [f"{len(rendered)} characters once rendered; SMS allows {limit}."]},
            )


def pick(messages: dict[str, str], default_language: str, language: str) -> str:
    """The traveller's language, else its primary subtag (fr-CA → fr), else the default."""
    if language in messages:
        return messages[language]
    primary = language.split("-")[0]
    for tag, text in messages.items():
        if tag.split("-")[0] == primary:
            return text
    return messages[default_language]


def render(template: str, *, given_name: str, checkin_url: str) -> str:
    # Plain replacement, not str.format: a template must not reach attributes.
    return template.replace("{given_name}", given_name).replace("{checkin_url}", checkin_url)


def render_within(template: str, *, given_name: str, checkin_url: str, limit: int | None) -> str:
    text = render(template, given_name=given_name, checkin_url=checkin_url)
    if limit is not None and len(text) > limit:
        # A long name is shortened rather than the message cut off.
        overflow = len(text) - limit
        text = render(template, given_name=given_name[: max(1, len(given_name) - overflow)], checkin_url=checkin_url)
    return text[:limit] if limit else text


def checkin_token(campaign_id: object, traveller_id: object, companion_id: object | None = None) -> str:
    """A registrant's link (it answers for their companions in the area too), or a companion's own."""
    payload = [str(campaign_id), str(traveller_id)] + ([str(companion_id)] if companion_id else [])
    return signing.dumps(payload, salt=CHECKIN_SALT, compress=True)


def read_checkin_token(token: str, *, max_age_seconds: int) -> tuple[str, str, str | None]:
    """(campaign id, traveller id, companion id or None); raises signing.SignatureExpired or signing.BadSignature.

    Links sent before companions existed name two ids; they still work.
    """
    payload = signing.loads(token, salt=CHECKIN_SALT, max_age=max_age_seconds)
    if not isinstance(payload, list) or len(payload) not in (2, 3):
        raise ValueError("not a check-in token")
    return payload[0], payload[1], payload[2] if len(payload) == 3 else None


def checkin_url(token: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}/checkin/{token}"
