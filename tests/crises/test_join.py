"""Who is counted as affected: geometry, dates, precision and jurisdiction edges."""

import pytest

from crises.selectors import affected_counts
from tests.factories import declared_crisis, square, traveller_with_stay

FIJI_ACROSS = {
    "type": "Polygon",
    "coordinates": [[[177.0, -19.0], [-178.0, -19.0], [-178.0, -16.0], [177.0, -16.0], [177.0, -19.0]]],
}
FIJI_BEYOND_180 = {
    "type": "Polygon",
    "coordinates": [[[177.0, -19.0], [182.0, -19.0], [182.0, -16.0], [177.0, -16.0], [177.0, -19.0]]],
}


def located_total(crisis, user):
    return sum(affected_counts(crisis=crisis, user=user).located.values())


@pytest.mark.parametrize("area", [FIJI_ACROSS, FIJI_BEYOND_180], ids=["drawn-with-a-jump", "drawn-beyond-180"])
def test_stays_on_both_sides_of_the_antimeridian_are_counted_and_a_stay_at_0_is_not(ada, area):
    traveller_with_stay(lon=179.9, lat=-17.5)
    traveller_with_stay(lon=-179.9, lat=-17.5)
    traveller_with_stay(lon=0.0, lat=-17.5, country="GH")
    assert located_total(declared_crisis(ada, area=area), ada) == 2


def test_a_point_in_a_hole_is_not_counted(ada):
    donut = {
        "type": "Polygon",
        "coordinates": [
            [[177, -19], [179, -19], [179, -17], [177, -17], [177, -19]],
            [[177.5, -18.5], [177.5, -17.5], [178.5, -17.5], [178.5, -18.5], [177.5, -18.5]],
        ],
    }
    traveller_with_stay(lon=178.0, lat=-18.0)  # in the hole
    traveller_with_stay(lon=177.2, lat=-18.0)  # in the ring
    assert located_total(declared_crisis(ada, area=donut), ada) == 1


def test_a_point_on_the_boundary_is_counted(ada):
    traveller_with_stay(lon=177.0, lat=-18.0)  # on the western edge
    traveller_with_stay(lon=179.0, lat=-19.0)  # on a corner
    assert located_total(declared_crisis(ada, area=square(177, -19, 179, -17)), ada) == 2


@pytest.mark.parametrize(
    ("start", "end", "counted"),
    [
        ("2026-11-01", "2026-11-10", True),  # ends the day the crisis starts
        ("2026-11-01", "2026-11-09", False),  # ends the day before
        ("2026-11-20", "2026-11-25", True),  # inside the window
        ("2026-11-30", "2026-12-05", True),  # starts the day the crisis ends
        ("2026-12-01", "2026-12-05", False),  # starts after it ended
    ],
)
def test_date_overlap_edges(ada, start, end, counted):
    traveller_with_stay(lon=178.0, lat=-18.0, start=start, end=end)
    crisis = declared_crisis(ada, starts_at="2026-11-10T06:00:00Z", ends_at="2026-11-30T18:00:00Z")
    assert located_total(crisis, ada) == (1 if counted else 0)


def test_an_open_ended_crisis_counts_every_later_stay(ada):
    traveller_with_stay(lon=178.0, lat=-18.0, start="2027-06-01", end="2027-06-10")
    assert located_total(declared_crisis(ada, ends_at=None), ada) == 1


def test_a_multipolygon_counts_points_in_each_part(ada):
    two = {
        "type": "MultiPolygon",
        "coordinates": [square(177, -19, 178, -18)["coordinates"], square(-175.5, -21.5, -175, -21)["coordinates"]],
    }
    traveller_with_stay(lon=177.5, lat=-18.5)
    traveller_with_stay(lon=-175.2, lat=-21.2, country="TO")
    traveller_with_stay(lon=178.5, lat=-18.5)  # between the parts
    assert located_total(declared_crisis(ada, area=two), ada) == 2


def test_a_feature_collection_area_counts_like_its_union(ada):
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {}, "geometry": square(177, -19, 178, -18)},
            {"type": "Feature", "properties": {}, "geometry": square(177.5, -18.5, 178.5, -17.5)},
        ],
    }
    traveller_with_stay(lon=177.7, lat=-18.2)  # in the overlap: once
    traveller_with_stay(lon=178.3, lat=-17.7)
    assert located_total(declared_crisis(ada, area=collection), ada) == 2


def test_a_circle_counts_within_its_radius(ada):
    traveller_with_stay(lon=178.44, lat=-18.14)  # Suva, the centre
    traveller_with_stay(lon=177.42, lat=-17.80)  # Nadi, about 114 km away
    circle = {"type": "Circle", "center": [178.44, -18.14], "radius_km": 100}
    assert located_total(declared_crisis(ada, area=circle), ada) == 1


def test_a_traveller_with_two_stays_inside_is_counted_once(ada):
    traveller = traveller_with_stay(lon=178.0, lat=-18.0)
    from registrations.models import Stay

    stay = Stay.objects.get(traveller=traveller)
    stay.pk = None
    stay.id = None
    import uuid

    stay.id = uuid.uuid4()
    stay.save(force_insert=True)
    assert located_total(declared_crisis(ada), ada) == 1


def test_country_precision_stays_are_counted_separately_when_the_area_touches_the_country(ada):
    traveller_with_stay(lon=178.0, lat=-18.0)
    traveller_with_stay(country="FJ")  # country precision, Fiji touched
    traveller_with_stay(country="TO")  # Tonga not touched
    counts = affected_counts(crisis=declared_crisis(ada), user=ada)
    assert sum(counts.located.values()) == 1
    assert counts.country_only == {"FJ": 1}


def test_a_located_traveller_is_not_also_counted_as_country_only(ada):
    traveller = traveller_with_stay(lon=178.0, lat=-18.0)
    from datetime import date

    from registrations.models import Precision, Stay, Trip

    Stay.objects.create(
        trip=Trip.objects.get(traveller=traveller),
        traveller=traveller,
        country="FJ",
        precision=Precision.COUNTRY,
        start_date=date(2026, 11, 20),
        end_date=date(2026, 11, 25),
    )
    counts = affected_counts(crisis=declared_crisis(ada), user=ada)
    assert counts.country_only == {}


def test_an_officer_counts_only_their_jurisdiction(ada, olivia):
    # An area over Fiji and Tonga; olivia's post covers both, so restrict her post to Fiji.
    olivia.post.countries = ["FJ"]
    olivia.post.save()
    area = square(177.0, -22.0, -174.0, -16.0)  # drawn beyond 180: 177..186
    area["coordinates"][0] = [[177, -22], [186, -22], [186, -16], [177, -16], [177, -22]]
    traveller_with_stay(lon=178.0, lat=-18.0, country="FJ")
    traveller_with_stay(lon=-175.2, lat=-21.2, country="TO")
    crisis = declared_crisis(ada, area=area)
    assert located_total(crisis, ada) == 2
    assert located_total(crisis, olivia) == 1
