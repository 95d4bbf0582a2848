"""Areas as the map draws them: simplified for the screen, and whole across ±180°."""

from __future__ import annotations

import json
import threading
from typing import Any

import shapely
from shapely import affinity
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from crises.selectors import country_outlines

_countries: list[dict[str, Any]] | None = None
_countries_lock = threading.Lock()


def display_tolerance(geometry: BaseGeometry) -> float:
    """About a pixel at the zoom that fits the area on a laptop screen (~1,000 px across)."""
    minx, miny, maxx, maxy = geometry.bounds
    return max(maxx - minx, maxy - miny) / 2000


def whole_across_antimeridian(geometry: BaseGeometry) -> BaseGeometry:
    """Stored areas are cut at ±180° (the join needs that); drawn, the western pieces of an area
    that touches both sides move east by 360°, so Fiji's crisis is one shape, not two at the
    map's edges joined by a band across the world."""
    polygons = list(getattr(geometry, "geoms", [geometry]))
    if not (any(p.bounds[2] >= 180 for p in polygons) and any(p.bounds[0] <= -180 for p in polygons)):
        return geometry
    moved = [affinity.translate(p, xoff=360) if p.bounds[2] <= 0 else p for p in polygons]
    return MultiPolygon([p for p in moved if isinstance(p, Polygon)])


def display_geojson(geometry: BaseGeometry) -> dict[str, Any]:
    drawn = shapely.simplify(whole_across_antimeridian(geometry), display_tolerance(geometry), preserve_topology=True)
    return json.loads(shapely.to_geojson(shapely.set_precision(drawn, 1e-5)))


def countries_layer() -> list[dict[str, Any]]:
    """The bundled boundaries as GeoJSON features (simplified once a process: they never change)."""
    global _countries
    if _countries is None:
        with _countries_lock:
            if _countries is None:
                _countries = [
                    {"type": "Feature", "properties": {"code": code, "name": name}, "geometry": shape}
                    for code, name, shape in country_outlines()
                ]
    return _countries
