from __future__ import annotations

from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from accounts.selectors import audit_entries_visible_to
from api.pagination import CappedPageNumberPagination, paginated_response
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


class CanReadAudit(BasePermission):
    message = "The audit log is for supervisors."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.role in (Role.SUPERVISOR, Role.ADMIN))


class AuditListView(APIView):
    """Supervisors read their post's entries, admins every entry, oldest first."""

    permission_classes = [CanReadAudit]
    pagination_class = CappedPageNumberPagination  # GET's page, and its shape in the schema

    @extend_schema(
        parameters=[OpenApiParameter("since", str, description="ISO 8601 time")], responses=AuditEntryOutput(many=True)
    )
    def get(self, request: Request) -> Response:
        since = request.query_params.get("since")
        moment = None
        if since:
            try:
                moment = parse_datetime(since)
            except ValueError:  # well-formed but not a real time: 2026-02-30, 24:00
                moment = None
            if moment is None or moment.tzinfo is None:
                raise DomainError(
                    "invalid", "Invalid input.", fields={"since": ["Expected an ISO 8601 time with zone."]}
                )
        entries = audit_entries_visible_to(user=account_of(request), since=moment)
        return paginated_response(request, self, entries, lambda page: AuditEntryOutput(page, many=True).data)
