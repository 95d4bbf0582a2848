"""OASIS CAP 1.2 and 1.1: a single <alert>, a non-standard <alerts> wrapper of several, an
EDXL-DE envelope, and Atom or RSS feeds whose entries embed an alert, carry CAP elements
inline (the NWS index, MeteoAlarm) or only link to one.

- Identity is the alert's <identifier>; the version its <sent> time.
- <status> other than Actual is skipped with the reason; <msgType> Alert, Update and
  Cancel become alert/update/cancel (Ack and Error are skipped); Update and Cancel name
  their targets in <references>: "sender,identifier,sent" triples, or an identifier
  alone as some feeds write it.
- Every <info> is kept by its <language> (default en-US): the title is its headline or
  event; the severity the gravest CAP severity among them (Unknown → minor).
- <polygon> is "lat,lon" pairs; <circle> is "lat,lon radius_km" (a radius of 0, as
  earthquake alerts write, widened to 10 km and flagged); several areas unite.
  Geocodes whose name says ISO 3166 resolve to the country's boundary at ingest; any
  other geocode-only area is kept without geometry and flagged, never guessed.
- A circle whose centre lies outside every country the message names is flagged at
  ingest (the message's countries: its WMO register identifier, its languages' regions,
  its ISO geocodes).
- MeteoAlarm: the awareness level (1 green … 4 red) sets the severity when given.
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree.ElementTree import Element

from feeds.events import AreaKind, FeedError, FeedEvent, Flag, Kind, MessageType, Parsed, Skipped
from feeds.parsers.common import (
    SEVERITIES,
    alpha2,
    cap_severity,
    country_of_identifier,
    country_of_language,
    moment,
    one_line,
)
from feeds.xmlsafe import children, descendants, local, parse_xml, text

MESSAGE_TYPES = {"alert": MessageType.ALERT, "update": MessageType.UPDATE, "cancel": MessageType.CANCEL}
MIN_CIRCLE_KM = 10.0
MAX_CIRCLE_KM = 2000.0
ISO_GEOCODES = frozenset({"iso3166-1", "iso 3166-1", "iso3166", "iso-3166-1", "iso3166-1-alpha-2", "country"})
# MeteoAlarm's awareness_level parameter: "2; yellow; Moderate" and the like.
AWARENESS = {"1": "minor", "2": "moderate", "3": "severe", "4": "extreme"}
_LEVEL = re.compile(r"^\s*([1-4])\s*;")


def parse(data: bytes, *, kind: str = Kind.CAP) -> Parsed:
    root = parse_xml(data)
    parsed = Parsed(kind)
    name = local(root.tag)
    if name == "alert":
        _add(parsed, root, "alert 1")
    elif name == "alerts":
        for position, alert in enumerate(children(root, "alert"), start=1):
            _add(parsed, alert, f"alert {position}")
    elif name == "EDXLDistribution":
        for position, alert in enumerate(descendants(root, "alert"), start=1):
            _add(parsed, alert, f"alert {position}")
    elif name == "feed":
        for position, entry in enumerate(children(root, "entry"), start=1):
            _entry(parsed, entry, f"entry {position}")
    elif name == "rss":
        for position, item in enumerate(descendants(root, "item"), start=1):
            _entry(parsed, item, f"item {position}")
    else:
        raise FeedError(f"CAP: a <{name}> document is none of alert, alerts, EDXL-DE, Atom or RSS")
    parsed.events = _merged(parsed.events)
    return parsed


def _merged(events: list[FeedEvent]) -> list[FeedEvent]:
    """One event per alert: MeteoAlarm's Atom gives an alert one entry per area."""
    by_key: dict[tuple[str, str], FeedEvent] = {}
    for event in events:
        key = (event.external_id, event.version)
        first = by_key.get(key)
        if first is None:
            by_key[key] = event
            continue
        shapes = [*_shapes(first.area), *_shapes(event.area)]
        if shapes:
            first.area = shapes[0] if len(shapes) == 1 else {
                "type": "FeatureCollection",
                "features": [{"type": "Feature", "geometry": shape, "properties": {}} for shape in shapes],
            }  # fmt: skip
            first.area_kind = AreaKind.CIRCLE if all(s["type"] == "Circle" for s in shapes) else AreaKind.POLYGON
            first.flags = [flag for flag in first.flags if flag != Flag.NO_GEOMETRY]
        first.countries = sorted({*first.countries, *event.countries})
        first.flags = sorted({*first.flags, *(f for f in event.flags if f != Flag.NO_GEOMETRY or not shapes)})
        first.severity = max(first.severity, event.severity, key=SEVERITIES.index)
    return list(by_key.values())


