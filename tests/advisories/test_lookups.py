"""Public advisory look-ups: the same answers as PostGIS, private, fast by an in-process index."""

from __future__ import annotations

import gzip
import json
import logging
import random
import time

import pytest
import shapely
from django.db import connection
from shapely.geometry import Point

from advisories import index
from advisories.services import lookups
from crises.services.lifecycle import crisis_transition
from tests.factories import declared_crisis
from tests.registrations.test_encryption_at_rest import _dump

LOOKUP = "/api/v1/advisories/lookup"
SUVA = {"lat": -17.8, "lon": 178.0}  # inland Viti Levu (the 1:50m coastline puts Suva harbour at sea)


def postgis_countries(lon: float, lat: float) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT country_id FROM crises_countrypart"
            " WHERE ST_Intersects(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326)) ORDER BY 1",
            [lon, lat],
        )
        return [row[0] for row in cursor.fetchall()]


def look(api, body, **headers):
    return api.post(LOOKUP, body, format="json", **headers)


def test_a_point_in_suva_is_in_fiji(api):
    answer = look(api, SUVA).json()
    assert answer["country"] == {"code": "FJ", "name": "Fiji", "at_sea": False}
    assert answer["countries"] == ["FJ"] and answer["crises"] == [] and answer["advisory"] is None


def test_random_points_and_border_vertices_get_the_answer_postgis_gives():
    rng = random.Random(3)  # noqa: S311 - reproducible test points
    points = [(rng.uniform(-180, 180), rng.uniform(-60, 75)) for _ in range(300)]
    with connection.cursor() as cursor:  # vertices of the French-Spanish and US-Canadian borders: on two boundaries
        cursor.execute(
            "SELECT ST_X(g), ST_Y(g) FROM (SELECT (ST_DumpPoints(ST_Intersection(a.area, b.area))).geom AS g "
            "FROM crises_country a, crises_country b WHERE (a.code, b.code) IN (('FR', 'ES'), ('US', 'CA'))) p LIMIT 40"
        )
        points += cursor.fetchall()
    for lon, lat in points:
        assert index.place_of(lon, lat).countries == postgis_countries(lon, lat) or (
            not postgis_countries(lon, lat) and index.place_of(lon, lat).at_sea
        ), (lon, lat)


def test_fiji_and_kiribati_are_found_on_both_sides_of_the_antimeridian():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT country_id, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM crises_countrypart "
            "WHERE country_id IN ('FJ', 'KI') AND (ST_XMin(geom) > 170 OR ST_XMax(geom) < -170)"
        )
        samples = cursor.fetchall()
    sides = {(code, lon > 0) for code, lon, _ in samples}
    assert {("FJ", True), ("FJ", False), ("KI", True), ("KI", False)} <= sides
    for code, lon, lat in samples:
        assert index.place_of(lon, lat).countries == [code]
    with connection.cursor() as cursor:  # Fiji's land touches 180°: a point on the line is in Fiji from either side
        cursor.execute(
            "SELECT ST_Y(ST_ClosestPoint(area, ST_SetSRID(ST_MakePoint(180, -16.5), 4326)))"
            " FROM crises_country WHERE code = 'FJ'"
        )
        (lat_on_line,) = cursor.fetchone()
    assert index.place_of(180.0, lat_on_line).countries == postgis_countries(180.0, lat_on_line) == ["FJ"]
    # The same place written as -180° lies on no Fiji polygon's edge for PostGIS either; within 22 km, Fiji answers.
    west = index.place_of(-180.0, lat_on_line)
    assert ([] if west.at_sea else west.countries) == postgis_countries(-180.0, lat_on_line)
    assert west.countries == ["FJ"]


def test_at_sea_near_a_coast_the_nearest_country_answers_and_far_out_nobody(api):
    near = look(api, {"lat": -18.25, "lon": 178.45}).json()  # off Suva, in the harbour approaches
    assert near["country"]["code"] == "FJ" and near["country"]["at_sea"] is True
    assert look(api, {"lat": -30.0, "lon": -150.0}).json()["country"] is None


