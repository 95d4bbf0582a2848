"""Crisis-area intake: GeoJSON (RFC 7946) or a circle in, a valid WGS 84 MultiPolygon out.

Coordinates are checked, rings crossing the antimeridian are split there,
invalid rings are repaired (with a warning saying so) or refused, and the vertex
count is capped before any heavy work.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely.affinity import translate
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from consular.errors import DomainError

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius
MAX_CIRCLE_RADIUS_KM = 2000.0
CIRCLE_SEGMENTS = 256
_WORLD = box(-180, -90, 180, 90)
_EAST_OF_WORLD = box(180, -90, 540, 90)
_WEST_OF_WORLD = box(-540, -90, -180, 90)


# Parts of at most this many vertices. Measured on 1M travellers with a
# 10,000-vertex area (bench/affected_bench.py): 256 → 77 ms, 1024 → 35 ms,
# one part → 31 ms; small parts pay an index probe each, so keep them large
# enough, but bounded so a 100,000-vertex coastline still splits up.
PART_VERTICES = 1024


class AreaError(DomainError):
    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__("invalid_area", message, status=status, fields={"area": [message]})


@dataclass
class Area:
    geometry: MultiPolygon
    vertex_count: int
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Intake:
    max_vertices: int
    vertices: int = 0
    warnings: list[str] = field(default_factory=list)

    def count(self, n: int) -> None:
        self.vertices += n
        if self.vertices > self.max_vertices:
            raise AreaError(f"The area has more than {self.max_vertices} vertices.", status=413)


# The members each kind of area reads. One of another kind is a mistake worth a 400 (a
# Polygon with a radius_km is not buffered by it); members no kind reads (bbox, crs,
# properties: GeoJSON's foreign members) are left alone.
_MEMBERS = {
    "Polygon": {"coordinates"},
    "MultiPolygon": {"coordinates"},
    "Feature": {"geometry"},
    "FeatureCollection": {"features"},
    "GeometryCollection": {"geometries"},
    "Circle": {"center", "radius_km"},
}
_READ_BY_SOME_KIND = frozenset().union(*_MEMBERS.values())


def parse_area(data: Any, *, max_vertices: int) -> Area:
    kind = data.get("type") if isinstance(data, dict) else None
    if isinstance(kind, str) and kind in _MEMBERS:
        stray = sorted(_READ_BY_SOME_KIND & set(data) - _MEMBERS[kind])
        if stray:
            raise AreaError(f"area.{stray[0]} does not belong in a {kind}.")
    intake = _Intake(max_vertices=max_vertices)
    pieces = _pieces(data, intake, path="area")
    if not pieces:
        raise AreaError("The area contains no polygon.")
    merged = shapely.union_all(pieces) if len(pieces) > 1 else pieces[0]
    polygons = [g for g in getattr(merged, "geoms", [merged]) if isinstance(g, Polygon) and not g.is_empty]
    result = MultiPolygon(polygons)
    if result.is_empty or result.area == 0:
        raise AreaError("The area is empty or has no surface.")
    return Area(geometry=result, vertex_count=int(shapely.get_num_coordinates(result)), warnings=intake.warnings)


def _pieces(data: Any, intake: _Intake, *, path: str) -> list[BaseGeometry]:
    if not isinstance(data, dict):
        raise AreaError(f"{path} must be a GeoJSON object.")
    kind = data.get("type")
    if kind == "Polygon":
        return _polygon(data.get("coordinates"), intake, path=path)
    if kind == "MultiPolygon":
        coordinates = data.get("coordinates")
        if not isinstance(coordinates, list) or not coordinates:
            raise AreaError(f"{path}.coordinates must be a non-empty list of polygons.")
        return [piece for i, poly in enumerate(coordinates) for piece in _polygon(poly, intake, path=f"{path}[{i}]")]
    if kind == "Feature":
        return _pieces(data.get("geometry"), intake, path=f"{path}.geometry")
    if kind in ("FeatureCollection", "GeometryCollection"):
        key = "features" if kind == "FeatureCollection" else "geometries"
        members = data.get(key)
        if not isinstance(members, list) or not members:
            raise AreaError(f"{path} has no members.")
        pieces: list[BaseGeometry] = []
        skipped: list[str] = []
        for i, member in enumerate(members):
            where = f"{path}.{key}[{i}]{_feature_id(member) if kind == 'FeatureCollection' else ''}"
            geometry = member.get("geometry") if kind == "FeatureCollection" and isinstance(member, dict) else member
            if isinstance(geometry, dict) and geometry.get("type") in _NOT_AREAS:
                skipped.append(where)
                continue
            inner = f"{where}.geometry" if kind == "FeatureCollection" else where
            pieces.extend(_pieces(geometry, intake, path=inner))
        if skipped:
            # One warning for the collection, naming the members: a feed's hundred points
            # would otherwise repeat one sentence a hundred times.
            named = ", ".join(skipped[:5]) + (f" and {len(skipped) - 5} more" if len(skipped) > 5 else "")
            intake.warnings.append(f"{len(skipped)} member(s) without an area (points or lines) were ignored: {named}.")
        return pieces
    if kind == "Circle":
        return _circle(data, intake, path=path)
    raise AreaError(f"{path}.type must be Polygon, MultiPolygon, Feature, FeatureCollection or Circle.")


_NOT_AREAS = frozenset({"Point", "MultiPoint", "LineString", "MultiLineString"})


def _feature_id(feature: Any) -> str:
    """A Feature's ``id`` for messages (RFC 7946 §3.2: a string or a number), cut short."""
    identifier = feature.get("id") if isinstance(feature, dict) else None
    if isinstance(identifier, bool) or not isinstance(identifier, str | int | float):
        return ""
    text = str(identifier)
    return f' (id "{text[:40]}{"…" if len(text) > 40 else ""}")'


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _ring(raw: Any, intake: _Intake, *, path: str) -> list[tuple[float, float]]:
    if not isinstance(raw, list):
        raise AreaError(f"{path} must be a list of positions.")
    intake.count(len(raw))
    if len(raw) < 4:
        raise AreaError(f"{path} needs at least 4 positions (a closed ring).")
    ring: list[tuple[float, float]] = []
    for i, position in enumerate(raw):
        if not isinstance(position, list) or len(position) not in (2, 3) or not all(map(_number, position)):
            raise AreaError(f"{path}[{i}] must be [longitude, latitude] numbers.")
        lon, lat = float(position[0]), float(position[1])
        if not -90 <= lat <= 90:
            raise AreaError(f"{path}[{i}] has latitude {lat}, outside [-90, 90] (GeoJSON is [lon, lat]).")
        if not -360 <= lon <= 360:
            raise AreaError(f"{path}[{i}] has longitude {lon}, outside [-360, 360].")
        ring.append((lon, lat))
    if ring[0] != ring[-1]:
        raise AreaError(f"{path} is not closed: its first and last positions differ.")
    return ring


