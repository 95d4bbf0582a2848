"""Feed formats → FeedEvent: GDACS (GeoRSS, GeoJSON), USGS GeoJSON, CAP 1.1/1.2 (single, Atom, RSS,
EDXL-DE; MeteoAlarm's Atom), NWS api.weather.gov GeoJSON. ``parse(data, kind)`` picks the parser;
``guess_kind(data)`` tells the format from the content."""

from __future__ import annotations

from feeds.events import FeedError, Kind, Parsed
from feeds.parsers import cap, gdacs, nws, usgs
from feeds.parsers.common import guess_kind, load_json

__all__ = ["guess_kind", "parse"]


def parse(data: bytes, kind: str | None = None) -> Parsed:
    """Every event of a feed file; FeedError when it cannot be read at all."""
    kind = kind or guess_kind(data)
    if kind == Kind.GDACS:
        return gdacs.parse(data)
    if kind == Kind.USGS:
        return usgs.parse(load_json(data))
    if kind == Kind.NWS:
        return nws.parse(load_json(data))
    if kind in (Kind.CAP, Kind.METEOALARM):
        return cap.parse(data, kind=kind)
    raise FeedError(f"unknown feed kind {kind!r}; expected one of {', '.join(Kind.ALL)}")
