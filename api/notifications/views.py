from __future__ import annotations

import re
import uuid

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import examples
from api.lookups import crisis_or_404
from api.notifications.serializers import (
    CampaignAccepted,
    CampaignInput,
    CampaignProgressOutput,
    CheckInAnswerOutput,
    CheckInInput,
    DryRunOutput,
)
from api.permissions import IsOfficer, IsStaff, Public, account_of
from api.schema import errors
from consular.errors import DomainError
from crises.suppression import threshold_for
from notifications import selectors
from notifications.services import campaigns, checkins

_IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9._:-]{8,100}")


def _accepted(campaign) -> Response:
    body = {
        "id": str(campaign.pk),
        "status": campaign.status,
        "recipients": campaign.recipients,
        "persons": campaign.persons,
    }
    return Response(body, status=status.HTTP_202_ACCEPTED)


class CampaignCreateView(APIView):
    permission_classes = [IsOfficer]

    @extend_schema(
        request=CampaignInput,
        examples=examples.CAMPAIGN,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                pattern=f"^{_IDEMPOTENCY_KEY.pattern}$",
                description="A retried POST with the same key answers with the first campaign and creates nothing.",
            )
        ],
        responses={
            200: DryRunOutput,
            202: CampaignAccepted,
            **errors(
                {
                    400: "`malformed_request`; `invalid`: a field's rule, a channel that is not configured, a message "
                    "too long for SMS once rendered, or a malformed Idempotency-Key header.",
                    409: "`conflict`: the crisis is not active, or the Idempotency-Key was used for another crisis.",
                }
            ),
        },
    )
    def post(self, request: Request, crisis_id: uuid.UUID) -> Response:
        crisis = crisis_or_404(user=account_of(request), crisis_id=crisis_id)
        key = request.headers.get("Idempotency-Key")
        if key is not None and not _IDEMPOTENCY_KEY.fullmatch(key):
            raise DomainError("invalid", "Invalid Idempotency-Key header: 8 to 100 of A-Z a-z 0-9 . _ : -.")
        data = CampaignInput(data=request.data)
        data.is_valid(raise_exception=True)
        dry_run = data.validated_data.pop("dry_run")
        wanted = campaigns.campaign_validate(data.validated_data, crisis=crisis)
        if dry_run:
            result = campaigns.campaign_dry_run(crisis=crisis, user=account_of(request), request=wanted)
            return Response(DryRunOutput(result).data)
        campaign = campaigns.campaign_launch(
            crisis=crisis, user=account_of(request), request=wanted, idempotency_key=key or ""
        )
        return _accepted(campaign)


def _campaign(request: Request, campaign_id: uuid.UUID):
    campaign = selectors.campaign_for(user=account_of(request), campaign_id=campaign_id)
    if campaign is None:
        raise NotFound()
    return campaign


class CampaignDetailView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(responses=CampaignProgressOutput)
    def get(self, request: Request, campaign_id: uuid.UUID) -> Response:
        k = threshold_for(account_of(request))
        return Response(selectors.campaign_progress(_campaign(request, campaign_id), suppress_below=k))


class CampaignCloseView(APIView):
    permission_classes = [IsOfficer]

    @extend_schema(
        request=None,
        responses={200: CampaignProgressOutput, **errors({409: "`conflict`: the campaign is already closed."})},
    )
    def post(self, request: Request, campaign_id: uuid.UUID) -> Response:
        campaign = campaigns.campaign_close(campaign=_campaign(request, campaign_id), user=account_of(request))
        return Response(selectors.campaign_progress(campaign))


FORGED = "`not_found`: the link is not one this service made (or its person or campaign is gone)."
GONE = "`gone`: the link has expired, or the campaign is closed and takes no more answers."


class CheckInView(APIView):
    """Anonymous, by the signed token of the link in the message: the crisis title and the answer only."""

    permission_classes = [Public]
    authentication_classes: list = []

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "no-referrer"
        return response

    def _answer(self, token: str) -> dict:
        link = checkins.checkin_context(token)
        return {"crisis": link.campaign.crisis.title, **checkins.checkin_answers(link)}

    @extend_schema(responses={200: CheckInAnswerOutput, **errors({404: FORGED, 410: GONE})})
    def get(self, request: Request, token: str) -> Response:
        return Response(self._answer(token))

    @extend_schema(
        request=CheckInInput,
        examples=examples.CHECK_IN,
        responses={200: CheckInAnswerOutput, **errors({404: FORGED, 410: GONE})},
    )
    def post(self, request: Request, token: str) -> Response:
        checkins.checkin_context(token)  # a forged or expired token is refused before the body is read
        data = CheckInInput(data=request.data)
        data.is_valid(raise_exception=True)
        answers = {name: value for name, value in data.validated_data.items() if value is not None}
        checkins.checkin_record(token=token, **answers)
        return Response(self._answer(token))