def _shapes(area: dict[str, Any] | None) -> list[dict[str, Any]]:
    if area is None:
        return []
    if area.get("type") == "FeatureCollection":
        return [feature["geometry"] for feature in area["features"]]
    return [area]


def _entry(parsed: Parsed, entry: Element, where: str) -> None:
    embedded = descendants(entry, "alert")
    if embedded:
        for alert in embedded:
            _add(parsed, alert, where)
        return
    if any(_is_cap(node) or local(node.tag) == "polygon" for node in entry):
        _add(parsed, entry, where, inline=True)
        return
    link = _cap_link(entry)
    if link:
        parsed.links.append(link)
    parsed.skipped.append(Skipped(where, "only links to its CAP message, which reading a file does not follow"))


def _cap_link(entry: Element) -> str:
    """The address of the CAP message an index entry or item points to (Atom link href, RSS link text)."""
    for link in children(entry, "link"):
        href = link.get("href") or (link.text or "").strip()
        if href.startswith(("http://", "https://")):
            return href[:2000]
    return ""


def _is_cap(node: Element) -> bool:
    return "emergency:cap" in node.tag or "emergency:alert" in node.tag


def _add(parsed: Parsed, alert: Element, where: str, *, inline: bool = False) -> None:
    try:
        event = _inline_event(alert, parsed.kind) if inline else _event(alert, parsed.kind)
    except ValueError as exc:
        identifier = text(alert, "identifier")
        parsed.skipped.append(Skipped(one_line(identifier, 200) or where, str(exc)))
        return
    parsed.events.append(event)


CAP_NAMESPACE = re.compile(r"^\{urn:oasis:names:tc:emergency:cap:1\.[012]\}")
REQUIRED = ("identifier", "sender", "sent", "status", "msgType", "scope")
_FORBIDDEN_IN_IDENTIFIER = re.compile(r"[\s,<&]")


def _event(alert: Element, kind: str) -> FeedEvent:
    if not CAP_NAMESPACE.match(alert.tag):
        raise ValueError("an <alert> outside the CAP 1.0-1.2 namespaces")
    if not children(alert, "info") and any(local(node.tag) in ("event", "polygon", "geocode") for node in alert):
        return _inline_event(alert, kind)  # the legacy NWS index: CAP elements without <info>
    missing = [name for name in REQUIRED if not text(alert, name)]
    if missing:
        raise ValueError(f"no <{missing[0]}>, which CAP requires")
    identifier = text(alert, "identifier")
    status = text(alert, "status")
    if status != "Actual":
        raise ValueError(f"status {status or 'missing'}, not Actual")
    message_type = MESSAGE_TYPES.get(text(alert, "msgType").lower())
    if message_type is None:
        raise ValueError(f"msgType {text(alert, 'msgType') or 'missing'}, not Alert, Update or Cancel")
    if _FORBIDDEN_IN_IDENTIFIER.search(identifier):
        raise ValueError("an <identifier> with a space, comma or restricted character, which CAP forbids")
    references = _references(text(alert, "references"))
    if message_type != MessageType.ALERT and not references:
        raise ValueError(f"{'an' if message_type == MessageType.UPDATE else 'a'} {message_type} without "
                         "<references> names nothing to change")  # fmt: skip
    infos = children(alert, "info")
    if not infos and message_type != MessageType.CANCEL:
        raise ValueError("no <info>: nothing says what or where")
    sent = moment(text(alert, "sent"))
    titles: dict[str, str] = {}
    severities: list[str] = []
    areas: list[dict[str, Any]] = []
    seen: set[str] = set()
    iso_codes: list[str] = []
    flags: list[str] = []
    descriptions: dict[str, str] = {}
    onsets, expiries, links = [], [], []
    stated_languages = [text(info, "language") for info in infos if text(info, "language")]
    for info in infos:
        language = text(info, "language") or "en-US"  # CAP's default; it names no country
        titles.setdefault(language, one_line(text(info, "headline") or text(info, "event") or identifier, 200))
        descriptions.setdefault(language, text(info, "description"))
        severities.append(_severity(info))
        onsets.append(moment(text(info, "onset") or text(info, "effective")))
        expiries.append(moment(text(info, "expires")))
        if text(info, "web"):
            links.append(text(info, "web"))
        for area in children(info, "area"):
            _read_area(area, areas, seen, iso_codes, flags)
    countries = _countries(identifier, stated_languages, iso_codes)
    return _assemble(
        kind=kind,
        identifier=identifier,
        sent_text=text(alert, "sent"),
        sent_rank=sent.timestamp() if sent else 0.0,
        message_type=message_type,
        titles=titles,
        descriptions=descriptions,
        severities=severities,
        onset=min((o for o in onsets if o), default=None),
        expires=max((e for e in expiries if e), default=None),
        areas=areas,
        iso_codes=iso_codes,
        countries=countries,
        link=links[0] if links else "",
        references=references,
        flags=flags,
    )


