"""Every URL is closed to anonymous callers unless it is on this explicit allowlist."""

import re
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

PUBLIC_URL_NAMES = {
    "healthz",
    "readyz",
    "schema",
    "docs",
    "auth-register",
    "auth-token",
    "api-not-found",
    "checkin-api",  # anonymous by design: the signed token in the message is the credential
    "checkin-page",
    "checkin-page-without-token",
    "advisory-lookup",  # mobile apps, anonymous by design: nothing about the caller is kept
    "advisory-country",
    "advisory-bundle",
}

SAMPLE_BY_CONVERTER = {"uuid": str(uuid.uuid4()), "int": "1", "str": "sample", "slug": "sample", "path": "sample"}


def iter_patterns(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from iter_patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.name


def concrete(route: str) -> str:
    route = route.lstrip("^").rstrip("$")
    route = re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE_BY_CONVERTER[m.group(1) or "str"], route)
    return "/" + route.replace(".*", "anything")


ALL_URLS = sorted(set(iter_patterns(get_resolver().url_patterns)))
# The officer console answers in pages: signed out, a page sends to its sign-in form and its
# JSON data answers 401. Only the sign-in form and sign-out are open.
CONSOLE_URLS = [u for u in ALL_URLS if u[0].startswith("console/")]
CONSOLE_PUBLIC = {"console/login/", "console/logout/"}


def test_every_public_name_still_exists():
    assert {name for _, name in ALL_URLS} >= PUBLIC_URL_NAMES


@pytest.mark.parametrize(
    ("route", "name"), [u for u in ALL_URLS if u[1] not in PUBLIC_URL_NAMES and u not in CONSOLE_URLS]
)
@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_non_public_urls_answer_401_without_credentials(route, name, method):
    response = getattr(APIClient(), method)(concrete(route), {}, format="json")
    assert response.status_code == 401, f"{method.upper()} {route} ({name}) answered {response.status_code}"
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize(("route", "name"), [u for u in CONSOLE_URLS if u[0] not in CONSOLE_PUBLIC])
@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_console_urls_send_the_signed_out_to_the_sign_in_form(route, name, method):
    response = getattr(APIClient(), method)(concrete(route), {}, format="json")
    if route.endswith(".json"):
        assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"
    else:
        assert response.status_code == 302 and response["Location"].startswith("/console/login/?next=")
