"""Feed sources, for administrators: the feeds the service polls, their state, a poll by hand."""

from __future__ import annotations

import uuid

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import examples
from api.feeds.serializers import AlertOutput, FeedSourceInput, FeedSourceOutput, FeedSourcePatchInput, PollOutput
from api.pagination import CappedPageNumberPagination, paginated_response
from api.params import query_value
from api.permissions import IsAdmin, IsOfficerOrAdmin, IsStaff, account_of
from api.schema import errors
from consular.errors import DomainError
from crises.suppression import suppress_total, threshold_for
from feeds.models import Alert, FeedSource
from feeds.services import alerts, sources

URL_400 = "`invalid`: a field's rule (`fields` names it): the url must be http or https with a host, no credentials."


def _source(source_id: uuid.UUID) -> FeedSource:
    source = FeedSource.objects.filter(pk=source_id).first()
    if source is None:
        raise NotFound()
    return source


class FeedSourceListView(APIView):
    permission_classes = [IsAdmin]
    pagination_class = CappedPageNumberPagination

    @extend_schema(responses=FeedSourceOutput(many=True))
    def get(self, request: Request) -> Response:
        return paginated_response(
            request, self, sources.feed_sources_all(), lambda page: FeedSourceOutput(page, many=True).data
        )

    @extend_schema(
        request=FeedSourceInput,
        examples=examples.FEED_SOURCE,
        responses={201: FeedSourceOutput, **errors({400: URL_400, 409: "`conflict`: another source has this name."})},
    )
    def post(self, request: Request) -> Response:
        data = FeedSourceInput(data=request.data)
        data.is_valid(raise_exception=True)
        source = sources.feed_source_create(data=data.validated_data)
        return Response(FeedSourceOutput(source).data, status=status.HTTP_201_CREATED)


class FeedSourceDetailView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(responses=FeedSourceOutput)
    def get(self, request: Request, source_id: uuid.UUID) -> Response:
        return Response(FeedSourceOutput(_source(source_id)).data)

    @extend_schema(
        request=FeedSourcePatchInput,
        examples=examples.FEED_SOURCE_PATCH,
        responses={200: FeedSourceOutput, **errors({400: URL_400, 409: "`conflict`: another source has this name."})},
    )
    def patch(self, request: Request, source_id: uuid.UUID) -> Response:
        source = _source(source_id)
        data = FeedSourcePatchInput(data=request.data)
        data.is_valid(raise_exception=True)
        source = sources.feed_source_update(source=source, changes=data.validated_data)
        return Response(FeedSourceOutput(source).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, source_id: uuid.UUID) -> Response:
        sources.feed_source_delete(source=_source(source_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class FeedSourcePollView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(request=None, responses=PollOutput)
    def post(self, request: Request, source_id: uuid.UUID) -> Response:
        """One run now, as the schedule would (at most 10 s to fetch): its outcome, or why it failed."""
        result = sources.feed_source_poll(source=_source(source_id))
        counts = result.summary.as_dict() if result.summary is not None else {}
        body = {
            "changed": result.changed,
            "failure": result.failure,
            **{name: counts.get(name, 0) for name in ("created", "updated", "cancelled", "unchanged", "activated")},
            **{name: counts.get(name, []) for name in ("skipped", "flagged", "errors")},
        }
        return Response(body)


def alert_body(alert: Alert, k: int | None) -> dict:
    body = {
        "id": str(alert.pk),
        "crisis": str(alert.crisis_id),
        "title": alert.crisis.title,
        "severity": alert.crisis.severity,
        "status": alert.crisis.status,
        "created_at": alert.created_at,
        "acknowledged_at": alert.acknowledged_at,
    }
    for name in ("located", "persons"):
        cell = suppress_total(getattr(alert, name), k) if k else None
        body[name] = cell.count if cell else getattr(alert, name)
        if cell and cell.suppressed:
            body[f"{name}_suppressed"] = True
    return body


class AlertListView(APIView):
    permission_classes = [IsStaff]
    pagination_class = CappedPageNumberPagination

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "acknowledged", str, enum=["true", "false"], description="Only entries (not) acknowledged."
            )
        ],
        responses=AlertOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        """The post's inbox: feed crises that hold registrations of its countries, newest first."""
        user = account_of(request)
        entries = alerts.alerts_for(user=user)
        wanted = query_value(request, "acknowledged")
        if wanted is not None:
            if wanted not in ("true", "false"):
                raise DomainError("invalid", "Invalid input.", fields={"acknowledged": ["true or false."]})
            entries = entries.filter(acknowledged_at__isnull=wanted == "false")
        k = threshold_for(user)
        return paginated_response(request, self, entries, lambda page: [alert_body(alert, k) for alert in page])


class AlertAckView(APIView):
    permission_classes = [IsOfficerOrAdmin]

    @extend_schema(request=None, responses={200: AlertOutput, **errors({409: "`conflict`: already acknowledged."})})
    def post(self, request: Request, alert_id: uuid.UUID) -> Response:
        user = account_of(request)
        alert = alerts.alerts_for(user=user).filter(pk=alert_id).first()
        if alert is None:
            raise NotFound()
        alert = alerts.alert_acknowledge(alert=alert, user=user)
        return Response(alert_body(alert, threshold_for(user)))
