"""Advisories: public look-ups for mobile apps (no account, nothing kept), and the staff's editing."""

from __future__ import annotations

import math
import re
from typing import Any

import orjson
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import APIException, NotFound, UnsupportedMediaType
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.throttling import client_address
from advisories import index
from advisories.models import CountryAdvisory
from advisories.services import advisories as editing
from advisories.services import lookups
from api import examples
from api.advisories.serializers import AdvisoryInput, AdvisoryOutput, LookupInput, LookupOutput
from api.params import query_value
from api.parsers import parse_json
from api.permissions import IsStaff, Public, account_of
from api.schema import errors
from consular.errors import DomainError

LOOKUP_PATH = "/api/v1/advisories/lookup"
MAX_LOOKUP_BYTES = 1024
_LANGUAGE = re.compile(r"^\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*$")
LOOKUP_400 = (
    "`invalid`: lat and lon must be JSON numbers within ±90 and ±180; `malformed_request`: not a JSON object, or a "
    "body over 1 KB."
)
THROTTLED = "`throttled`: too many look-ups from this address; `Retry-After` says when to try again."


def point_of(data: object) -> tuple[float, float]:
    """LookupInput's rules: an object of exactly lat and lon, JSON numbers within range; never echoed."""
    if not isinstance(data, dict):
        raise DomainError("invalid", "Invalid input.", fields={"non_field_errors": ["Expected a JSON object."]})
    problems: dict[str, list[str]] = {name: ["Unknown field."] for name in sorted(set(data) - {"lat", "lon"})}
    values = {}
    for name, limit in (("lat", 90.0), ("lon", 180.0)):
        value = data.get(name)
        if name not in data:
            problems[name] = ["This field is required."]
        elif isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            problems[name] = ["A number is required."]
        elif not -limit <= value <= limit:
            problems[name] = ["Out of range."]
        else:
            values[name] = float(value)
    if problems:
        raise DomainError("invalid", "Invalid input.", fields=problems)
    return values["lat"], values["lon"]


def languages_of(request: HttpRequest | Request) -> list[str]:
    return languages_of_header(request.META.get("HTTP_ACCEPT_LANGUAGE", ""))


def languages_of_header(header: str) -> list[str]:
    """Accept-Language as tags, most wanted first (malformed parts ignored)."""
    weighted = []
    for position, part in enumerate(header.split(",")[:20]):
        match = _LANGUAGE.match(part)
        if match:
            try:
                q = float(match.group(2)) if match.group(2) else 1.0
            except ValueError:
                continue
            if q > 0:
                weighted.append((-q, position, match.group(1)))
    return [tag for _, _, tag in sorted(weighted)]


class PublicView(APIView):
    permission_classes = [Public]
    authentication_classes: list = []  # no account, and no token look-up: no database round trip


class LookupView(PublicView):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """Every app's hot path: a well-formed look-up is answered without DRF's request cycle.

        Anything else (another method, a bad body, a throttled client) goes through DRF's cycle
        and `post` below, which answer it in the project's error shape as every other view does.
        """
        if request.method == "POST" and request.content_type == "application/json":
            raw = request.body
            if len(raw) <= MAX_LOOKUP_BYTES:
                try:
                    lat, lon = point_of(parse_json(raw))
                    lookups.LIMIT.check(client_address(request))
                except (DomainError, APIException):
                    pass  # answered below, by the same rules, in the error shape
                else:
                    return _lookup_response(lat, lon, request)
        return super().dispatch(request, *args, **kwargs)

    @extend_schema(
        request=LookupInput,
        examples=examples.ADVISORY_LOOKUP,
        responses={200: LookupOutput, **errors({400: LOOKUP_400, 429: THROTTLED})},
    )
    def post(self, request: Request) -> HttpResponse:
        """The country at a point, its advisory, and the active public crises covering it.

        The position goes in the body, never in the address; it is not stored or logged.
        At sea within 22 km of a coast the nearest country answers, with `at_sea: true`.
        """
        lookups.LIMIT.check(client_address(request._request))
        raw = request._request.body
        if len(raw) > MAX_LOOKUP_BYTES:
            raise DomainError("malformed_request", "A look-up body is at most 1 KB.")
        if not request.content_type.startswith("application/json"):
            raise UnsupportedMediaType(request.content_type)
        # The project's JSON reading (api.parsers), then LookupInput's rules checked directly: this is
        # the hot path of every app, and a serializer's machinery costs more than the look-up itself.
        lat, lon = point_of(parse_json(raw))
        return _lookup_response(lat, lon, request._request)