def test_a_public_active_crisis_covering_the_point_is_listed_once_activated_and_gone_once_closed(api, olivia):
    crisis = declared_crisis(olivia, public=True, area={"type": "Circle", "center": [178.0, -17.8], "radius_km": 50})
    assert look(api, SUVA).json()["crises"] == []  # a draft is never shown
    crisis = crisis_transition(crisis=crisis, user=olivia, action="activate")
    deadline = time.monotonic() + 1.5
    while not look(api, SUVA).json()["crises"]:
        assert time.monotonic() < deadline, "the activation did not show within a second"
        time.sleep(0.05)
    shown = look(api, SUVA).json()["crises"][0]
    assert shown["id"] == str(crisis.pk) and set(shown) == {"id", "title", "severity", "starts_at", "ends_at",
                                                             "updated_at", "origin"}  # fmt: skip
    crisis_transition(crisis=crisis, user=olivia, action="close")
    deadline = time.monotonic() + 1.5
    while look(api, SUVA).json()["crises"]:
        assert time.monotonic() < deadline, "the closing did not show within a second"
        time.sleep(0.05)


def test_a_crisis_that_is_not_public_is_never_shown(api, olivia):
    crisis = declared_crisis(olivia, public=False, area={"type": "Circle", "center": [178.0, -17.8], "radius_km": 50})
    crisis_transition(crisis=crisis, user=olivia, action="activate")
    index.INDEX.forget()
    assert look(api, SUVA).json()["crises"] == []
    assert api.get("/api/v1/advisories?country=FJ").json()["crises"] == []


def test_a_country_look_up_gives_its_advisory_and_crises(api, client_for, olivia):
    client_for(olivia).put("/api/v1/advisories/countries/FJ", ADVISORY, format="json")
    crisis = declared_crisis(olivia, public=True, area={"type": "Circle", "center": [178.0, -17.8], "radius_km": 50})
    crisis_transition(crisis=crisis, user=olivia, action="activate")
    index.INDEX.forget()
    answer = api.get("/api/v1/advisories?country=fj", HTTP_ACCEPT_LANGUAGE="fr-FR, en;q=0.5").json()
    assert answer["advisory"]["level"] == 2 and answer["advisory"]["language"] == "fr"
    assert [c["id"] for c in answer["crises"]] == [str(crisis.pk)]
    assert api.get("/api/v1/advisories?country=XX").status_code == 404


def test_the_bundle_has_an_etag_and_answers_304_until_something_changes(api, client_for, olivia):
    first = api.get("/api/v1/advisories/bundle", HTTP_ACCEPT_ENCODING="gzip")
    assert first.status_code == 200 and first["Content-Encoding"] == "gzip" and "public" in first["Cache-Control"]
    document = json.loads(gzip.decompress(first.content))
    assert len(document["countries"]) > 200 and document["crises"] == []
    again = api.get("/api/v1/advisories/bundle", HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    client_for(olivia).put("/api/v1/advisories/countries/FJ", ADVISORY, format="json")
    index.INDEX.forget()
    changed = api.get("/api/v1/advisories/bundle", HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]


def test_a_bundled_area_covers_every_point_of_the_real_area(olivia):
    area = {"type": "Polygon", "coordinates": [[[176.0, -20.0], [181.5, -20.0], [181.5, -15.0], [176.0, -15.0],
                                                [176.0, -20.0]]]}  # fmt: skip
    crisis = declared_crisis(olivia, public=True, area=area)
    simplified = index.bundle_area(crisis.area)
    rng = random.Random(4)  # noqa: S311 - reproducible test points
    minx, miny, maxx, maxy = crisis.area.bounds
    inside = [p for p in (Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy)) for _ in range(2000))
              if crisis.area.intersects(p)]  # fmt: skip
    assert inside and all(simplified.intersects(p) for p in inside)
    assert simplified.bounds[0] >= -180 and simplified.bounds[2] <= 180
    assert shapely.hausdorff_distance(simplified, crisis.area) <= index.BUNDLE_TOLERANCE_DEG * 1.01


