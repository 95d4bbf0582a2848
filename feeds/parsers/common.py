"""What the parsers share: dates, severities, country codes, and telling a format from its content."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cache
from typing import Any

import pycountry

from feeds.events import FeedError, Kind

SEVERITIES = ("minor", "moderate", "severe", "extreme")
MAX_FEED_BYTES = 5 * 1024 * 1024  # a feed larger than this is refused, read from a file or a URL


def load_json(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise FeedError(f"not JSON ({exc.__class__.__name__})") from exc


def guess_kind(data: bytes) -> str:
    """The format of a feed from its first bytes and markers; FeedError when none fits."""
    head = data[:65536].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"{", b"[")):
        if b"earthquake.usgs.gov" in head or b'"mag"' in head:
            return Kind.USGS
        if b"api.weather.gov" in head or b'"messageType"' in head:
            return Kind.NWS
        if b'"eventtype"' in head:
            return Kind.GDACS
        raise FeedError("JSON of no known feed format (GDACS, USGS, NWS)")
    if head.startswith(b"<"):
        if b"gdacs.org" in head:
            return Kind.GDACS
        if b"meteoalarm" in head.lower():
            return Kind.METEOALARM
        if b"urn:oasis:names:tc:emergency" in head or b"<alert" in head or b"cap:" in head:
            return Kind.CAP
        if re.search(rb"<(?:\w+:)?(?:rss|feed)\b", head):
            return Kind.CAP  # an index of CAP messages: the parser says of each entry what it holds
        raise FeedError("XML of no known feed format (GDACS, CAP, MeteoAlarm)")
    raise FeedError("neither XML nor JSON")


def moment(value: str | None) -> datetime | None:
    """An ISO 8601 or RFC 822 time as an aware datetime (naive ones are UTC); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def epoch_ms(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def cap_severity(value: str) -> str | None:
    """CAP's own words (Extreme, Severe, Moderate, Minor); Unknown and anything else: None."""
    word = value.strip().lower()
    return word if word in SEVERITIES else None


@cache
def _alpha2() -> frozenset[str]:
    return frozenset(country.alpha_2 for country in pycountry.countries)


def alpha2(code: str) -> str | None:
    """An ISO 3166-1 code in any of its three forms (alpha-2, alpha-3, numeric) as alpha-2."""
    code = code.strip().upper()
    if len(code) == 2:
        return code if code in _alpha2() else None
    found = None
    if len(code) == 3 and code.isdigit():
        found = pycountry.countries.get(numeric=code)
    elif len(code) == 3:
        found = pycountry.countries.get(alpha_3=code)
    return found.alpha_2 if found is not None else None


# WMO's register of alerting authorities gives each country an OID arc named by its ISO
# 3166 numeric code (2.49.0.0.250 is France, 2.49.0.1.124 Canada); CAP identifiers of
# registered senders start with it.
_WMO_OID = re.compile(r"^2\.49\.0\.[0-9]\.(\d{3})\b")


def country_of_identifier(identifier: str) -> str | None:
    match = _WMO_OID.match(identifier)
    return alpha2(match.group(1)) if match else None


def country_of_language(tag: str) -> str | None:
    """The region of a language tag (sv-SE → SE; es-419 has none)."""
    parts = tag.replace("_", "-").split("-")
    return alpha2(parts[1]) if len(parts) > 1 and len(parts[1]) == 2 else None


def one_line(value: str, limit: int) -> str:
    """Feed text as one bounded line: a title becomes an email subject and a list entry."""
    return " ".join(value.split())[:limit]