def _lookup_response(lat: float, lon: float, request: HttpRequest) -> HttpResponse:
    return HttpResponse(lookup_body(lat, lon, languages_of(request)), content_type="application/json")


def lookup_body(lat: float, lon: float, languages: list[str]) -> bytes:
    """The look-up's answer as JSON (here and at the WSGI edge, api.advisories.edge)."""
    return orjson.dumps(lookups.point_lookup(lat=lat, lon=lon, languages=languages))


class CountryLookupView(PublicView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "country", str, required=True, pattern="^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2, any case."
            )
        ],
        responses={
            200: LookupOutput,
            **errors(
                {
                    400: "`invalid`: country missing or not two letters.",
                    404: "`not_found`: no such country in the bundled boundaries.",
                    429: THROTTLED,
                }
            ),
        },
    )
    def get(self, request: Request) -> Response:
        """A country's advisory and the active public crises touching it; an unknown code is a 404."""
        lookups.LIMIT.check(client_address(request._request))
        country = (query_value(request, "country") or "").upper()
        if not re.fullmatch(r"[A-Z]{2}", country):
            raise DomainError("invalid", "Invalid input.", fields={"country": ["Two letters: ISO 3166-1 alpha-2."]})
        return Response(lookups.country_lookup(country=country, languages=languages_of(request)))


class BundleView(PublicView):
    @extend_schema(
        responses={
            (200, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Every country's advisory and every active public crisis's area, simplified so that it "
                "never misses a point the real area covers (within `tolerance_degrees` of it); gzip when accepted.",
            ),
            304: OpenApiResponse(description="Not modified since the ETag sent in If-None-Match."),
        }
    )
    def get(self, request: Request) -> HttpResponse:
        """The offline bundle: an app that syncs it answers on the device and never sends its position."""
        raw, compressed, etag = index.INDEX.bundle_to_serve()
        gzip_wanted = "gzip" in request.META.get("HTTP_ACCEPT_ENCODING", "")
        tag = etag[:-1] + '-gz"' if gzip_wanted else etag  # each representation its own strong ETag
        if tag in [part.strip() for part in request.META.get("HTTP_IF_NONE_MATCH", "").split(",")]:
            response = HttpResponse(status=304)
        else:
            response = HttpResponse(compressed if gzip_wanted else raw, content_type="application/json")
            if gzip_wanted:
                response["Content-Encoding"] = "gzip"
        response["ETag"] = tag
        response["Cache-Control"] = "public, max-age=60"
        response["Vary"] = "Accept-Encoding"
        return response


def _advisory_body(code: str, name: str, advisory: CountryAdvisory | None, may_edit: bool) -> dict:
    return {
        "country": code,
        "name": name,
        "level": advisory.level if advisory else None,
        "texts": advisory.texts if advisory else None,
        "regional_notes": advisory.regional_notes if advisory else None,
        "updated_at": advisory.updated_at if advisory else None,
        "may_edit": may_edit,
    }


class AdvisoryListView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(responses=AdvisoryOutput(many=True))
    def get(self, request: Request) -> Response:
        """Every country of the bundled boundaries with its advisory (null where none), and whether you may edit it."""
        user = account_of(request)
        advisories = {a.country_id: a for a in CountryAdvisory.objects.all()}
        names = index.INDEX.countries().names
        return Response(
            [
                _advisory_body(code, names[code], advisories.get(code), editing.may_edit(user, code))
                for code in sorted(names)
            ]
        )


class AdvisoryDetailView(APIView):
    permission_classes = [IsStaff]

    def _known(self, country: str) -> str:
        code = country.upper()
        if code not in index.INDEX.countries().names:
            raise NotFound()
        return code

    @extend_schema(responses=AdvisoryOutput)
    def get(self, request: Request, country: str) -> Response:
        code = self._known(country)
        advisory = CountryAdvisory.objects.filter(country_id=code).first()
        names = index.INDEX.countries().names
        return Response(_advisory_body(code, names[code], advisory, editing.may_edit(account_of(request), code)))

    @extend_schema(
        request=AdvisoryInput,
        examples=examples.ADVISORY,
        responses={
            200: AdvisoryOutput,
            **errors({403: "`forbidden`: only the posts covering the country, or an admin, change its advisory."}),
        },
    )
    def put(self, request: Request, country: str) -> Response:
        """Set the country's advisory (audited: who, the old and the new level)."""
        code = self._known(country)
        data = AdvisoryInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = account_of(request)
        advisory = editing.advisory_put(user=user, country=code, **data.validated_data)
        names = index.INDEX.countries().names
        return Response(_advisory_body(code, names[code], advisory, True))
