"""Who may open which console page: the API's roles, read from the signed-in session."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import redirect

from accounts.models import STAFF_ROLES, Role, User

OFFICERS = frozenset({Role.OFFICER, Role.SUPERVISOR})
DECLARERS = frozenset({Role.OFFICER, Role.SUPERVISOR, Role.ADMIN})


def json_error(code: str, message: str, *, status: int, headers: dict[str, str] | None = None) -> JsonResponse:
    """The console's data endpoints answer refusals in the API's error shape."""
    response = JsonResponse({"error": {"code": code, "message": message}}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def staff(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # guarded by console_view: only for the type checker
        raise TypeError("not signed in")
    return user


def console_view(*, roles: frozenset[str] = STAFF_ROLES, data: bool = False) -> Callable:
    """A page (or, with ``data``, a JSON endpoint) for signed-in staff of these roles.

    Signed out: pages go to the sign-in form, data answers 401. Another role: 403.
    """

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated or not isinstance(user, User) or not user.is_staff_member:
                if data:
                    return json_error("not_authenticated", "Sign in.", status=401)
                return redirect(f"{settings.LOGIN_URL}?{urlencode({'next': request.path})}")
            if user.role not in roles:
                if data:
                    return json_error("forbidden", "Not for your role.", status=403)
                return HttpResponseForbidden("This page is not for your role.")
            return view(request, *args, **kwargs)

        return guarded

    return decorate
