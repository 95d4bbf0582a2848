"""Sessions, the signed-in officer and strict headers, for the console's paths only."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

PREFIX = "/console/"


def content_security_policy() -> str:
    """No inline script or style, no eval, nothing from another origin (but a configured tile server's images)."""
    images = "'self' data:"
    if settings.CONSOLE_TILE_URL:
        parts = urlsplit(settings.CONSOLE_TILE_URL.replace("{s}", "a"))
        images += f" {parts.scheme}://{parts.netloc}"
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        f"img-src {images}; connect-src 'self'; font-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    )


class ConsoleMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.csp = content_security_policy()
        self.console = SessionMiddleware(AuthenticationMiddleware(self._headers))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(PREFIX):
            return self.console(request)  # type: ignore[return-value]
        return self.get_response(request)

    def _headers(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response["Content-Security-Policy"] = self.csp
        response["X-Frame-Options"] = "DENY"
        # same-origin, not no-referrer: Chromium then sends "Origin: null" with a form, which CSRF refuses.
        # Other sites still get no referrer at all.
        response["Referrer-Policy"] = "same-origin"
        # Every console page may show personal data or counts about people: never stored.
        add_never_cache_headers(response)
        response["Cache-Control"] = "no-store, private"
        return response
