"""The bundled Natural Earth admin-0 boundaries (crises/data/README.md): reference data every join needs.

Loaded by migration 0002, and again after a flush empties the tables (tests that run
in transactions flush, and so does `manage.py flush`): a crisis's countries, and so
who sees it, come from them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

DATA = Path(__file__).resolve().parent / "data" / "ne_50m_admin_0_countries.geojson"
# Vertices per part: small enough for fast point-in-polygon tests, few enough parts.
PART_VERTICES = 256


def _polygonal(geometry: BaseGeometry) -> MultiPolygon:
    geometry = shapely.make_valid(geometry)
    pieces = [g for g in getattr(geometry, "geoms", [geometry]) if g.geom_type in ("Polygon", "MultiPolygon")]
    parts = [part for piece in pieces for part in getattr(piece, "geoms", [piece]) if isinstance(part, Polygon)]
    return MultiPolygon(parts)


def load_countries(connection: Any) -> None:
    """Insert every country and its subdivided parts; the tables must be empty."""
    features = json.loads(DATA.read_text())["features"]
    by_code: dict[str, list[BaseGeometry]] = defaultdict(list)
    names: dict[str, str] = {}
    for feature in features:
        props = feature["properties"]
        # ISO_A2 is "-99" for a few units (France, Norway) and "CN-TW" for Taiwan,
        # whose ISO 3166-1 code is in ISO_A2_EH.
        code = props["ISO_A2"] if len(props["ISO_A2"] or "") == 2 else props.get("ISO_A2_EH")
        if not code or len(code) != 2 or not code.isalpha():
            continue
        by_code[code].append(shape(feature["geometry"]))
        # Prefer the name of the largest unit (Australia over its external territories).
        names.setdefault(code, props["NAME"])
    with connection.cursor() as cursor:
        for code, geometries in by_code.items():
            area = _polygonal(shapely.union_all(geometries))
            cursor.execute(
                "INSERT INTO crises_country (code, name, area) VALUES (%s, %s, ST_Multi(ST_GeomFromEWKB(%s)))",
                [code, names[code], shapely.to_wkb(shapely.set_srid(area, 4326), include_srid=True)],
            )
        cursor.execute(
            "INSERT INTO crises_countrypart (country_id, geom) SELECT code, ST_Subdivide(area, %s) FROM crises_country",
            [PART_VERTICES],
        )


def countries_reload_if_flushed(*, apps: Any = None, using: str = "default", **_: Any) -> None:
    """A post_migrate receiver: the boundaries again, if a flush emptied their table.

    A flush sends post_migrate without the migration state's ``apps``: then the models
    as they are now.
    """
    from django.apps import apps as global_apps
    from django.db import connections, router

    apps = apps or global_apps
    try:
        model = apps.get_model("crises", "Country")
    except LookupError:  # crises not migrated (yet, or any more) in this state
        return
    if not router.allow_migrate_model(using, model) or model.objects.using(using).exists():
        return
    load_countries(connections[using])