def _unwrap(ring: list[tuple[float, float]], *, path: str) -> list[tuple[float, float]]:
    """Make longitudes continuous: a step of more than 180° is read as crossing the antimeridian.

    A step of exactly 360° (from -180 to 180) joins two points of one meridian: it runs
    along the map's edge, as a box from -180 to 180 does (a polar cap, the whole world),
    and is kept as it is.
    """
    out = [ring[0]]
    offset = 0.0
    for (lon0, _), (lon1, lat1) in itertools.pairwise(ring):
        step = lon1 - lon0
        if abs(step) == 360:
            pass
        elif step > 180:
            offset -= 360
        elif step < -180:
            offset += 360
        out.append((lon1 + offset, lat1))
    if out[-1] != out[0]:
        raise AreaError(
            f"{path} goes all the way round the globe (it encircles a pole), which an area cannot do here: "
            "draw it up to the pole instead, e.g. a box from longitude -180 to 180 and from latitude 80 to 90."
        )
    return out


def _shift_near(ring: list[tuple[float, float]], reference: float) -> list[tuple[float, float]]:
    """Move a hole by whole turns so that it lies next to its (unwrapped) shell."""
    mean = sum(lon for lon, _ in ring) / len(ring)
    turns = round((reference - mean) / 360)
    return [(lon + 360 * turns, lat) for lon, lat in ring] if turns else ring


