"""The advisory look-up answered at the WSGI edge, before Django's request cycle.

Every app asks it, anonymously, with nothing to look up in the database: Django's
middleware and URL resolution cost more than the answer (docs/benchmarks.md, "Advisory
look-ups"). Only a request that needs nothing of them is answered here: a POST of a
well-formed body of at most 1 KB, JSON, to an allowed host, over HTTPS where HTTPS is
required, from a client under its rate limit. Anything else goes to Django, which answers
it as every other request (400, 405, 415, 429, the redirect to HTTPS) in the usual shape.

The headers are Django's own: the first look-up of each scheme in a process goes through
Django, and its answer's headers (security headers, Cache-Control, content type) are
kept as the template of the fast answers; only X-Request-ID and Content-Length differ.
The access line is the one RequestContextMiddleware writes.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.signals import request_finished, request_started
from django.http.request import split_domain_port, validate_host
from rest_framework.exceptions import APIException

from accounts.throttling import client_address_of
from advisories.services import lookups
from api.advisories.views import LOOKUP_PATH, MAX_LOOKUP_BYTES, languages_of_header, lookup_body, point_of
from api.parsers import parse_json
from consular.errors import DomainError
from consular.logging import request_id_var

access_log = logging.getLogger("consular.access")
_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_VARYING = {"content-length", "x-request-id"}

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict, StartResponse], Iterable[bytes]]


class LookupEdge:
    def __init__(self, django: WSGIApp) -> None:
        self.django = django
        self.templates: dict[bool, list[tuple[str, str]]] = {}  # by "is HTTPS", Django's headers

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != LOOKUP_PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.django(environ, start_response)
        secure = _is_secure(environ)
        template = self.templates.get(secure)
        if template is None or not _allowed(environ, secure):
            return self._through_django(environ, start_response, secure)
        started = time.perf_counter()
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        content_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if not 0 < length <= MAX_LOOKUP_BYTES or content_type != "application/json":
            return self.django(environ, start_response)
        raw = environ["wsgi.input"].read(length)
        try:
            lat, lon = point_of(parse_json(raw))
            lookups.LIMIT.check(client_address_of(environ))
        except (DomainError, APIException):  # Django words the refusal, reading the same body again
            environ["wsgi.input"] = _Replay(raw)
            return self.django(environ, start_response)
        supplied = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = supplied if _CLIENT_REQUEST_ID.match(supplied) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        # Django's request signals, so its connection handling (close_old_connections:
        # CONN_MAX_AGE, CONN_HEALTH_CHECKS, a connection broken by a restart) applies here too:
        # the index reads its fingerprint from the database once a second.
        request_started.send(sender=self.__class__, environ=environ)
        try:
            body = lookup_body(lat, lon, languages_of_header(environ.get("HTTP_ACCEPT_LANGUAGE", "")))
        except Exception:
            request_finished.send(sender=self.__class__)
            request_id_var.reset(token)
            environ["wsgi.input"] = _Replay(raw)
            return self.django(environ, start_response)
        try:
            headers = [*template, ("Content-Length", str(len(body))), ("X-Request-ID", request_id)]
            start_response("200 OK", headers)
            access_log.info(
                "request",
                extra={"method": "POST", "route": LOOKUP_PATH, "status": 200,
                       "duration_ms": round((time.perf_counter() - started) * 1000, 2)},
            )  # fmt: skip
            return [body]
        finally:
            request_finished.send(sender=self.__class__)
            request_id_var.reset(token)

    def _through_django(self, environ: dict, start_response: StartResponse, secure: bool) -> Iterable[bytes]:
        """Django answers; a 200's headers become this scheme's template."""

        def keep(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            if status.startswith("200 ") and secure not in self.templates:
                self.templates[secure] = [(name, value) for name, value in headers if name.lower() not in _VARYING]
            return start_response(status, headers, *exc_info)

        return self.django(environ, keep)


class _Replay:
    """The body already read, for Django to read again."""

    def __init__(self, raw: bytes) -> None:
        self.raw, self.position = raw, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.raw) if size is None or size < 0 else self.position + size
        chunk, self.position = self.raw[self.position : end], min(end, len(self.raw))
        return chunk

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)


def _is_secure(environ: dict) -> bool:
    """As HttpRequest.is_secure: the configured proxy header, else the WSGI scheme."""
    if settings.SECURE_PROXY_SSL_HEADER:
        header, secure_value = settings.SECURE_PROXY_SSL_HEADER
        value = environ.get(header)
        if value is not None:
            return value.split(",")[0].strip() == secure_value
    return environ.get("wsgi.url_scheme") == "https"


def _allowed(environ: dict, secure: bool) -> bool:
    """What Django checks before any view: a host it serves, and HTTPS where it redirects to it."""
    if settings.SECURE_SSL_REDIRECT and not secure:
        return False  # Django redirects (or exempts): its answer
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
    if settings.USE_X_FORWARDED_HOST and environ.get("HTTP_X_FORWARDED_HOST"):
        return False
    domain, _ = split_domain_port(host)
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    return bool(domain) and validate_host(domain, allowed)
