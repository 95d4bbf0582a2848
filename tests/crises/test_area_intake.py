import math

import pytest

from crises.areas import AreaError, parse_area
from crises.models import Crisis
from tests.factories import crisis_payload, square

FIJI_ACROSS = [[[177.0, -19.0], [-178.0, -19.0], [-178.0, -16.0], [177.0, -16.0], [177.0, -19.0]]]
FIJI_BEYOND_180 = [[[177.0, -19.0], [182.0, -19.0], [182.0, -16.0], [177.0, -16.0], [177.0, -19.0]]]


def parse(area, max_vertices=1000):
    return parse_area(area, max_vertices=max_vertices)


@pytest.mark.parametrize("ring", [FIJI_ACROSS, FIJI_BEYOND_180], ids=["jump", "beyond-180"])
def test_a_ring_across_the_antimeridian_is_split_there(ring):
    area = parse({"type": "Polygon", "coordinates": ring}).geometry
    assert len(area.geoms) == 2
    assert area.bounds[0] == -180 and area.bounds[2] == 180
    assert area.area == pytest.approx(5 * 3)


def test_a_circle_over_the_antimeridian_is_split_too():
    area = parse({"type": "Circle", "center": [179.5, -17.0], "radius_km": 300}).geometry
    assert len(area.geoms) == 2


def test_a_circle_has_the_right_radius():
    area = parse({"type": "Circle", "center": [0.0, 0.0], "radius_km": 111.195}).geometry
    minx, miny, maxx, maxy = area.bounds
    assert (minx, miny, maxx, maxy) == pytest.approx((-1.0, -1.0, 1.0, 1.0), abs=0.001)


def test_a_bow_tie_is_repaired_with_a_warning():
    bow_tie = {"type": "Polygon", "coordinates": [[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]]}
    result = parse(bow_tie)
    assert result.geometry.is_valid
    assert result.geometry.area == pytest.approx(2.0)
    assert "repaired" in result.warnings[0]


def test_a_feature_collection_is_the_union_of_its_polygons():
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": square(0, 0, 2, 2), "properties": {}},
            {"type": "Feature", "geometry": square(1, 1, 3, 3), "properties": {}},
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [5, 5]}, "properties": {}},
        ],
    }
    result = parse(collection)
    assert result.geometry.area == pytest.approx(7.0)
    assert "ignored" in result.warnings[0]


@pytest.mark.parametrize(
    "area",
    [
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0], [0, 0]]]},  # degenerate: no surface
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]][:0]},  # empty
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1]]]},  # too few positions
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]},  # not closed
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 95], [0, 0]]]},  # latitude out of range
        {"type": "Polygon", "coordinates": [[[0, 0], ["1", 0], [1, 1], [0, 0]]]},  # not numbers
        {"type": "Polygon", "coordinates": [[[0, 0], [True, 0], [1, 1], [0, 0]]]},
        {"type": "Point", "coordinates": [0, 0]},
        {"type": "Circle", "center": [0, 0], "radius_km": 0},
        {"type": "Circle", "center": [0, 89.5], "radius_km": 100},  # contains a pole
        {"type": "FeatureCollection", "features": []},
        "POLYGON((0 0, 1 0, 1 1, 0 0))",
    ],
)
def test_bad_or_empty_areas_are_refused(area):
    with pytest.raises(AreaError) as error:
        parse(area)
    assert error.value.status == 400


def test_too_many_vertices_is_413():
    ring = [[i * 0.001, 0.0] for i in range(2000)] + [[1.0, 1.0], [0.0, 0.0]]
    with pytest.raises(AreaError) as error:
        parse({"type": "Polygon", "coordinates": [ring]}, max_vertices=1000)
    assert error.value.status == 413


def test_the_api_returns_the_stored_multipolygon_area_and_warnings(client_for, olivia):
    bow_tie = {"type": "Polygon", "coordinates": [[[177, -19], [179, -17], [179, -19], [177, -17], [177, -19]]]}
    response = client_for(olivia).post("/api/v1/crises", crisis_payload(area=bow_tie), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft"
    assert body["area"]["type"] == "MultiPolygon"
    assert body["area_km2"] == pytest.approx(2 * 111 * 111 * 0.95, rel=0.1)
    assert body["warnings"] and "repaired" in body["warnings"][0]
    assert "FJ" in body["countries"]


def test_an_area_with_a_180_degree_edge_is_stored_with_its_area(client_for, ada):
    # 0°→180° along the equator has no unique great circle: PostGIS's geography area
    # raised on it (a 500) until the edges were cut short first.
    strip = {"type": "Polygon", "coordinates": [[[0, 0], [180, 0], [180, 10], [0, 10], [0, 0]]]}
    response = client_for(ada).post("/api/v1/crises", crisis_payload(area=strip), format="json")
    assert response.status_code == 201, response.content
    sphere_strip_km2 = 6371.0088**2 * math.pi * math.sin(math.radians(10))
    assert response.json()["area_km2"] == pytest.approx(sphere_strip_km2, rel=0.01)


def test_an_empty_area_through_the_api_is_400_and_writes_nothing(client_for, olivia):
    flat = {"type": "Polygon", "coordinates": [[[177, -19], [178, -19], [179, -19], [177, -19]]]}
    response = client_for(olivia).post("/api/v1/crises", crisis_payload(area=flat), format="json")
    assert response.status_code == 400
    assert "area" in response.json()["error"]["fields"]
    assert not Crisis.objects.exists()


def test_an_over_cap_area_through_the_api_is_413(client_for, olivia, settings):
    settings.CRISIS_MAX_VERTICES = 10
    ring = [[177 + i * 0.01, -19] for i in range(20)] + [[177, -17], [177, -19]]
    response = client_for(olivia).post(
        "/api/v1/crises", crisis_payload(area={"type": "Polygon", "coordinates": [ring]}), format="json"
    )
    assert response.status_code == 413
    assert not Crisis.objects.exists()


def test_an_area_outside_the_officers_jurisdiction_is_refused(client_for, olivia):
    response = client_for(olivia).post(
        "/api/v1/crises", crisis_payload(area=square(-77.5, -12.5, -76.5, -11.5)), format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "outside_jurisdiction"
    assert not Crisis.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("severity", "catastrophic"),
        ("starts_at", "yesterday"),
        ("public", "yes"),
        ("title", ""),
        ("title", 5),
        ("title", "Cyclone\nBcc: all@example.test"),
    ],
)
def test_bad_crisis_fields_are_400(client_for, olivia, field, value):
    response = client_for(olivia).post("/api/v1/crises", crisis_payload(**{field: value}), format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Crisis.objects.exists()


def test_a_crisis_ending_before_it_starts_is_400(client_for, olivia):
    response = client_for(olivia).post("/api/v1/crises", crisis_payload(ends_at="2026-11-01T00:00:00Z"), format="json")
    assert response.status_code == 400
    assert not Crisis.objects.exists()
