"""The map's base: the bundled country outlines, read once a process."""

from __future__ import annotations

import threading
from typing import Any

from crises.selectors import country_outlines

_countries: list[dict[str, Any]] | None = None
_countries_lock = threading.Lock()


def countries_layer() -> list[dict[str, Any]]:
    """The bundled boundaries as GeoJSON features (simplified once a process: they never change)."""
    global _countries
    if _countries is None:
        with _countries_lock:
            if _countries is None:
                _countries = [
                    {"type": "Feature", "properties": {"code": code, "name": name}, "geometry": shape}
                    for code, name, shape in country_outlines()
                ]
    return _countries
