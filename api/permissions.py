"""Who may call what. The default (settings) is "authenticated"; public views say so explicitly."""

from __future__ import annotations

from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from accounts.models import STAFF_ROLES, Role, User


class Public(BasePermission):
    """The explicit allowlist marker: only views that must work without an account use it.

    tests/api/test_url_permissions.py calls every URL without credentials and
    fails when a view outside its allowlist answers anything but 401.
    """

    def has_permission(self, request, view) -> bool:
        return True


class IsCitizen(BasePermission):
    role_restricted = True  # a 403 for other roles (api.schema documents it)
    message = "This endpoint is for citizens."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.role == Role.CITIZEN)


class IsStaff(BasePermission):
    role_restricted = True  # a 403 for other roles (api.schema documents it)
    message = "This endpoint is for consular staff."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.role in STAFF_ROLES)


class IsOfficer(BasePermission):
    """Officers and supervisors act on people (reveal, notify); analysts and admins do not."""

    role_restricted = True  # a 403 for other roles (api.schema documents it)

    message = "This endpoint is for consular officers."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.role in {Role.OFFICER, Role.SUPERVISOR})


class IsSupervisor(BasePermission):
    role_restricted = True  # a 403 for other roles (api.schema documents it)
    message = "This endpoint is for supervisors."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.role == Role.SUPERVISOR)


class IsAdmin(BasePermission):
    role_restricted = True  # a 403 for other roles (api.schema documents it)
    message = "This endpoint is for administrators."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.role == Role.ADMIN)


class IsOfficerOrAdmin(BasePermission):
    """Officers and supervisors act for their post; admins for any."""

    role_restricted = True  # a 403 for other roles (api.schema documents it)
    message = "This endpoint is for consular officers and administrators."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.role in {Role.OFFICER, Role.SUPERVISOR, Role.ADMIN})


def account_of(request: Request) -> User:
    """The caller's account. Every view that is not Public has one (the default permission
    is "authenticated"), so this only turns that guarantee into a type; a view that is
    reached without one anyway answers 401, never acts for nobody."""
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated()
    return user
