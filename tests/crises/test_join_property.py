"""The PostGIS join agrees with shapely on random points and polygons."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from crises.areas import parse_area
from crises.selectors import affected_counts
from tests.factories import declared_crisis, traveller_with_stay

# Around Fiji (inside the test officer's jurisdiction), including across 180°.
longitudes = st.floats(min_value=176.0, max_value=184.0, allow_nan=False)
latitudes = st.floats(min_value=-20.0, max_value=-15.0, allow_nan=False)


def wrap(lon):
    return lon - 360 if lon > 180 else lon


@st.composite
def polygons(draw):
    n = draw(st.integers(min_value=3, max_value=8))
    ring = [[draw(longitudes), draw(latitudes)] for _ in range(n)]
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(area=polygons(), points=st.lists(st.tuples(longitudes, latitudes), min_size=1, max_size=15))
def test_the_join_counts_what_shapely_counts(ada, area, points):
    from django.db import transaction

    try:
        expected_area = parse_area(area, max_vertices=1000).geometry
    except Exception:
        return
    with transaction.atomic():
        sid = transaction.savepoint()
        for lon, lat in points:
            traveller_with_stay(lon=wrap(lon), lat=lat)
        crisis = declared_crisis(ada, area=area)
        counted = sum(affected_counts(crisis=crisis, user=ada).located.values())
        expected = sum(1 for lon, lat in points if expected_area.intersects(Point(wrap(lon), lat)))
        transaction.savepoint_rollback(sid)
    assert counted == expected
