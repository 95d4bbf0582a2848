from __future__ import annotations

import uuid

from django.conf import settings
from django.db.models import F
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from api import examples
from api.crises.serializers import (
    AffectedOutput,
    AreaFeatureOutput,
    CrisisInput,
    CrisisOutput,
    CrisisPatchInput,
    CrisisSummaryOutput,
    RevealInput,
    RevealOutput,
    RevealPendingOutput,
    RevealRequestOutput,
)
from api.lookups import crisis_or_404
from api.pagination import CappedPageNumberPagination, paginated_response
from api.params import query_value
from api.permissions import IsOfficer, IsStaff, IsSupervisor, account_of
from api.schema import errors
from consular.errors import DomainError
from crises import selectors
from crises.models import Crisis, Origin, RevealRequest, Status
from crises.reports import affected_report
from crises.services import lifecycle, reveals
from crises.suppression import threshold_for
from notifications.selectors import crisis_checkins

AREA_400 = (
    "`malformed_request`, `invalid` (a field's rule: `fields` names it), `invalid_area`: the area is not GeoJSON "
    "of a polygon or a circle, its coordinates are out of range, or it repairs to nothing."
)
AREA_413 = (
    "`payload_too_large`: a body over CRISIS_MAX_BODY_BYTES; `invalid_area`: an area of more than "
    "CRISIS_MAX_VERTICES vertices."
)
NOT_OWNER = (
    "`permission_denied`: analysts read only; `forbidden`: only the post that declared the crisis, or an admin, "
    "changes it (a feed's proposal that no post has activated: any post it touches)."
)


class CrisisEditorPermission(IsStaff):
    """Every staff role reads; officers, supervisors and admins write (analysts never)."""

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        return request.method in ("GET", "HEAD", "OPTIONS") or request.user.role != Role.ANALYST


def _crisis(request: Request, crisis_id: uuid.UUID) -> Crisis:
    return crisis_or_404(user=account_of(request), crisis_id=crisis_id)


class CrisisListView(APIView):
    permission_classes = [CrisisEditorPermission]
    max_body_bytes = settings.CRISIS_MAX_BODY_BYTES
    pagination_class = CappedPageNumberPagination  # GET's page, and its shape in the schema

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=Status.values, description="Only crises in this status."),
            OpenApiParameter(
                "order",
                str,
                enum=["-exposure", "-starts_at"],
                description="`-exposure`: the crises holding most of the caller's registrations first (a feed's "
                "proposals carry their exposure; drawn crises come last); default `-starts_at`.",
            ),
            OpenApiParameter(
                "origin",
                str,
                enum=Origin.values,
                description="Only crises drawn by staff, or proposed by a feed (`?origin=feed&status=draft`: the "
                "proposals no post has taken yet, and those a post has not activated).",
            ),
        ],
        responses=CrisisSummaryOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        crises = selectors.crises_visible_to(user=account_of(request))
        for name, choices in (("status", Status.values), ("origin", Origin.values)):
            wanted = query_value(request, name)
            if wanted is not None:
                if wanted not in choices:
                    raise DomainError("invalid", "Invalid input.", fields={name: [f"One of {', '.join(choices)}."]})
                crises = crises.filter(**{name: wanted})
        crises = selectors.with_exposure(crises, user=account_of(request))
        order = query_value(request, "order")
        if order == "-exposure":
            crises = crises.order_by(F("exposure_located").desc(nulls_last=True), "-starts_at", "id")
        elif order not in (None, "-starts_at"):
            raise DomainError("invalid", "Invalid input.", fields={"order": ["-exposure or -starts_at."]})
        k = threshold_for(account_of(request))
        return paginated_response(
            request, self, crises, lambda page: CrisisSummaryOutput(page, many=True, context={"k": k}).data
        )

    @extend_schema(
        request=CrisisInput,
        examples=examples.CRISIS,
        responses={
            201: CrisisOutput,
            **errors(
                {
                    400: AREA_400 + " `outside_jurisdiction`: the area touches none of the post's countries.",
                    413: AREA_413,
                }
            ),
        },
    )
    def post(self, request: Request) -> Response:
        data = CrisisInput(data=request.data)
        data.is_valid(raise_exception=True)
        crisis = lifecycle.crisis_declare(user=account_of(request), **data.validated_data)
        return Response(CrisisOutput(crisis).data, status=status.HTTP_201_CREATED)


