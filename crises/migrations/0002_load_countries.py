"""Load the bundled Natural Earth admin-0 boundaries (see crises/data/README.md)."""

import json
from collections import defaultdict
from pathlib import Path

import shapely
from django.db import migrations
from shapely.geometry import MultiPolygon, shape

DATA = Path(__file__).resolve().parents[1] / "data" / "ne_50m_admin_0_countries.geojson"
# Vertices per part: small enough for fast point-in-polygon tests, few enough parts.
PART_VERTICES = 256


def _polygonal(geometry):
    geometry = shapely.make_valid(geometry)
    polygons = [g for g in getattr(geometry, "geoms", [geometry]) if g.geom_type in ("Polygon", "MultiPolygon")]
    parts = []
    for polygon in polygons:
        parts.extend(getattr(polygon, "geoms", [polygon]))
    return MultiPolygon(parts)


def load(apps, schema_editor):
    features = json.loads(DATA.read_text())["features"]
    by_code = defaultdict(list)
    names = {}
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
    with schema_editor.connection.cursor() as cursor:
        for code, geometries in by_code.items():
            area = _polygonal(shapely.union_all(geometries))
            cursor.execute(
                "INSERT INTO crises_country (code, name, area) VALUES (%s, %s, ST_Multi(ST_GeomFromEWKB(%s)))",
                [code, names[code], shapely.to_wkb(shapely.set_srid(area, 4326), include_srid=True)],
            )
        cursor.execute(
            "INSERT INTO crises_countrypart (country_id, geom) "
            "SELECT code, ST_Subdivide(area, %s) FROM crises_country",
            [PART_VERTICES],
        )


def unload(apps, schema_editor):
    apps.get_model("crises", "Country").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("crises", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
