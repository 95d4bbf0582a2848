"""GDACS: the GeoRSS feed (gdacs: namespace) and the GeoJSON event list and event geometry.

Identity is (eventtype, eventid); the episode is the version. Severity from the alert
level: Green → minor, Orange → severe, Red → extreme (GDACS's own scale: low, medium and
high humanitarian impact). The area: for an earthquake with a magnitude, a circle by the
rule of feeds.parsers.quakes (GDACS's box is a fixed ±4° around the epicentre); for any
other event GDACS's bounding box ("lonmin lonmax latmin latmax", lonmin possibly below
-180 across the antimeridian), else a circle of a fixed radius per event type around
the point; the event geometry's polygons when given.
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree.ElementTree import Element

from feeds.events import AreaKind, FeedError, FeedEvent, Kind, MessageType, Parsed, Skipped
from feeds.parsers.common import alpha2, load_json, moment, one_line
from feeds.parsers.quakes import epicentre_radius_km
from feeds.xmlsafe import descendants, local, parse_xml, text

SEVERITY = {"green": "minor", "orange": "severe", "red": "extreme"}
# Around a point when GDACS gives no box: tropical cyclone wind field, flood, volcano, drought, wildfire.
POINT_RADIUS_KM = {"TC": 300.0, "FL": 100.0, "VO": 50.0, "DR": 300.0, "WF": 50.0, "TS": 300.0}
DEFAULT_POINT_RADIUS_KM = 100.0
_DEPTH = re.compile(r"Depth:\s*([-\d.]+)\s*km", re.IGNORECASE)


def parse(data: bytes) -> Parsed:
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"{", b"[")):
        return _parse_geojson(load_json(data))
    root = parse_xml(data)
    if local(root.tag) != "rss":
        raise FeedError("GDACS: expected an RSS document")
    parsed = Parsed(Kind.GDACS)
    for position, item in enumerate(descendants(root, "item"), start=1):
        event_type, event_id = text(item, "eventtype").upper(), text(item, "eventid")
        if not event_type or not event_id:
            parsed.skipped.append(Skipped(f"item {position}", "no gdacs:eventtype and gdacs:eventid to identify it"))
            continue
        try:
            parsed.events.append(_rss_event(item, event_type, event_id))
        except ValueError as exc:
            parsed.skipped.append(Skipped(f"{event_type}{event_id}", str(exc)))
    return parsed


def _rss_event(item: Element, event_type: str, event_id: str) -> FeedEvent:
    episode = text(item, "episodeid") or "0"
    point = _point(text(item, "point"))
    severity_element = next(iter(descendants(item, "severity")), None)
    magnitude = None
    depth = None
    if event_type == "EQ" and severity_element is not None:
        magnitude = _number(severity_element.get("value"))
        found = _DEPTH.search(severity_element.text or "")
        depth = float(found.group(1)) if found else None
    area, area_kind = _area(event_type, point, _bbox(text(item, "bbox")), magnitude, depth)
    countries = [c for c in (alpha2(code) for code in text(item, "iso3").split(",") if code.strip()) if c]
    return FeedEvent(
        kind=Kind.GDACS,
        external_id=f"{event_type}{event_id}",
        version=episode,
        rank=float(_number(episode) or 0),
        message_type=MessageType.ALERT,
        title=one_line(text(item, "title"), 200),
        description=text(item, "description")[:5000],
        severity=SEVERITY.get(text(item, "alertlevel").lower(), "minor"),
        onset=moment(text(item, "fromdate")),
        expires=None,
        area=area,
        area_kind=area_kind,
        countries=countries,
        link=text(item, "link"),
        languages=["en"],
        titles={"en": one_line(text(item, "title"), 200)},
        flags=[] if area else ["no_geometry"],
    )


def _parse_geojson(document: Any) -> Parsed:
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise FeedError("GDACS: expected a GeoJSON FeatureCollection")
    parsed = Parsed(Kind.GDACS)
    features = document.get("features")
    if not isinstance(features, list):
        raise FeedError("GDACS: the FeatureCollection has no features list")
    polygons: dict[str, list[Any]] = {}
    for position, feature in enumerate(features, start=1):
        properties = feature.get("properties") if isinstance(feature, dict) else None
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        if not isinstance(properties, dict):
            parsed.skipped.append(Skipped(f"feature {position}", "no properties"))
            continue
        event_type = str(properties.get("eventtype") or "").upper()
        event_id = str(properties.get("eventid") or "")
        if not event_type or not event_id:
            parsed.skipped.append(Skipped(f"feature {position}", "no eventtype and eventid to identify it"))
            continue
        key = f"{event_type}{event_id}"
        if isinstance(geometry, dict) and geometry.get("type") in ("Polygon", "MultiPolygon"):
            # getgeometry: the event's polygons, several features for one event.
            polygons.setdefault(key, []).append(geometry)
            if any(event.external_id == key for event in parsed.events):
                continue
        parsed.events.append(_geojson_event(properties, geometry, feature.get("bbox"), event_type, key))
    for event in parsed.events:
        if event.external_id in polygons:
            shapes = polygons[event.external_id]
            event.area = {"type": "FeatureCollection", "features": [
                {"type": "Feature", "geometry": shape, "properties": {}} for shape in shapes]}  # fmt: skip
            event.area_kind = AreaKind.POLYGON
            event.flags = [flag for flag in event.flags if flag != "no_geometry"]
    return parsed


def _geojson_event(properties: dict, geometry: Any, bbox: Any, event_type: str, key: str) -> FeedEvent:
    point = None
    if isinstance(geometry, dict) and geometry.get("type") == "Point":
        coordinates = geometry.get("coordinates")
        if isinstance(coordinates, list) and len(coordinates) >= 2:
            lon, lat = _number(coordinates[0]), _number(coordinates[1])
            point = (lon, lat) if lon is not None and lat is not None else None
    box = None
    if isinstance(bbox, list) and len(bbox) == 4 and all(_number(v) is not None for v in bbox):
        box = (float(bbox[0]), float(bbox[2]), float(bbox[1]), float(bbox[3]))  # → lonmin lonmax latmin latmax
    raw_severity = properties.get("severitydata")
    severity_data: dict[str, Any] = raw_severity if isinstance(raw_severity, dict) else {}
    magnitude = _number(severity_data.get("severity")) if event_type == "EQ" else None
    depth_match = _DEPTH.search(str(severity_data.get("severitytext") or ""))
    depth = float(depth_match.group(1)) if depth_match else None
    area, area_kind = _area(event_type, point, box, magnitude, depth)
    affected = properties.get("affectedcountries")
    countries = []
    if isinstance(affected, list):
        countries = [c for c in (alpha2(str(a.get("iso2") or "")) for a in affected if isinstance(a, dict)) if c]
    raw_url = properties.get("url")
    url: dict[str, Any] = raw_url if isinstance(raw_url, dict) else {}
    episode = str(properties.get("episodeid") or "0")
    title = one_line(str(properties.get("name") or properties.get("description") or key), 200)
    return FeedEvent(
        kind=Kind.GDACS,
        external_id=key,
        version=episode,
        rank=float(_number(episode) or 0),
        message_type=MessageType.ALERT,
        title=title,
        description=str(properties.get("htmldescription") or properties.get("description") or "")[:5000],
        severity=SEVERITY.get(str(properties.get("alertlevel") or "").lower(), "minor"),
        onset=moment(str(properties.get("fromdate") or "")),
        expires=None,
        area=area,
        area_kind=area_kind,
        countries=countries,
        link=str(url.get("report") or ""),
        languages=["en"],
        titles={"en": title},
        flags=[] if area else ["no_geometry"],
    )


def _area(
    event_type: str,
    point: tuple[float, float] | None,
    box: tuple[float, float, float, float] | None,
    magnitude: float | None,
    depth: float | None,
) -> tuple[dict | None, str]:
    if event_type == "EQ" and point is not None and magnitude is not None:
        radius = epicentre_radius_km(magnitude, depth)
        return {"type": "Circle", "center": [point[0], point[1]], "radius_km": radius}, AreaKind.EPICENTRE
    if box is not None:
        lon_min, lon_max, lat_min, lat_max = box
        if lon_max > lon_min and lat_max > lat_min:
            ring = [[lon_min, lat_min], [lon_max, lat_min], [lon_max, lat_max], [lon_min, lat_max], [lon_min, lat_min]]
            return {"type": "Polygon", "coordinates": [ring]}, AreaKind.BBOX
    if point is not None:
        radius = POINT_RADIUS_KM.get(event_type, DEFAULT_POINT_RADIUS_KM)
        return {"type": "Circle", "center": [point[0], point[1]], "radius_km": radius}, AreaKind.EPICENTRE
    return None, AreaKind.NONE


def _point(value: str) -> tuple[float, float] | None:
    """georss:point is "lat lon"."""
    parts = value.split()
    if len(parts) != 2:
        return None
    lat, lon = _number(parts[0]), _number(parts[1])
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lon, lat


def _bbox(value: str) -> tuple[float, float, float, float] | None:
    """gdacs:bbox is "lonmin lonmax latmin latmax"; lonmin may lie below -180."""
    parts = [_number(part) for part in value.split()]
    if len(parts) != 4 or any(part is None for part in parts):
        return None
    lon_min, lon_max, lat_min, lat_max = (float(part) for part in parts if part is not None)
    if not (-360 <= lon_min <= 360 and -360 <= lon_max <= 360 and -90 <= lat_min <= 90 and -90 <= lat_max <= 90):
        return None
    return lon_min, lon_max, lat_min, lat_max


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None