class CrisisDetailView(APIView):
    permission_classes = [CrisisEditorPermission]
    max_body_bytes = settings.CRISIS_MAX_BODY_BYTES

    @extend_schema(responses=CrisisOutput)
    def get(self, request: Request, crisis_id: uuid.UUID) -> Response:
        return Response(CrisisOutput(_crisis(request, crisis_id)).data)

    @extend_schema(
        request=CrisisPatchInput,
        examples=examples.CRISIS_PATCH,
        responses={
            200: CrisisOutput,
            **errors(
                {
                    400: AREA_400 + " `outside_jurisdiction`: the area touches none of the post's countries.",
                    403: NOT_OWNER,
                    409: "`conflict`: a closed crisis cannot be changed.",
                    413: AREA_413,
                }
            ),
        },
    )
    def patch(self, request: Request, crisis_id: uuid.UUID) -> Response:
        crisis = _crisis(request, crisis_id)
        data = CrisisPatchInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        crisis = lifecycle.crisis_update(crisis=crisis, user=account_of(request), changes=data.validated_data)
        return Response(CrisisOutput(crisis).data)


class CrisisAreaView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(responses=AreaFeatureOutput)
    def get(self, request: Request, crisis_id: uuid.UUID) -> Response:
        return Response(lifecycle.area_feature(_crisis(request, crisis_id)))


class CrisisTransitionView(APIView):
    permission_classes = [CrisisEditorPermission]
    action_name = ""

    @extend_schema(
        request=None,
        responses={
            200: CrisisOutput,
            **errors(
                {
                    403: NOT_OWNER,
                    409: "`conflict`: not a transition from the crisis's status (draft → active → closed).",
                }
            ),
        },
    )
    def post(self, request: Request, crisis_id: uuid.UUID) -> Response:
        crisis = lifecycle.crisis_transition(
            crisis=_crisis(request, crisis_id), user=account_of(request), action=self.action_name
        )
        return Response(CrisisOutput(crisis).data)


class AffectedView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(responses=AffectedOutput)
    def get(self, request: Request, crisis_id: uuid.UUID) -> Response:
        crisis = _crisis(request, crisis_id)
        counts = selectors.affected_counts(crisis=crisis, user=account_of(request))
        k = threshold_for(account_of(request))
        checkins = crisis_checkins(crisis=crisis, user=account_of(request))
        return Response(affected_report(crisis=crisis, counts=counts, suppress_below=k, checkins=checkins))


def _reveal_response(result: reveals.RevealResult) -> Response:
    if result.request is not None and result.travellers is None:
        body = {"status": "pending_approval", "request": RevealRequestOutput(result.request).data}
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Cache-Control": "no-store"})
    return Response(
        {"travellers": result.travellers, "audit_id": result.audit_id}, headers={"Cache-Control": "no-store"}
    )


class RevealView(APIView):
    permission_classes = [IsOfficer]

    @extend_schema(
        request=RevealInput,
        examples=examples.REVEAL,
        responses={
            200: RevealOutput,
            202: RevealPendingOutput,
            **errors({409: "`conflict`: a draft crisis reveals no one: activate it first."}),
        },
    )
    def post(self, request: Request, crisis_id: uuid.UUID) -> Response:
        crisis = _crisis(request, crisis_id)
        data = RevealInput(data=request.data)
        data.is_valid(raise_exception=True)
        return _reveal_response(reveals.reveal(crisis=crisis, user=account_of(request), **data.validated_data))


def _reveal_request(request: Request, request_id: uuid.UUID) -> RevealRequest:
    found = selectors.reveal_request_for(user=account_of(request), request_id=request_id)
    if found is None:
        raise NotFound()
    return found


class RevealRequestListView(APIView):
    permission_classes = [IsOfficer]
    pagination_class = CappedPageNumberPagination  # GET's page, and its shape in the schema

    @extend_schema(responses=RevealRequestOutput(many=True))
    def get(self, request: Request) -> Response:
        requests = selectors.reveal_requests_visible_to(user=account_of(request))
        return paginated_response(request, self, requests, lambda page: RevealRequestOutput(page, many=True).data)


class RevealDecisionView(APIView):
    permission_classes = [IsSupervisor]
    approve = True

    @extend_schema(
        request=None,
        responses={
            200: RevealRequestOutput,
            **errors(
                {
                    403: "`permission_denied`: only supervisors decide; `forbidden`: a request is decided by someone "
                    "other than its requester.",
                    409: "`conflict`: the request is already decided.",
                }
            ),
        },
    )
    def post(self, request: Request, request_id: uuid.UUID) -> Response:
        decided = reveals.reveal_decide(
            request=_reveal_request(request, request_id), user=account_of(request), approve=self.approve
        )
        return Response(RevealRequestOutput(decided).data)


class RevealFetchView(APIView):
    permission_classes = [IsOfficer]

    @extend_schema(
        request=None,
        responses={
            200: RevealOutput,
            **errors(
                {
                    409: "`conflict`: the request is not approved (pending, rejected or already fetched).",
                    410: "`gone`: the approval is more than 24 hours old; request again.",
                }
            ),
        },
    )
    def post(self, request: Request, request_id: uuid.UUID) -> Response:
        return _reveal_response(
            reveals.reveal_fetch(request=_reveal_request(request, request_id), user=account_of(request))
        )