def test_the_coordinates_of_a_look_up_are_never_logged_or_stored(api, caplog):
    caplog.set_level(logging.DEBUG)
    distinctive = {"lat": -17.618273, "lon": 177.451928}
    assert look(api, distinctive).status_code == 200
    assert look(api, {"lat": "-17.618273", "lon": 177.451928}).status_code == 400  # an error does not echo it either
    for text in ("17.618273", "177.451928", "17.61827", "177.45192"):
        assert text not in caplog.text
        assert text not in _dump()


def test_look_ups_are_rate_limited_per_address_with_retry_after(api, monkeypatch):
    monkeypatch.setattr(lookups.LIMIT, "limit", 3)
    assert [look(api, SUVA).status_code for _ in range(3)] == [200, 200, 200]
    refused = look(api, SUVA)
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert refused.json()["error"]["code"] == "throttled"


@pytest.mark.parametrize(
    "body",
    [{}, {"lat": -18.1}, {"lat": "-18.1", "lon": 178.4}, {"lat": True, "lon": 178.4}, {"lat": 91, "lon": 0},
     {"lat": 0, "lon": 180.5}, {"lat": 0, "lon": 0, "extra": 1}, [1, 2], {"lat": 0, "lon": 0, "pad": "x" * 2000}],
    ids=["empty", "missing lon", "string", "boolean", "lat 91", "lon 180.5", "unknown field", "not an object",
         "over 1 KB"],
)  # fmt: skip
def test_a_bad_look_up_is_a_400_in_the_error_shape(api, body):
    response = look(api, body)
    assert response.status_code == 400 and "error" in response.json()


def test_a_key_given_twice_is_a_400(api):
    response = api.post(LOOKUP, b'{"lat": 1, "lat": 2, "lon": 0}', content_type="application/json")
    assert response.status_code == 400 and "twice" in response.json()["error"]["message"]


def test_a_look_up_that_is_not_json_is_a_415_in_the_error_shape(api):
    response = api.post(LOOKUP, "lat=1&lon=2", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415 and response.json()["error"]["code"] == "unsupported_media_type"


def test_a_look_up_with_a_charset_in_its_content_type_is_answered(api):
    response = api.post(LOOKUP, json.dumps(SUVA), content_type="application/json; charset=utf-8")
    assert response.status_code == 200 and response.json()["country"]["code"] == "FJ"


def test_a_get_of_the_look_up_is_a_405(api):
    assert api.get(LOOKUP).status_code == 405


def test_nan_is_a_400(api):
    response = api.post(LOOKUP, b'{"lat": NaN, "lon": 0}', content_type="application/json")
    assert response.status_code == 400


ADVISORY = {
    "level": 2,
    "texts": {"en": {"title": "Take care", "summary": "Cyclone season."},
              "fr": {"title": "Prudence", "summary": "Saison des cyclones."}},
    "regional_notes": {"en": "Outer islands: avoid during warnings."},
}  # fmt: skip


def test_after_a_change_the_bundle_is_rebuilt_beside_the_requests(api, client_for, olivia, monkeypatch):
    monkeypatch.setattr(index, "REFRESH_SECONDS", 0.0)  # every request reads the fingerprint
    first = api.get("/api/v1/advisories/bundle")["ETag"]
    client_for(olivia).put("/api/v1/advisories/countries/FJ", ADVISORY, format="json")
    deadline = time.monotonic() + 10
    while (current := api.get("/api/v1/advisories/bundle"))["ETag"] == first:
        assert time.monotonic() < deadline, "the new bundle was not served within 10 s"
        time.sleep(0.05)
    fiji = next(c for c in json.loads(current.content)["countries"] if c["code"] == "FJ")
    assert fiji["advisory"]["level"] == 2
