from __future__ import annotations

import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.pagination import CappedPageNumberPagination, paginated_response
from api.permissions import IsCitizen, account_of
from api.registrations.serializers import ProfileSchema, TripSchema, TripWrittenSchema
from privacy.services.erasure import person_erase
from privacy.services.export import export_for
from registrations import selectors
from registrations.models import Trip
from registrations.services import profiles, trips


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
    @extend_schema(responses=ProfileSchema)
    def get(self, request: Request) -> Response:
        traveller = selectors.traveller_of(user=account_of(request))
        profile = traveller and selectors.profile_of(traveller=traveller, cipher=traveller.data_key.cipher())
        if not profile:
            raise NotFound("No profile yet: PUT one first.")
        return Response(profile)

    @extend_schema(request=ProfileSchema, responses=ProfileSchema)
    def put(self, request: Request) -> Response:
        return self._write(request, partial=False)

    @extend_schema(
        request=ProfileSchema,
        responses=ProfileSchema,
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

    @extend_schema(request=TripSchema, responses={201: TripWrittenSchema})
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

    @extend_schema(request=TripSchema, responses=TripWrittenSchema)
    def put(self, request: Request, trip_id: uuid.UUID) -> Response:
        trip, warnings = trips.trip_update(trip=self._trip(request, trip_id), data=request.data, partial=False)
        return Response(_trip_body(trip, warnings))

    @extend_schema(request=TripSchema, responses=TripWrittenSchema)
    def patch(self, request: Request, trip_id: uuid.UUID) -> Response:
        trip, warnings = trips.trip_update(trip=self._trip(request, trip_id), data=request.data, partial=True)
        return Response(_trip_body(trip, warnings))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, trip_id: uuid.UUID) -> Response:
        trips.trip_delete(trip=self._trip(request, trip_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExportView(PersonalDataView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        return Response(export_for(user=account_of(request)))


class MeView(PersonalDataView):
    @extend_schema(responses={204: None}, description="Erase everything held about the caller (crypto-shredding).")
    def delete(self, request: Request) -> Response:
        person_erase(user=account_of(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