def _inline_event(entry: Element, kind: str) -> FeedEvent:
    """An Atom entry (or a legacy index alert) carrying CAP elements itself: cap:identifier,
    cap:polygon, cap:area, cap:geocode…, or GeoRSS polygons and `name=value` categories."""
    categories = {}
    for category in children(entry, "category"):
        name, _, value = (category.get("term") or "").partition("=")
        if value:
            categories[name.strip()] = value.strip()
    identifier = text(entry, "identifier") or text(entry, "id")
    if not identifier:
        raise ValueError("no cap:identifier or id")
    if text(entry, "identifier") and _FORBIDDEN_IN_IDENTIFIER.search(identifier):
        raise ValueError("a cap:identifier with a space, comma or restricted character, which CAP forbids")
    status = text(entry, "status") or categories.get("status") or "Actual"
    if status != "Actual":
        raise ValueError(f"status {status}, not Actual")
    raw_type = (text(entry, "msgType") or text(entry, "message_type") or categories.get("msgType") or "Alert").lower()
    message_type = MESSAGE_TYPES.get(raw_type)
    if message_type is None:
        raise ValueError(f"msgType {raw_type}, not Alert, Update or Cancel")
    areas: list[dict[str, Any]] = []
    iso_codes: list[str] = []
    flags: list[str] = []
    seen: set[str] = set()
    _read_area(entry, areas, seen, iso_codes, flags)
    for area in children(entry, "area"):
        _read_area(area, areas, seen, iso_codes, flags)
    for polygon in children(entry, "polygon"):
        if "georss" in polygon.tag:
            ring = _georss_ring(polygon.text or "")
            if ring:
                areas.append({"type": "Polygon", "coordinates": [ring]})
    stated = (
        entry.get("{http://www.w3.org/XML/1998/namespace}lang") or categories.get("language") or text(entry, "language")
    )
    language = stated or "en-US"
    title = one_line(text(entry, "title") or text(entry, "event") or identifier, 200)
    sent = moment(text(entry, "sent") or text(entry, "updated") or text(entry, "published"))
    link = ""
    for candidate in children(entry, "link"):
        if candidate.get("href"):
            link = candidate.get("href", "")
            break
    severity = _severity(entry)
    if not text(entry, "severity") and categories.get("severity"):
        severity = cap_severity(categories["severity"]) or "minor"
    countries = _countries(identifier, [stated] if stated else [], iso_codes)
    domain_country = _country_of_domain(text(entry, "sender") or _author(entry) or link)
    if domain_country and domain_country not in countries:
        countries = sorted([*countries, domain_country])
    return _assemble(
        kind=kind,
        identifier=identifier,
        sent_text=text(entry, "sent") or text(entry, "updated"),
        sent_rank=sent.timestamp() if sent else 0.0,
        message_type=message_type,
        titles={language: title},
        descriptions={language: text(entry, "summary") or text(entry, "description")},
        severities=[severity],
        onset=moment(text(entry, "onset") or text(entry, "effective")),
        expires=moment(text(entry, "expires")),
        areas=areas,
        iso_codes=iso_codes,
        countries=countries,
        link=link,
        references=_references(text(entry, "references")),
        flags=flags,
    )


def _author(entry: Element) -> str:
    for author in children(entry, "author"):
        return text(author, "uri") or text(author, "name")
    return ""


_HOST = re.compile(r"^(?:[a-z]+://)?([^/:@\s]+)", re.IGNORECASE)


def _country_of_domain(value: str) -> str | None:
    """A sender or author under a country's domain (krisinformation.se → SE)."""
    host = _HOST.match(value.strip())
    if not host or "." not in host.group(1):
        return None
    suffix = host.group(1).rsplit(".", 1)[-1]
    return alpha2(suffix) if len(suffix) == 2 and suffix.lower() != "uk" else ("GB" if suffix.lower() == "uk" else None)


def _georss_ring(raw: str) -> list[list[float]] | None:
    """GeoRSS's "lat lon lat lon …" as a closed GeoJSON ring."""
    try:
        numbers = [float(value) for value in raw.split()]
    except ValueError:
        return None
    if len(numbers) % 2:
        return None
    points = [[numbers[i + 1], numbers[i]] for i in range(0, len(numbers), 2)]
    if len(points) >= 3 and points[0] != points[-1]:
        points.append(points[0])
    return points if len(points) >= 4 else None


