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
        {"type": {}, "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]},  # a type that is not a name
    ],
)
def test_bad_or_empty_areas_are_refused(area):
    with pytest.raises(AreaError) as error:
        parse(area)
    assert error.value.status == 400


def test_a_member_of_another_kind_of_area_is_refused_naming_it():
    polygon = square(177.0, -19.0, 179.0, -17.0)
    with pytest.raises(AreaError) as error:
        parse({**polygon, "radius_km": 50})
    assert "radius_km" in str(error.value) and "Polygon" in str(error.value)


def test_geojson_foreign_members_are_left_alone():
    polygon = square(177.0, -19.0, 179.0, -17.0)
    assert parse({**polygon, "bbox": [177.0, -19.0, 179.0, -17.0], "properties": {"source": "GDACS"}}).vertex_count


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


def _crisis_body(area: dict, *, size: int | None = None) -> bytes:
    """A crisis body, padded with JSON white space to exactly ``size`` bytes when given."""
    import json

    body = json.dumps(
        {"title": "Large area", "severity": "severe", "starts_at": "2026-11-10T00:00:00Z", "area": area}
    ).encode()
    if size is not None:
        assert len(body) <= size
        body = body[:-1] + b" " * (size - len(body)) + b"}"
    return body


def _ring_area(vertices: int) -> dict:
    import math

    ring = [
        [
            round(178.4 + 0.5 * math.cos(2 * math.pi * i / vertices), 6),
            round(-18.1 + 0.5 * math.sin(2 * math.pi * i / vertices), 6),
        ]
        for i in range(vertices)
    ]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def test_an_area_of_45000_vertices_above_the_general_body_cap_is_declared(client_for, olivia, settings):
    body = _crisis_body(_ring_area(45_000))
    assert len(body) > settings.API_MAX_BODY_BYTES
    response = client_for(olivia).generic("POST", "/api/v1/crises", body, content_type="application/json")
    assert response.status_code == 201, response.content[:300]


def test_a_crisis_body_of_exactly_the_crisis_cap_is_read(client_for, olivia, settings):
    body = _crisis_body(_ring_area(1_000), size=settings.CRISIS_MAX_BODY_BYTES)
    response = client_for(olivia).generic("POST", "/api/v1/crises", body, content_type="application/json")
    assert response.status_code == 201, response.content[:300]


def test_a_crisis_body_one_byte_over_the_crisis_cap_is_413(client_for, olivia, settings):
    body = _crisis_body(_ring_area(1_000), size=settings.CRISIS_MAX_BODY_BYTES + 1)
    response = client_for(olivia).generic("POST", "/api/v1/crises", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


WHOLE_WORLD = [[[-180, -90], [180, -90], [180, 90], [-180, 90], [-180, -90]]]
ARCTIC_CAP = [[[-180, 80], [180, 80], [180, 90], [-180, 90], [-180, 80]]]


@pytest.mark.parametrize(("ring", "degrees"), [(WHOLE_WORLD, 360 * 180), (ARCTIC_CAP, 360 * 10)], ids=["world", "cap"])
def test_a_box_from_longitude_minus_180_to_180_is_the_band_it_draws(ring, degrees):
    area = parse({"type": "Polygon", "coordinates": ring}).geometry
    assert area.bounds == (-180, ring[0][0][1], 180, ring[0][2][1])
    assert area.area == pytest.approx(degrees)


def test_a_ring_that_circles_a_pole_gets_400_saying_so():
    around_the_pole = [[[0, 80], [90, 80], [180, 80], [-90, 80], [0, 80]]]
    with pytest.raises(AreaError, match="encircles a pole"):
        parse({"type": "Polygon", "coordinates": around_the_pole})


def test_the_whole_world_is_declared_with_every_country(client_for, ada):
    response = client_for(ada).post(
        "/api/v1/crises", crisis_payload(area={"type": "Polygon", "coordinates": WHOLE_WORLD}), format="json"
    )
    assert response.status_code == 201, response.content
    assert len(response.json()["countries"]) > 200


def test_members_without_an_area_are_named_once_by_index_and_id():
    point = {"type": "Point", "coordinates": [5, 5]}
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": square(0, 0, 2, 2), "properties": {}},
            {"type": "Feature", "id": "gauge-17", "geometry": point, "properties": {}},
            {"type": "Feature", "geometry": point, "properties": {}},
        ],
    }
    assert parse(collection).warnings == [
        "2 member(s) without an area (points or lines) were ignored: "
        'area.features[1] (id "gauge-17"), area.features[2].'
    ]


def test_a_repaired_feature_is_named_by_its_index_and_id():
    bow_tie = {"type": "Polygon", "coordinates": [[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]]}
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": square(5, 5, 6, 6), "properties": {}},
            {"type": "Feature", "id": 42, "geometry": bow_tie, "properties": {}},
        ],
    }
    (warning,) = parse(collection).warnings
    assert warning.startswith('area.features[1] (id "42").geometry was not a valid polygon')
