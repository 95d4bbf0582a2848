"""One error shape for every 4xx/5xx: ``{"error": {"code", "message", "fields"?}}``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from consular.errors import DomainError

_CODES = {
    exceptions.ParseError: "malformed_request",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


def _flatten(detail: Any, prefix: str = "") -> Any:
    """DRF's nested errors as ``{"path.to.field": [messages]}``, the shape the register's rules give.

    A nested object's or list item's errors (``{"channels": {"0": [...]}}``) become one
    dotted path each (``channels.0``), so every value of ``fields`` is a list of messages.
    """
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            nested = _flatten(value, path)
            if isinstance(nested, dict):
                flat.update(nested)
            else:
                flat[path] = nested
        return flat
    if isinstance(detail, list):
        if any(isinstance(item, dict | list) for item in detail):
            flat = {}
            for index, item in enumerate(detail):
                path = f"{prefix}.{index}" if prefix else str(index)
                nested = _flatten(item, path)
                if isinstance(nested, dict):
                    flat.update(nested)
                elif nested:
                    flat[path] = nested if isinstance(nested, list) else [nested]
            return flat
        return [str(item) for item in detail]
    return [str(detail)]


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        answer = Response(error_body(exc.code, exc.message, exc.fields), status=exc.status, headers=exc.headers)
        return _challenge(answer)
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body("payload_too_large", "Request body is too large."), status=413)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        return None  # a genuine server error: Django's handler500 renders it
    if isinstance(exc, exceptions.ValidationError):
        detail = _flatten(exc.detail)
        fields = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        response.data = error_body("invalid", "Invalid input.", fields)
    else:
        code = _CODES.get(type(exc)) or next(
            (value for klass, value in _CODES.items() if isinstance(exc, klass)), "error"
        )
        # DRF answers only its own APIException (and Http404, PermissionDenied: mapped above).
        response.data = error_body(code, str(getattr(exc, "detail", "")))
    return _challenge(response)


def _challenge(response: Response) -> Response:
    # Every 401 says how to authenticate (RFC 9110), a refused login's too.
    if response.status_code == status.HTTP_401_UNAUTHORIZED:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@csrf_exempt  # a POST to an unknown API path is a 404 like any other, not an HTML CSRF page
def json_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("not_found", "Not found."), status=404)


def json_bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    # Django's own refusals before any view: a Host not in ALLOWED_HOSTS, a suspicious request.
    return JsonResponse(error_body("bad_request", "Bad request."), status=400)


def json_server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(error_body("server_error", "Internal server error."), status=500)
