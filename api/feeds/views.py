"""Feed sources, for administrators: the feeds the service polls, their state, a poll by hand."""

from __future__ import annotations

import uuid

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import examples
from api.feeds.serializers import FeedSourceInput, FeedSourceOutput, FeedSourcePatchInput, PollOutput
from api.pagination import CappedPageNumberPagination, paginated_response
from api.permissions import IsAdmin
from api.schema import errors
from feeds.models import FeedSource
from feeds.services import sources

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
            request, self, FeedSource.objects.all(), lambda page: FeedSourceOutput(page, many=True).data
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
