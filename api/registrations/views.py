from __future__ import annotations

import uuid

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import examples
from api.pagination import CappedPageNumberPagination, paginated_response
from api.permissions import IsCitizen, account_of
from api.registrations.serializers import (
    ExportOutput,
    ProfileInput,
    ProfilePatchInput,
    ProfileSchema,
    TripInput,
    TripPatchInput,
    TripSchema,
    TripWrittenSchema,
)
from api.schema import errors
from privacy.services.erasure import person_erase
from privacy.services.export import export_for
from registrations import selectors
from registrations.models import Trip
from registrations.services import profiles, trips

# An account erased after the request authenticated (a second device, a retried DELETE).
ERASED = "`not_found`: the account was erased while this request ran."


class PersonalDataView(APIView):
    """A citizen's own data: never cached by browsers or proxies."""

    permission_classes = [IsCitizen]

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response


def _trip_body(trip: Trip, warnings: list[str] | None = None) -> dict:
    body = selectors.trip_as_dict(trip=trip, cipher=trip.traveller.data_key.cipher())
    if warnings is not None:
        body["warnings"] = warnings
    return body


class ProfileView(PersonalDataView):
    @extend_schema(responses={200: ProfileSchema, **errors({404: "`not_found`: no profile yet: PUT one first."})})
    def get(self, request: Request) -> Response:
        traveller = selectors.traveller_of(user=account_of(request))
        profile = traveller and selectors.profile_of(traveller=traveller, cipher=traveller.data_key.cipher())
        if not profile:
            raise NotFound("No profile yet: PUT one first.")
        return Response(profile)

    @extend_schema(
        request=ProfileInput, examples=examples.PROFILE, responses={200: ProfileSchema, **errors({404: ERASED})}
    )
    def put(self, request: Request) -> Response:
        return self._write(request, partial=False)

    @extend_schema(
        request=ProfilePatchInput,
        examples=examples.PROFILE_PATCH,
        responses={200: ProfileSchema, **errors({404: ERASED})},
        description="JSON Merge Patch (RFC 7396) one level deep: consent and emergency_contact objects merge "
        "into the current ones (a null member removes it); the merged profile is validated as a whole.",
    )
    def patch(self, request: Request) -> Response:
        return self._write(request, partial=True)

    def _write(self, request: Request, *, partial: bool) -> Response:
        traveller = profiles.profile_write(user=account_of(request), data=request.data, partial=partial)
        return Response(selectors.profile_of(traveller=traveller, cipher=traveller.data_key.cipher()))


class TripListView(PersonalDataView):
    pagination_class = CappedPageNumberPagination  # GET's page, and its shape in the schema

    @extend_schema(responses=TripSchema(many=True))
    def get(self, request: Request) -> Response:
        mine = selectors.trips_of(user=account_of(request))
        return paginated_response(request, self, mine, lambda page: [_trip_body(trip) for trip in page])

    @extend_schema(
        request=TripInput,
        examples=examples.TRIP,
        responses={
            201: TripWrittenSchema,
            **errors(
                {
                    404: ERASED,
                    409: "`too_many_trips`: the registration holds 100 trips already; delete past ones first.",
                }
            ),
        },
    )
    def post(self, request: Request) -> Response:
        trip, warnings = trips.trip_create(user=account_of(request), data=request.data)
        return Response(_trip_body(trip, warnings), status=status.HTTP_201_CREATED)


class TripDetailView(PersonalDataView):
    def _trip(self, request: Request, trip_id: uuid.UUID) -> Trip:
        trip = selectors.trip_of(user=account_of(request), trip_id=trip_id)
        if trip is None:
            raise NotFound()
        return trip

    @extend_schema(responses=TripSchema)
    def get(self, request: Request, trip_id: uuid.UUID) -> Response:
        return Response(_trip_body(self._trip(request, trip_id)))

    @extend_schema(
        request=TripInput, examples=examples.TRIP, responses={200: TripWrittenSchema, **errors({404: ERASED})}
    )
    def put(self, request: Request, trip_id: uuid.UUID) -> Response:
        trip, warnings = trips.trip_update(trip=self._trip(request, trip_id), data=request.data, partial=False)
        return Response(_trip_body(trip, warnings))

    @extend_schema(
        request=TripPatchInput,
        examples=examples.TRIP_PATCH,
        responses={200: TripWrittenSchema, **errors({404: ERASED})},
    )
    def patch(self, request: Request, trip_id: uuid.UUID) -> Response:
        trip, warnings = trips.trip_update(trip=self._trip(request, trip_id), data=request.data, partial=True)
        return Response(_trip_body(trip, warnings))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, trip_id: uuid.UUID) -> Response:
        trips.trip_delete(trip=self._trip(request, trip_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExportView(PersonalDataView):
    @extend_schema(responses={200: ExportOutput, **errors({404: ERASED})})
    def get(self, request: Request) -> Response:
        return Response(export_for(user=account_of(request)))


class MeView(PersonalDataView):
    @extend_schema(
        responses={
            204: None,
            **errors(
                {
                    503: "`ledger_unavailable`: the erasure could not be recorded outside the database, so nothing "
                    "was erased; try again later.",
                }
            ),
        },
        description="Erase everything held about the caller (crypto-shredding).",
    )
    def delete(self, request: Request) -> Response:
        person_erase(user=account_of(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
