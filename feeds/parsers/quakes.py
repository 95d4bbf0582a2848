"""How far from an epicentre a feed earthquake counts people: a point becomes a circle.

The rule, in km, for moment magnitude M and focal depth d:

    R = 10 ** (0.5 * M - 1)                  hypocentral reach of strong shaking
    L = 10 ** (-2.44 + 0.59 * M)             subsurface rupture length, all slip types
                                             (Wells & Coppersmith 1994, BSSA 84(4):974-1002, table 2A)
    radius = clamp(max(sqrt(R**2 - d**2), L / 2), 10, 1000)

R is this project's rule of thumb, not a hazard model: tenfold for every two magnitude
units (ground-motion amplitude grows about tenfold a magnitude unit and falls off
faster than with distance alone), 30 km at M5, 100 km at M6, 316 km at M7, the ranges
at which moderate damage is commonly reported. A deep focus shakes the surface less:
the surface radius is what is left of R after the depth, but never less than half the
rupture (a great earthquake's fault reaches the surface area above it), nor less than
10 km or more than 1,000 km. An officer redraws the area when the agency's shake map
says otherwise.
"""

from __future__ import annotations

import math

MIN_RADIUS_KM = 10.0
MAX_RADIUS_KM = 1000.0


def epicentre_radius_km(magnitude: float, depth_km: float | None) -> float:
    reach = 10 ** (0.5 * magnitude - 1)
    rupture = 10 ** (-2.44 + 0.59 * magnitude)
    depth = max(depth_km or 0.0, 0.0)  # USGS depths can be slightly negative (above sea level)
    surface = math.sqrt(reach**2 - depth**2) if reach > depth else 0.0
    return round(min(max(surface, rupture / 2, MIN_RADIUS_KM), MAX_RADIUS_KM), 1)


def quake_severity(magnitude: float) -> str:
    """Magnitude onto CAP severity: below 5 minor, 5 to 6 moderate, 6 to 7 severe, 7 and above extreme."""
    if magnitude >= 7:
        return "extreme"
    if magnitude >= 6:
        return "severe"
    if magnitude >= 5:
        return "moderate"
    return "minor"
