from __future__ import annotations

from datetime import UTC, datetime

from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from accounts.selectors import audit_entries_visible_to
from api.pagination import CappedPageNumberPagination, paginated_response
from api.params import query_value
from api.permissions import account_of
from consular.errors import DomainError
from consular.models import AuditEntry


class AuditEntryOutput(serializers.ModelSerializer):
    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "at",
            "actor_id",
            "actor_role",
            "action",
            "object_type",
            "object_id",
            "details",
            "prev_hash",
            "hash",
        ]


def _utc_time(text: str) -> datetime:
    """An ISO 8601 time with its zone, as UTC: PostgreSQL refuses offsets beyond ±15:59 that ISO allows."""
    problem = ["Expected an ISO 8601 time with zone."]
    try:
        moment = parse_datetime(text)
    except ValueError:  # well-formed but not a real time: 2026-02-30, 24:00
        moment = None
    if moment is None or moment.tzinfo is None:
        raise DomainError("invalid", "Invalid input.", fields={"since": problem})
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:  # 0001-01-01T00:00+01:00 is before the first year
        raise DomainError("invalid", "Invalid input.", fields={"since": ["Out of range."]}) from exc


class CanReadAudit(BasePermission):
    role_restricted = True
    message = "The audit log is for supervisors."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.role in (Role.SUPERVISOR, Role.ADMIN))


class AuditListView(APIView):
    """Supervisors read their post's entries, admins every entry, oldest first."""

    permission_classes = [CanReadAudit]
    pagination_class = CappedPageNumberPagination  # GET's page, and its shape in the schema

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "since", OpenApiTypes.DATETIME, description="Entries at or after this ISO 8601 time, with its zone."
            )
        ],
        responses=AuditEntryOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        since = query_value(request, "since")
        moment = _utc_time(since) if since else None
        entries = audit_entries_visible_to(user=account_of(request), since=moment)
        return paginated_response(request, self, entries, lambda page: AuditEntryOutput(page, many=True).data)
