import pytest
from shapely.geometry import MultiPolygon, Point, Polygon

from tests.geometry_app.models import Shape

SQUARE_WITH_HOLE = Polygon(
    [(10, 10), (20, 10), (20, 20), (10, 20), (10, 10)],
    holes=[[(12, 12), (12, 14), (14, 14), (14, 12), (12, 12)]],
)


def reload(shape: Shape) -> Shape:
    return Shape.objects.get(pk=shape.pk)


def test_point_round_trips():
    shape = Shape.objects.create(point=Point(178.4419, -18.1416))
    stored = reload(shape).point
    assert stored is not None
    assert stored.equals_exact(Point(178.4419, -18.1416), 0)


def test_polygon_with_a_hole_round_trips():
    stored = reload(Shape.objects.create(polygon=SQUARE_WITH_HOLE)).polygon
    assert stored is not None
    assert stored.equals_exact(SQUARE_WITH_HOLE, 0)
    assert len(stored.interiors) == 1


def test_multipolygon_round_trips():
    area = MultiPolygon([SQUARE_WITH_HOLE, Polygon([(30, 30), (31, 30), (31, 31), (30, 30)])])
    stored = reload(Shape.objects.create(multipolygon=area)).multipolygon
    assert stored is not None
    assert stored.equals_exact(area, 0)


@pytest.mark.parametrize("longitude", [180.0, -180.0])
def test_coordinates_on_the_antimeridian_round_trip(longitude):
    ring = [
        (longitude, -20),
        (longitude, -15),
        (longitude - 1 if longitude > 0 else longitude + 1, -15),
        (longitude, -20),
    ]
    shape = Shape.objects.create(point=Point(longitude, -17.5), polygon=Polygon(ring))
    stored = reload(shape)
    assert stored.point is not None and stored.polygon is not None
    assert stored.point.x == longitude
    assert stored.polygon.equals_exact(Polygon(ring), 0)


def test_values_are_stored_as_postgis_geometries_with_srid_4326(django_db_setup):
    from django.db import connection

    Shape.objects.create(point=Point(-75.0, -12.0))
    with connection.cursor() as cursor:
        cursor.execute("SELECT ST_SRID(point), GeometryType(point), ST_X(point) FROM geometry_app_shape")
        assert cursor.fetchone() == (4326, "POINT", -75.0)


def test_postgis_refuses_a_geometry_of_the_wrong_type_even_bypassing_python():
    from django.db import DataError, connection, transaction

    with pytest.raises(DataError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO geometry_app_shape (point) VALUES (ST_GeomFromText('LINESTRING(0 0, 1 1)', 4326))")


def test_a_wrong_geometry_type_is_refused_before_reaching_the_database():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        Shape.objects.create(point=SQUARE_WITH_HOLE)


def test_spatial_predicates_run_in_postgis_on_stored_values():
    from django.db import connection

    Shape.objects.create(point=Point(15, 15), polygon=SQUARE_WITH_HOLE)
    Shape.objects.create(point=Point(13, 13), polygon=SQUARE_WITH_HOLE)  # inside the hole
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM geometry_app_shape WHERE ST_Intersects(polygon, point)")
        assert cursor.fetchone() == (1,)


def test_gist_indexes_are_declared_in_the_migration():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'geometry_app_shape' AND indexname LIKE '%gist'"
        )
        definitions = [row[0] for row in cursor.fetchall()]
    assert len(definitions) == 2
    assert all("USING gist" in d for d in definitions)


def test_the_hand_built_point_ewkb_matches_shapelys():
    import shapely

    from consular.geometry import point_ewkb

    expected = shapely.to_wkb(shapely.set_srid(Point(178.4419, -18.1416), 4326), include_srid=True)
    assert point_ewkb(178.4419, -18.1416) == expected
