"""The public look-ups: a point or a country → its advisory and the active public crises there.

Nothing about the caller is kept: the coordinates live in this request's memory only
(never in the database, a log line, a task or an error), and the rate limit counts
requests per client address in the process's memory, not in a table.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

from django.conf import settings

from advisories import index
from consular.errors import DomainError


def point_lookup(*, lat: float, lon: float, languages: list[str]) -> dict[str, Any]:
    place = index.place_of(lon, lat)
    country = place.countries[0] if place.countries else None
    return {
        "country": _country(country, at_sea=place.at_sea) if country else None,
        "countries": place.countries,
        "advisory": _advisory(country, languages) if country else None,
        "crises": index.crises_at(lon, lat),
    }


def country_lookup(*, country: str, languages: list[str]) -> dict[str, Any]:
    if country not in index.INDEX.countries().names:
        raise DomainError("not_found", "No such country in the bundled boundaries.", status=404)
    return {
        "country": _country(country, at_sea=False),
        "countries": [country],
        "advisory": _advisory(country, languages),
        "crises": index.crises_in(country),
    }


def _country(code: str, *, at_sea: bool) -> dict[str, Any]:
    return {"code": code, "name": index.INDEX.countries().names.get(code, code), "at_sea": at_sea}


def _advisory(country: str, languages: list[str]) -> dict[str, Any] | None:
    advisory = index.advisory_of(country)
    if advisory is None:
        return None
    language = pick_language(list(advisory["texts"]), languages)
    text = advisory["texts"][language]
    return {
        "level": advisory["level"],
        "language": language,
        "title": text["title"],
        "summary": text["summary"],
        "regional_notes": advisory["regional_notes"].get(language),
        "updated_at": advisory["updated_at"],
    }


def pick_language(available: list[str], wanted: list[str]) -> str:
    """The reader's language (exact tag, then primary), else ADVISORY_DEFAULT_LANGUAGE, else the first."""
    lowered = {tag.lower(): tag for tag in available}
    for tag in wanted:
        if tag.lower() in lowered:
            return lowered[tag.lower()]
        primary = tag.lower().split("-")[0]
        for candidate in available:
            if candidate.lower().split("-")[0] == primary:
                return candidate
    default = settings.ADVISORY_DEFAULT_LANGUAGE.lower()
    return lowered.get(default, sorted(available)[0])


class RateLimit:
    """At most `limit` look-ups a `window` seconds per client address, counted in this process."""

    def __init__(self, limit: int, window: float, *, max_clients: int = 100_000) -> None:
        self.limit, self.window, self.max_clients = limit, window, max_clients
        self._hits: OrderedDict[str, tuple[float, int]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            started, count = self._hits.pop(client, (now, 0))
            if now - started >= self.window:
                started, count = now, 0
            count += 1
            self._hits[client] = (started, count)
            while len(self._hits) > self.max_clients:
                self._hits.popitem(last=False)
        if count > self.limit:
            retry = max(1, int(self.window - (now - started)) + 1)
            raise DomainError(
                "throttled", f"Too many look-ups; retry in {retry} s.", status=429, headers={"Retry-After": str(retry)}
            )

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()


LIMIT = RateLimit(settings.ADVISORY_LOOKUPS_PER_MINUTE, 60.0)
