from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import patch_cache_control

from consular.logging import request_id_var

access_log = logging.getLogger("consular.access")

_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestContextMiddleware:
    """Gives every request an id (kept from a sane ``X-Request-ID``) and logs one access line.

    The access line names the matched *route* (``api/v1/posts/<uuid:post_id>``),
    never the path or query string: paths carry ids and check-in tokens, and a query
    string may carry anything a client put there.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        supplied = request.headers.get("X-Request-ID", "")
        request_id = supplied if _CLIENT_REQUEST_ID.match(supplied) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            match = getattr(request, "resolver_match", None)
            access_log.info(
                "request",
                extra={
                    "method": request.method,
                    "route": "/" + match.route if match else "<unmatched>",
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            return response
        finally:
            request_id_var.reset(token)


def payload_too_large(limit: int) -> JsonResponse:
    return JsonResponse(
        {"error": {"code": "payload_too_large", "message": f"Request body exceeds {limit} bytes."}},
        status=413,
    )


def length_required() -> JsonResponse:
    return JsonResponse(
        {"error": {"code": "length_required", "message": "Send the body with a Content-Length, not chunked."}},
        status=411,
    )


class BodySizeLimitMiddleware:
    """Refuses bodies above the limit (413) before anything reads them, and bodies of unknown length (411).

    The limit is ``API_MAX_BODY_BYTES`` unless the view declares its own
    ``max_body_bytes`` (crisis areas are legitimately larger than a login).
    """

    # Methods whose requests carry a body the views read.
    BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Django reads a body by CONTENT_LENGTH only: a chunked body (Transfer-Encoding,
        # no Content-Length) reads as empty, so a PATCH would succeed changing nothing, a
        # DELETE would run, and the size check below would never see the body. Refuse it.
        if (
            request.method in self.BODY_METHODS
            and "HTTP_TRANSFER_ENCODING" in request.META
            and not request.META.get("CONTENT_LENGTH")
        ):
            return length_required()
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Callable, view_args: tuple, view_kwargs: dict):
        view_class = getattr(view_func, "cls", None) or getattr(view_func, "view_class", None)
        limit = getattr(view_class, "max_body_bytes", None) or settings.API_MAX_BODY_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse(
                {"error": {"code": "bad_request", "message": "Invalid Content-Length header."}}, status=400
            )
        if length > limit:
            return payload_too_large(limit)
        return None


class NoStoreApiMiddleware:
    """Sends ``Cache-Control: no-store`` on every ``/api/`` response, errors and unknown paths included.

    API answers carry bearer tokens, personal data or the fact that someone asked, so no
    browser or proxy may keep them. The OpenAPI schema and its docs page are exempt: they
    are served without authentication, the same to everyone, and hold no data, so caching
    them is harmless (static files live under ``/static/`` and never match). A directive a
    view already set is kept; ``no-store`` is added beside it, and nothing is duplicated.
    """

    PREFIX = "/api/"
    # exact paths: anything below them is a 404. The advisories bundle is public, the same to everyone, and
    # holds no personal data: apps and proxies are meant to keep it (its ETag says when it changed).
    CACHEABLE = frozenset({"/api/schema/", "/api/docs/", "/api/v1/advisories/bundle"})

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        path = request.path_info
        if path.startswith(self.PREFIX) and path not in self.CACHEABLE:
            patch_cache_control(response, no_store=True)
        return response
