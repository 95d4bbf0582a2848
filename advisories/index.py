"""What the public look-ups read: an in-process index, refreshed within a second of a change.

Country boundaries (the bundled Natural Earth parts, loaded once a process) and the areas
of the active public crises sit in shapely 2 STRtrees; the advisories in a dict. A
request costs no database round trip: at most once a second a process asks PostgreSQL
for a fingerprint of the active public crises and the advisories (counts and latest
changes), and rebuilds what changed. So an activated or closed crisis shows in every
worker within about a second, and no timer serves stale answers for minutes.

Points are matched as PostGIS's ST_Intersects matches them: a point on a border is in both
countries, one on a crisis's edge is covered by it. Longitudes are in [-180, 180]; the
bundled boundaries and crisis areas are split at the antimeridian, so Fiji and Kiribati
are found on either side.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import shapely
from django.db import connection
from shapely import STRtree
from shapely.geometry import Point, box
from shapely.ops import nearest_points

SEA_KM = 22.0  # the territorial sea: 12 nautical miles
REFRESH_SECONDS = 1.0
BUNDLE_TOLERANCE_DEG = 0.01  # about 1.1 km at the equator; see bundle_area
EARTH_RADIUS_KM = 6371.0088
_WORLD = box(-180, -90, 180, 90)
SEVERITY_ORDER = {"extreme": 0, "severe": 1, "moderate": 2, "minor": 3}


@dataclass
class Countries:
    tree: STRtree
    codes: np.ndarray
    geometries: list[Any]
    names: dict[str, str]


@dataclass
class Snapshot:
    fingerprint: tuple
    crisis_tree: STRtree | None = None
    crisis_of_part: list[str] = field(default_factory=list)
    crises: dict[str, dict[str, Any]] = field(default_factory=dict)
    crisis_areas: dict[str, Any] = field(default_factory=dict)
    advisories: dict[str, dict[str, Any]] = field(default_factory=dict)
    bundle: tuple[bytes, bytes, str] | None = None  # (json, gzip, etag), built once
    bundle_lock: threading.Lock = field(default_factory=threading.Lock)
    bundle_started: bool = False  # a thread is building it (or has)


_FINGERPRINT_SQL = """
SELECT (SELECT count(*) FROM crises_crisis WHERE status = 'active' AND public),
       (SELECT max(updated_at) FROM crises_crisis WHERE status = 'active' AND public),
       (SELECT count(*) FROM advisories_countryadvisory),
       (SELECT max(updated_at) FROM advisories_countryadvisory)
