"""The situation map: the post's countries, its crises by severity with their exposure, advisories."""

from __future__ import annotations

import orjson
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from advisories.selectors import advisory_levels
from console.access import console_view, staff
from console.geo import countries_layer
from crises.models import Crisis, Status
from crises.selectors import crises_visible_to, crisis_outlines, exposure_seen_by
from crises.suppression import suppress_total, threshold_for

SEVERITY_ORDER = {"extreme": 0, "severe": 1, "moderate": 2, "minor": 3}
ON_THE_MAP = (Status.ACTIVE, Status.DRAFT)


def _crises_on_the_map(request: HttpRequest) -> list[Crisis]:
    # Without their areas: the table and the exposure need none, and 50 large areas take a
    # quarter of a second to read into shapes.
    crises = crises_visible_to(user=staff(request)).filter(status__in=ON_THE_MAP).defer("area")
    return sorted(crises, key=lambda c: (c.status != Status.ACTIVE, SEVERITY_ORDER.get(c.severity, 9), c.title))


def _exposure(crisis: Crisis, request: HttpRequest) -> dict[str, int | None]:
    user = staff(request)
    located, country_only = exposure_seen_by(crisis=crisis, user=user)
    k = threshold_for(user)
    if k is None:
        return {"located": located, "country_only": country_only}
    return {"located": suppress_total(located, k).count, "country_only": suppress_total(country_only, k).count}


@console_view()
def situation_page(request: HttpRequest) -> HttpResponse:
    user = staff(request)
    rows = [(crisis, _exposure(crisis, request)) for crisis in _crises_on_the_map(request)]
    return render(
        request,
        "console/situation.html",
        {
            "rows": rows,
            "jurisdiction": sorted(user.jurisdiction() or []),
            "tile_url": settings.CONSOLE_TILE_URL,
            "tile_attribution": settings.CONSOLE_TILE_ATTRIBUTION,
        },
    )


@console_view(data=True)
def countries_data(request: HttpRequest) -> JsonResponse:
    user = staff(request)
    jurisdiction = user.jurisdiction()
    levels = advisory_levels()
    features = [
        {
            **feature,
            "properties": {
                **feature["properties"],
                "advisory": levels.get(feature["properties"]["code"]),
                "jurisdiction": jurisdiction is not None and feature["properties"]["code"] in jurisdiction,
            },
        }
        for feature in countries_layer()
    ]
    return JsonResponse({"type": "FeatureCollection", "features": features})


@console_view(data=True)
def crises_data(request: HttpRequest) -> HttpResponse:
    """The crises on the map as GeoJSON, coarser than a crisis's own page (about 300 px across an
    area). Their exposure is in the page's table, computed once there, which the popups read."""
    crises = _crises_on_the_map(request)
    outlines = crisis_outlines([crisis.pk for crisis in crises], pixels=300)
    features = []
    for crisis in crises:
        properties = {"id": str(crisis.pk), "title": crisis.title, "severity": crisis.severity,
                      "status": crisis.status, "origin": crisis.origin}  # fmt: skip
        # The geometry is PostGIS's GeoJSON text, put in as it is rather than parsed and written again.
        features.append(b'{"type":"Feature","properties":%s,"geometry":%s}' % (
            orjson.dumps(properties), outlines[crisis.pk].encode()))  # fmt: skip
    body = b'{"type":"FeatureCollection","features":[' + b",".join(features) + b"]}"
    return HttpResponse(body, content_type="application/json")