def _split_at_antimeridian(polygon: BaseGeometry) -> list[BaseGeometry]:
    minx, _, maxx, _ = polygon.bounds
    if minx >= -180 and maxx <= 180:
        return [polygon]
    pieces = [polygon.intersection(_WORLD)]
    if maxx > 180:
        pieces.append(translate(polygon.intersection(_EAST_OF_WORLD), xoff=-360))
    if minx < -180:
        pieces.append(translate(polygon.intersection(_WEST_OF_WORLD), xoff=360))
    return [piece for piece in pieces if not piece.is_empty and piece.area > 0]


def _repaired(polygon: Polygon, intake: _Intake, *, path: str) -> list[BaseGeometry]:
    if polygon.is_valid:
        return [polygon]
    reason = shapely.is_valid_reason(polygon)
    fixed = shapely.make_valid(polygon)
    parts = [g for g in getattr(fixed, "geoms", [fixed]) if g.geom_type in ("Polygon", "MultiPolygon") and g.area > 0]
    if not parts:
        raise AreaError(f"{path} is invalid ({reason}) and repairs to nothing.")
    intake.warnings.append(f"{path} was not a valid polygon ({reason}); it was repaired.")
    return parts


def _polygon(coordinates: Any, intake: _Intake, *, path: str) -> list[BaseGeometry]:
    if not isinstance(coordinates, list) or not coordinates:
        raise AreaError(f"{path}.coordinates must be a non-empty list of rings.")
    rings = [_ring(raw, intake, path=f"{path}.coordinates[{i}]") for i, raw in enumerate(coordinates)]
    shell = _unwrap(rings[0], path=f"{path}.coordinates[0]")
    centre = sum(lon for lon, _ in shell) / len(shell)
    holes = [_shift_near(_unwrap(ring, path=f"{path}.coordinates[{i}]"), centre) for i, ring in enumerate(rings[1:], 1)]
    polygon = Polygon(shell, holes)
    pieces = []
    for part in _repaired(polygon, intake, path=path):
        pieces.extend(_split_at_antimeridian(part))
    if not pieces:
        raise AreaError(f"{path} has no surface.")
    return pieces


def _circle(data: dict, intake: _Intake, *, path: str) -> list[BaseGeometry]:
    center, radius = data.get("center"), data.get("radius_km")
    if not isinstance(center, list) or len(center) != 2 or not all(map(_number, center)):
        raise AreaError(f"{path}.center must be [longitude, latitude].")
    lon0, lat0 = float(center[0]), float(center[1])
    if not (-180 <= lon0 <= 180 and -90 <= lat0 <= 90):
        raise AreaError(f"{path}.center is out of range.")
    if not isinstance(radius, int | float) or not _number(radius) or not 0 < radius <= MAX_CIRCLE_RADIUS_KM:
        raise AreaError(f"{path}.radius_km must be a number above 0 and at most {MAX_CIRCLE_RADIUS_KM:g}.")
    angular = radius / EARTH_RADIUS_KM
    if abs(lat0) + math.degrees(angular) >= 90:
        raise AreaError(f"{path} would contain a pole, which is not supported.")
    intake.count(CIRCLE_SEGMENTS + 1)
    ring = [_destination(lon0, lat0, 360 * i / CIRCLE_SEGMENTS, angular) for i in range(CIRCLE_SEGMENTS)]
    ring.append(ring[0])
    # Longitudes come out continuous (possibly beyond ±180), so a circle over the
    # antimeridian is split like any drawn polygon.
    return _split_at_antimeridian(Polygon(ring))


def _destination(lon: float, lat: float, bearing_deg: float, angular: float) -> tuple[float, float]:
    """Great-circle destination from (lon, lat) after ``angular`` radians on ``bearing``."""
    phi1, lambda1, theta = math.radians(lat), math.radians(lon), math.radians(bearing_deg)
    phi2 = math.asin(math.sin(phi1) * math.cos(angular) + math.cos(phi1) * math.sin(angular) * math.cos(theta))
    lambda2 = lambda1 + math.atan2(
        math.sin(theta) * math.sin(angular) * math.cos(phi1), math.cos(angular) - math.sin(phi1) * math.sin(phi2)
    )
    return math.degrees(lambda2), math.degrees(phi2)
