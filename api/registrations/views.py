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
    CompanionInput,
    CompanionPatchInput,
    CompanionSchema,
    ExportOutput,
    ProfileInput,
    ProfilePatchInput,
    ProfileSchema,
    ResidenceInput,
    ResidencePatchInput,
    ResidenceSchema,
    ResidenceWrittenSchema,
    TripInput,
    TripPatchInput,
    TripSchema,
    TripWrittenSchema,
)
from api.schema import errors
from privacy.services.erasure import person_erase
from privacy.services.export import export_for
from registrations import selectors
from registrations.models import Companion, Residence, Trip
from registrations.services import companions, profiles, residences, trips

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


def _companion_body(companion: Companion) -> dict:
    return selectors.companion_as_dict(companion=companion, cipher=companion.traveller.data_key.cipher())


TOO_MANY_COMPANIONS = (
    "`invalid`: a value breaks a rule, or a companion named is not one of the registration's; "
    "`too_many_companions`: the registration lists 50 companions already."
)


class CompanionListView(PersonalDataView):
    pagination_class = CappedPageNumberPagination

    @extend_schema(responses=CompanionSchema(many=True))
    def get(self, request: Request) -> Response:
        mine = selectors.companions_of(user=account_of(request))
        return paginated_response(request, self, mine, lambda page: [_companion_body(c) for c in page])

    @extend_schema(
        request=CompanionInput,
        examples=examples.COMPANION,
        responses={201: CompanionSchema, **errors({400: TOO_MANY_COMPANIONS, 404: ERASED})},
    )
    def post(self, request: Request) -> Response:
        companion = companions.companion_create(user=account_of(request), data=request.data)
        return Response(_companion_body(companion), status=status.HTTP_201_CREATED)


class CompanionDetailView(PersonalDataView):
    def _companion(self, request: Request, companion_id: uuid.UUID) -> Companion:
        companion = selectors.companion_of(user=account_of(request), companion_id=companion_id)
        if companion is None:
            raise NotFound()
        return companion

    @extend_schema(responses=CompanionSchema)
    def get(self, request: Request, companion_id: uuid.UUID) -> Response:
        return Response(_companion_body(self._companion(request, companion_id)))

    @extend_schema(
        request=CompanionInput,
        examples=examples.COMPANION,
        responses={200: CompanionSchema, **errors({404: ERASED})},
    )
    def put(self, request: Request, companion_id: uuid.UUID) -> Response:
        companion = self._companion(request, companion_id)
        return Response(
            _companion_body(companions.companion_update(companion=companion, data=request.data, partial=False))
        )

    @extend_schema(
        request=CompanionPatchInput,
        examples=examples.COMPANION_PATCH,
        responses={200: CompanionSchema, **errors({404: ERASED})},
    )
    def patch(self, request: Request, companion_id: uuid.UUID) -> Response:
        companion = self._companion(request, companion_id)
        return Response(
            _companion_body(companions.companion_update(companion=companion, data=request.data, partial=True))
        )

    @extend_schema(responses={204: None}, description="The companion goes, and off every trip and residence.")
    def delete(self, request: Request, companion_id: uuid.UUID) -> Response:
        companions.companion_delete(companion=self._companion(request, companion_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


def _residence_body(residence: Residence, warnings: list[str] | None = None) -> dict:
    body = selectors.residence_as_dict(residence=residence, cipher=residence.traveller.data_key.cipher())
    if warnings is not None:
        body["warnings"] = warnings
    return body


RESIDENCE_400 = (
    "`invalid`: a value breaks a rule, or a companion named is not one of the registration's; "
    "`too_many_residences`: the registration holds 20 residences already."
)


class ResidenceListView(PersonalDataView):
    pagination_class = CappedPageNumberPagination

    @extend_schema(responses=ResidenceSchema(many=True))
    def get(self, request: Request) -> Response:
        mine = selectors.residences_of(user=account_of(request))
        return paginated_response(request, self, mine, lambda page: [_residence_body(r) for r in page])

    @extend_schema(
        request=ResidenceInput,
        examples=examples.RESIDENCE,
        responses={201: ResidenceWrittenSchema, **errors({400: RESIDENCE_400, 404: ERASED})},
    )
    def post(self, request: Request) -> Response:
        residence, warnings = residences.residence_create(user=account_of(request), data=request.data)
        return Response(_residence_body(residence, warnings), status=status.HTTP_201_CREATED)


class ResidenceDetailView(PersonalDataView):
    def _residence(self, request: Request, residence_id: uuid.UUID) -> Residence:
        residence = selectors.residence_of(user=account_of(request), residence_id=residence_id)
        if residence is None:
            raise NotFound()
        return residence

    @extend_schema(responses=ResidenceSchema)
    def get(self, request: Request, residence_id: uuid.UUID) -> Response:
        return Response(_residence_body(self._residence(request, residence_id)))

    @extend_schema(
        request=ResidenceInput,
        examples=examples.RESIDENCE,
        responses={200: ResidenceWrittenSchema, **errors({404: ERASED})},
    )
    def put(self, request: Request, residence_id: uuid.UUID) -> Response:
        residence = self._residence(request, residence_id)
        residence, warnings = residences.residence_update(residence=residence, data=request.data, partial=False)
        return Response(_residence_body(residence, warnings))

    @extend_schema(
        request=ResidencePatchInput,
        examples=examples.RESIDENCE_PATCH,
        responses={200: ResidenceWrittenSchema, **errors({404: ERASED})},
    )
    def patch(self, request: Request, residence_id: uuid.UUID) -> Response:
        residence = self._residence(request, residence_id)
        residence, warnings = residences.residence_update(residence=residence, data=request.data, partial=True)
        return Response(_residence_body(residence, warnings))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, residence_id: uuid.UUID) -> Response:
        residences.residence_delete(residence=self._residence(request, residence_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ResidenceConfirmView(PersonalDataView):
    @extend_schema(
        request=None,
        responses={200: ResidenceSchema, **errors({404: ERASED})},
        description="The holder still lives there: confirmed for another RESIDENCE_CONFIRM_MONTHS (12).",
    )
    def post(self, request: Request, residence_id: uuid.UUID) -> Response:
        residence = selectors.residence_of(user=account_of(request), residence_id=residence_id)
        if residence is None:
            raise NotFound()
        return Response(_residence_body(residences.residence_confirm(residence=residence)))


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