"""


class AdvisoryIndex:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._countries_lock = threading.Lock()
        self._countries: Countries | None = None
        self._snapshot: Snapshot | None = None
        self._previous_bundle: tuple[bytes, bytes, str] | None = None
        self._checked_at = -math.inf

    def countries(self) -> Countries:
        if self._countries is None:
            with self._countries_lock:
                if self._countries is None:
                    self._countries = _load_countries()
        return self._countries

    def current(self) -> Snapshot:
        now = time.monotonic()
        if self._snapshot is not None and now - self._checked_at < REFRESH_SECONDS:
            return self._snapshot
        with self._lock:
            if self._snapshot is None or time.monotonic() - self._checked_at >= REFRESH_SECONDS:
                fingerprint = _fingerprint()
                if self._snapshot is None or self._snapshot.fingerprint != fingerprint:
                    if self._snapshot is not None and self._snapshot.bundle is not None:
                        self._previous_bundle = self._snapshot.bundle
                    self._snapshot = _load_snapshot(fingerprint)
                    self.countries()  # loaded here, by a thread that may use the database
                self._checked_at = time.monotonic()
        return self._snapshot

    def bundle_to_serve(self) -> tuple[bytes, bytes, str]:
        """The current bundle when built, else the one before it (never older than the build), else built now.

        Built only when asked for: a process that answers look-ups alone never spends the seconds a
        million vertices take, and one that serves bundles builds the new one beside its requests.
        """
        snapshot = self.current()
        if snapshot.bundle is not None:
            return snapshot.bundle
        with self._lock:
            if not snapshot.bundle_started:
                snapshot.bundle_started = True
                threading.Thread(target=_build_bundle, args=(snapshot,), daemon=True).start()
        if self._previous_bundle is not None:
            return self._previous_bundle
        return _build_bundle(snapshot)

    def forget(self) -> None:
        """Read everything again at the next look-up (tests; a change this process made itself)."""
        with self._lock:
            self._snapshot, self._previous_bundle, self._checked_at = None, None, -math.inf


INDEX = AdvisoryIndex()


def _fingerprint() -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(_FINGERPRINT_SQL)
        return tuple(cursor.fetchone())


def _load_countries() -> Countries:
    with connection.cursor() as cursor:
        cursor.execute("SELECT code, name FROM crises_country")
        names = dict(cursor.fetchall())
        cursor.execute("SELECT country_id, ST_AsBinary(geom) FROM crises_countrypart")
        rows = cursor.fetchall()
    geometries = shapely.from_wkb([bytes(wkb) for _, wkb in rows])
    shapely.prepare(geometries)
    return Countries(STRtree(geometries), np.array([code for code, _ in rows]), list(geometries), names)


def _load_snapshot(fingerprint: tuple) -> Snapshot:
    snapshot = Snapshot(fingerprint)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT id::text, title, severity, starts_at, ends_at, updated_at, origin, ST_AsBinary(area)
            FROM crises_crisis WHERE status = 'active' AND public ORDER BY id
            """
        )
        for crisis_id, title, severity, starts_at, ends_at, updated_at, origin, area in cursor.fetchall():
            snapshot.crises[crisis_id] = {
                "id": crisis_id, "title": title, "severity": severity, "starts_at": _iso(starts_at),
                "ends_at": _iso(ends_at), "updated_at": _iso(updated_at), "origin": origin,
            }  # fmt: skip
            snapshot.crisis_areas[crisis_id] = shapely.from_wkb(bytes(area))
        cursor.execute(
            """
            SELECT p.crisis_id::text, ST_AsBinary(p.geom) FROM crises_crisispart p
            JOIN crises_crisis c ON c.id = p.crisis_id WHERE c.status = 'active' AND c.public
            """
        )
        parts = cursor.fetchall()
        cursor.execute("SELECT country_id, level, texts, regional_notes, updated_at FROM advisories_countryadvisory")
        for code, level, texts, notes, updated_at in cursor.fetchall():
            snapshot.advisories[code] = {
                "level": level,
                # Django has psycopg hand jsonb over as text (its JSONField decodes it).
                "texts": json.loads(texts),
                "regional_notes": json.loads(notes),
                "updated_at": _iso(updated_at),
            }
    if parts:
        geometries = shapely.from_wkb([bytes(wkb) for _, wkb in parts])
        shapely.prepare(geometries)
        snapshot.crisis_tree = STRtree(geometries)
        snapshot.crisis_of_part = [crisis_id for crisis_id, _ in parts]
    return snapshot


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


# --- Look-ups ---------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    countries: list[str]  # every country the point is in (two on a border), or the nearest within SEA_KM
    at_sea: bool


def place_of(lon: float, lat: float) -> Place:
    countries = INDEX.countries()
    point = Point(lon, lat)
    hits = countries.tree.query(point, predicate="intersects")
    if len(hits):
        return Place(sorted({str(countries.codes[i]) for i in hits}), at_sea=False)
    nearest = _nearest_within(countries, lon, lat)
    return Place([nearest], at_sea=True) if nearest else Place([], at_sea=False)


