"""What every feed format becomes: one normalised event per item, or a reason it was skipped."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Kind:
    GDACS = "gdacs"
    USGS = "usgs"
    CAP = "cap"
    NWS = "nws"
    METEOALARM = "meteoalarm"

    ALL = (GDACS, USGS, CAP, NWS, METEOALARM)


class MessageType:
    ALERT = "alert"
    UPDATE = "update"
    CANCEL = "cancel"


class AreaKind:
    POLYGON = "polygon"  # drawn by the agency (CAP polygons, GDACS event geometry)
    CIRCLE = "circle"  # a CAP circle
    BBOX = "bbox"  # GDACS's bounding box of the event
    EPICENTRE = "epicentre"  # a point widened to a circle by a documented rule
    COUNTRY = "country"  # geocodes naming whole countries, resolved to their boundaries
    NONE = "none"  # no geometry: kept, flagged, never guessed


class Flag:
    """Why an event needs an officer's eye before it can count anyone."""

    NO_GEOMETRY = "no_geometry"
    SWAPPED_CIRCLE = "circle_centre_outside_named_countries"
    WIDENED_CIRCLE = "circle_radius_widened"


@dataclass
class FeedEvent:
    kind: str
    external_id: str
    version: str  # as the source writes it: GDACS episode, USGS `updated`, CAP `sent`
    rank: float  # orders versions of one event: a larger rank is newer
    message_type: str
    title: str
    severity: str  # CAP's minor / moderate / severe / extreme
    onset: datetime | None
    expires: datetime | None
    area: dict[str, Any] | None  # GeoJSON or {"type": "Circle", ...}, for crises.areas.parse_area
    area_kind: str
    description: str = ""
    titles: dict[str, str] = field(default_factory=dict)  # by language, for every language the message has
    languages: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)  # ISO 3166-1 alpha-2 hints
    link: str = ""
    references: list[str] = field(default_factory=list)  # external ids this one updates or cancels
    aliases: list[str] = field(default_factory=list)  # other ids of the same event (USGS `ids`)
    flags: list[str] = field(default_factory=list)

    def title_for(self, language: str) -> str:
        """The title in the reader's language (exact tag, then its primary language), else the first."""
        wanted = language.lower()
        for tag, title in self.titles.items():
            if tag.lower() == wanted:
                return title
        primary = wanted.split("-")[0]
        for tag, title in self.titles.items():
            if tag.lower().split("-")[0] == primary:
                return title
        return self.title


@dataclass(frozen=True)
class Skipped:
    item: str  # the item's id or position, never its text
    reason: str


@dataclass
class Parsed:
    kind: str
    events: list[FeedEvent] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    links: list[str] = field(default_factory=list)  # CAP messages an index only links to: followed when polling


class FeedError(Exception):
    """The file cannot be read at all (not XML/JSON, hostile XML, an unknown format): one line says why."""
