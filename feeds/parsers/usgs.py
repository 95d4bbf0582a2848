"""USGS earthquake summary GeoJSON (earthquake.usgs.gov/earthquakes/feed/v1.0/summary/…).

Times are epoch milliseconds; the version is `updated`; `status: deleted` is a cancel;
`ids` (",us7000abcd,at00xyz,") lists every id the event has had, and an event is the
same as one known under any of them. Only a Point is given, so the area is a circle
by the rule of feeds.parsers.quakes; severity by magnitude (feeds.parsers.quakes), or
by the PAGER alert when there is one (green minor, yellow moderate, orange severe, red
extreme).
"""

from __future__ import annotations

from typing import Any

from feeds.events import AreaKind, FeedError, FeedEvent, Kind, MessageType, Parsed, Skipped
from feeds.parsers.common import epoch_ms, one_line
from feeds.parsers.quakes import epicentre_radius_km, quake_severity

PAGER = {"green": "minor", "yellow": "moderate", "orange": "severe", "red": "extreme"}


def parse(document: Any) -> Parsed:
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise FeedError("USGS: expected a GeoJSON FeatureCollection")
    features = document.get("features")
    if not isinstance(features, list):
        raise FeedError("USGS: the FeatureCollection has no features list")
    parsed = Parsed(Kind.USGS)
    for position, feature in enumerate(features, start=1):
        try:
            parsed.events.append(_event(feature, position))
        except ValueError as exc:
            name = feature.get("id") if isinstance(feature, dict) and isinstance(feature.get("id"), str) else None
            parsed.skipped.append(Skipped(name or f"feature {position}", str(exc)))
    return parsed


def _event(feature: Any, position: int) -> FeedEvent:
    if not isinstance(feature, dict) or not isinstance(feature.get("properties"), dict):
        raise ValueError("not a GeoJSON Feature with properties")
    properties = feature["properties"]
    event_id = feature.get("id")
    if not isinstance(event_id, str) or not event_id:
        raise ValueError("no id")
    aliases = [alias for alias in str(properties.get("ids") or "").split(",") if alias and alias != event_id]
    updated = properties.get("updated")
    if not isinstance(updated, int | float) or isinstance(updated, bool):
        raise ValueError("no `updated` time to version it")
    cancelled = properties.get("status") == "deleted"
    geometry = feature.get("geometry")
    coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
    magnitude = properties.get("mag")
    area, area_kind = None, AreaKind.NONE
    if (
        isinstance(coordinates, list)
        and len(coordinates) >= 2
        and all(isinstance(c, int | float) and not isinstance(c, bool) for c in coordinates[:3])
        and -180 <= coordinates[0] <= 180
        and -90 <= coordinates[1] <= 90
        and isinstance(magnitude, int | float)
    ):
        depth = float(coordinates[2]) if len(coordinates) > 2 else None
        radius = epicentre_radius_km(float(magnitude), depth)
        area = {"type": "Circle", "center": [float(coordinates[0]), float(coordinates[1])], "radius_km": radius}
        area_kind = AreaKind.EPICENTRE
    elif not cancelled:
        raise ValueError("no epicentre and magnitude to place it")
    alert = str(properties.get("alert") or "").lower()
    severity = PAGER.get(alert) or (quake_severity(float(magnitude)) if isinstance(magnitude, int | float) else "minor")
    title = one_line(str(properties.get("title") or f"Earthquake {event_id}"), 200)
    return FeedEvent(
        kind=Kind.USGS,
        external_id=event_id,
        version=str(int(updated)),
        rank=float(updated),
        message_type=MessageType.CANCEL if cancelled else MessageType.ALERT,
        title=title,
        description=one_line(str(properties.get("place") or ""), 500),
        severity=severity,
        onset=epoch_ms(properties.get("time")),
        expires=None,
        area=area,
        area_kind=area_kind,
        link=str(properties.get("url") or ""),
        languages=["en"],
        titles={"en": title},
        aliases=aliases,
    )