def _nearest_within(countries: Countries, lon: float, lat: float) -> str | None:
    """The nearest country within SEA_KM (great-circle), looking across the antimeridian too."""
    reach = SEA_KM / (111.32 * max(math.cos(math.radians(lat)), 0.01))  # degrees: generous in latitude
    best: tuple[float, str] | None = None
    shifts = [0.0]
    if lon > 180 - reach:
        shifts.append(-360.0)
    if lon < -180 + reach:
        shifts.append(360.0)
    for shift in shifts:
        probe = Point(lon + shift, lat)
        for i in countries.tree.query_nearest(probe, max_distance=reach, all_matches=True):
            near, _ = nearest_points(countries.geometries[i], probe)
            km = haversine_km(lon, lat, near.x - shift, near.y)
            if km <= SEA_KM and (best is None or km < best[0]):
                best = (km, str(countries.codes[i]))
    return best[1] if best else None


def haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def crises_at(lon: float, lat: float) -> list[dict[str, Any]]:
    snapshot = INDEX.current()
    if snapshot.crisis_tree is None:
        return []
    hits = snapshot.crisis_tree.query(Point(lon, lat), predicate="intersects")
    ids = {snapshot.crisis_of_part[i] for i in hits}
    return _ordered(snapshot.crises[i] for i in ids)


def crises_in(country: str) -> list[dict[str, Any]]:
    """The active public crises whose area touches the country."""
    snapshot = INDEX.current()
    countries = INDEX.countries()
    if snapshot.crisis_tree is None:
        return []
    parts = [countries.geometries[i] for i in np.flatnonzero(countries.codes == country)]
    ids: set[str] = set()
    for part in parts:
        ids.update(snapshot.crisis_of_part[i] for i in snapshot.crisis_tree.query(part, predicate="intersects"))
    return _ordered(snapshot.crises[i] for i in ids)


def _ordered(crises: Any) -> list[dict[str, Any]]:
    return sorted(crises, key=lambda c: (SEVERITY_ORDER.get(c["severity"], 9), c["starts_at"] or "", c["id"]))


def advisory_of(country: str) -> dict[str, Any] | None:
    return INDEX.current().advisories.get(country)


# --- The offline bundle -----------------------------------------------------------


def bundle_area(area: Any) -> Any:
    """A crisis area for the device: never missing a point the real area covers.

    Simplified by half the tolerance (Douglas-Peucker keeps every point of the boundary
    within that distance of the simplified one), then grown by half, which covers what
    the simplification cut off, then clipped to [-180, 180] so pieces split at the
    antimeridian stay on their side: a superset of the area within BUNDLE_TOLERANCE_DEG
    of it. Simplifying first leaves the growing few vertices to work on.
    """
    half = BUNDLE_TOLERANCE_DEG / 2
    simplified = shapely.simplify(area, half, preserve_topology=True)
    grown = shapely.buffer(simplified, half, quad_segs=2, join_style="mitre")
    return shapely.intersection(grown, _WORLD)


def _geojson(geometry: Any) -> Any:
    return json.loads(shapely.to_geojson(geometry))


def bundle() -> tuple[bytes, bytes, str]:
    """(JSON, its gzip, a strong ETag of the JSON) of what the index holds now, built if it is not yet."""
    return _build_bundle(INDEX.current())


def _build_bundle(snapshot: Snapshot) -> tuple[bytes, bytes, str]:
    with snapshot.bundle_lock:
        if snapshot.bundle is not None:
            return snapshot.bundle
        countries = INDEX.countries()
        document = {
            "tolerance_degrees": BUNDLE_TOLERANCE_DEG,
            "countries": [
                {"code": code, "name": countries.names[code], "advisory": snapshot.advisories.get(code)}
                for code in sorted(countries.names)
            ],
            "crises": [
                {**snapshot.crises[crisis_id], "area": _geojson(bundle_area(snapshot.crisis_areas[crisis_id]))}
                for crisis_id in sorted(snapshot.crises)
            ],
        }
        raw = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
        etag = '"' + hashlib.sha256(raw).hexdigest()[:40] + '"'
        built = (raw, gzip.compress(raw, compresslevel=6, mtime=0), etag)
        snapshot.bundle = built
    return built