def _assemble(
    *,
    kind: str,
    identifier: str,
    sent_text: str,
    sent_rank: float,
    message_type: str,
    titles: dict[str, str],
    descriptions: dict[str, str],
    severities: list[str],
    onset: Any,
    expires: Any,
    areas: list[dict[str, Any]],
    iso_codes: list[str],
    countries: list[str],
    link: str,
    references: list[str],
    flags: list[str],
) -> FeedEvent:
    area: dict[str, Any] | None
    if areas:
        area = areas[0] if len(areas) == 1 else {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "geometry": shape, "properties": {}} for shape in areas],
        }  # fmt: skip
        area_kind = AreaKind.CIRCLE if all(a["type"] == "Circle" for a in areas) else AreaKind.POLYGON
    elif iso_codes:
        area, area_kind = None, AreaKind.COUNTRY
    else:
        area, area_kind = None, AreaKind.NONE
        if message_type != MessageType.CANCEL:
            flags.append(Flag.NO_GEOMETRY)
    languages = list(titles)
    first = languages[0] if languages else "en-US"
    severity = max(severities, key=SEVERITIES.index) if severities else "minor"
    return FeedEvent(
        kind=kind,
        external_id=identifier[:300],
        version=sent_text[:64],
        rank=sent_rank,
        message_type=message_type,
        title=titles.get(first, identifier[:200]),
        description=(descriptions.get(first) or "")[:5000],
        severity=severity,
        onset=onset,
        expires=expires,
        area=area,
        area_kind=area_kind,
        titles=titles,
        languages=languages,
        countries=countries if area_kind != AreaKind.COUNTRY else sorted(set(iso_codes)),
        link=link[:500],
        references=references,
        flags=sorted(set(flags)),
    )


def _severity(info: Element) -> str:
    for parameter in children(info, "parameter"):
        if text(parameter, "valueName").lower() == "awareness_level":
            level = _LEVEL.match(text(parameter, "value"))
            if level:
                return AWARENESS[level.group(1)]
    return cap_severity(text(info, "severity")) or "minor"


def _read_area(area: Element, areas: list[dict], seen: set[str], iso_codes: list[str], flags: list[str]) -> None:
    for polygon in children(area, "polygon"):
        raw = " ".join((polygon.text or "").split())
        if not raw or raw in seen:
            continue
        seen.add(raw)
        ring = _ring(raw)
        if ring:
            areas.append({"type": "Polygon", "coordinates": [ring]})
    for circle in children(area, "circle"):
        raw = " ".join((circle.text or "").split())
        if not raw or raw in seen:
            continue
        seen.add(raw)
        shape = _circle(raw, flags)
        if shape:
            areas.append(shape)
    for geocode in children(area, "geocode"):
        if text(geocode, "valueName").lower() in ISO_GEOCODES:
            code = alpha2(text(geocode, "value"))
            if code and code not in iso_codes:
                iso_codes.append(code)


def _ring(raw: str) -> list[list[float]] | None:
    """CAP's "lat,lon lat,lon …" as a closed GeoJSON ring, or None when it is not one."""
    points = []
    for pair in raw.split(" "):
        parts = pair.split(",")
        if len(parts) != 2:
            return None
        try:
            lat, lon = float(parts[0]), float(parts[1])
        except ValueError:
            return None
        points.append([lon, lat])
    if len(points) >= 3 and points[0] != points[-1]:
        points.append(points[0])
    return points if len(points) >= 4 else None


def _circle(raw: str, flags: list[str]) -> dict[str, Any] | None:
    """CAP's "lat,lon radius" (radius in km) as the area intake's circle."""
    parts = raw.split(" ")
    if len(parts) != 2 or len(parts[0].split(",")) != 2:
        return None
    try:
        lat, lon = (float(v) for v in parts[0].split(","))
        radius = float(parts[1])
    except ValueError:
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or radius != radius or radius < 0:
        return None
    if radius < MIN_CIRCLE_KM or radius > MAX_CIRCLE_KM:
        flags.append(Flag.WIDENED_CIRCLE)
        radius = min(max(radius, MIN_CIRCLE_KM), MAX_CIRCLE_KM)
    return {"type": "Circle", "center": [lon, lat], "radius_km": radius}


def _references(raw: str) -> list[str]:
    """The identifiers a message names: from "sender,identifier,sent" triples, or bare identifiers."""
    found = []
    for reference in raw.split():
        parts = reference.split(",")
        identifier = parts[1] if len(parts) == 3 else reference
        if identifier and identifier not in found:
            found.append(identifier)
    return found


def _countries(identifier: str, languages: list[str], iso_codes: list[str]) -> list[str]:
    named = [code for code in (country_of_identifier(identifier), *map(country_of_language, languages)) if code]
    return sorted({*named, *iso_codes})
