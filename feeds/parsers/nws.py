"""NWS api.weather.gov alerts: GeoJSON Features (or a FeatureCollection of them) whose
properties are CAP's.

`geometry` may be null: the area is then only UGC/SAME zone codes, and the alert is
kept without geometry, flagged, never guessed. References are structured
(`{"identifier", "sender", "sent"}`).
"""

from __future__ import annotations

from typing import Any

from feeds.events import AreaKind, FeedError, FeedEvent, Flag, Kind, MessageType, Parsed, Skipped
from feeds.parsers.common import cap_severity, moment, one_line

MESSAGE_TYPES = {"alert": MessageType.ALERT, "update": MessageType.UPDATE, "cancel": MessageType.CANCEL}


def parse(document: Any) -> Parsed:
    if isinstance(document, dict) and document.get("type") == "Feature":
        features: Any = [document]
    elif isinstance(document, dict) and document.get("type") == "FeatureCollection":
        features = document.get("features")
    else:
        raise FeedError("NWS: expected a GeoJSON Feature or FeatureCollection")
    if not isinstance(features, list):
        raise FeedError("NWS: the FeatureCollection has no features list")
    parsed = Parsed(Kind.NWS)
    for position, feature in enumerate(features, start=1):
        properties = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(properties, dict) or not properties.get("id"):
            parsed.skipped.append(Skipped(f"feature {position}", "no properties with an id"))
            continue
        identifier = str(properties["id"])
        status = str(properties.get("status") or "")
        if status != "Actual":
            parsed.skipped.append(Skipped(identifier, f"status {status or 'missing'}, not Actual"))
            continue
        message_type = MESSAGE_TYPES.get(str(properties.get("messageType") or "").lower())
        if message_type is None:
            parsed.skipped.append(Skipped(identifier, "messageType is not Alert, Update or Cancel"))
            continue
        parsed.events.append(_event(feature, properties, identifier, message_type))
    return parsed


def _event(feature: dict, properties: dict, identifier: str, message_type: str) -> FeedEvent:
    geometry = feature.get("geometry")
    area, area_kind, flags = None, AreaKind.NONE, [Flag.NO_GEOMETRY]
    if isinstance(geometry, dict) and geometry.get("type") in ("Polygon", "MultiPolygon"):
        area, area_kind, flags = geometry, AreaKind.POLYGON, []
    references = []
    for reference in properties.get("references") or []:
        if isinstance(reference, dict) and reference.get("identifier"):
            references.append(str(reference["identifier"]))
    sent = moment(str(properties.get("sent") or ""))
    title = one_line(str(properties.get("headline") or properties.get("event") or identifier), 200)
    return FeedEvent(
        kind=Kind.NWS,
        external_id=identifier,
        version=str(properties.get("sent") or ""),
        rank=sent.timestamp() if sent else 0.0,
        message_type=message_type,
        title=title,
        description=str(properties.get("description") or "")[:5000],
        severity=cap_severity(str(properties.get("severity") or "")) or "moderate",
        onset=moment(str(properties.get("onset") or properties.get("effective") or "")),
        expires=moment(str(properties.get("ends") or properties.get("expires") or "")),
        area=area,
        area_kind=area_kind,
        countries=["US"],
        link=str(feature.get("id") or ""),
        languages=["en-US"],
        titles={"en-US": title},
        references=references,
        flags=flags,
    )
