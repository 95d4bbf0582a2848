"""Every /api/ answer is sent with Cache-Control: no-store, errors included; only the public schema and docs are not."""

import json

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from consular.middleware import NoStoreApiMiddleware
from tests.factories import UserFactory, profile_payload

PASSWORD = "correct horse battery staple"


def directives(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part.strip()}


def test_a_bearer_token_is_not_cacheable(api):
    UserFactory.create(email="lead@example.test", password=PASSWORD)
    response = api.post("/api/v1/auth/token", {"email": "lead@example.test", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    assert "token" in response.json()
    assert response["Cache-Control"] == "no-store"


def test_a_citizen_signing_up_gets_an_uncacheable_answer(api):
    response = api.post("/api/v1/auth/register", {"email": "new@example.test", "password": PASSWORD}, format="json")
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("url", ["/api/v1/staff/me", "/api/v1/audit", "/api/v1/reveal-requests"])
def test_staff_answers_are_not_cacheable(client_for, sam, url):
    response = client_for(sam).get(url)
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"


def test_a_400_is_not_cacheable(api):
    response = api.post("/api/v1/auth/register", data='{"email": ', content_type="application/json")
    assert response.status_code == 400
    assert response["Cache-Control"] == "no-store"


def test_a_413_answered_before_any_view_is_not_cacheable(client_for, alice, settings):
    settings.API_MAX_BODY_BYTES = 100
    body = json.dumps(profile_payload())
    response = client_for(alice).generic("PUT", "/api/v1/me/profile", body, content_type="application/json")
    assert response.status_code == 413
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("url", ["/api/v1/no-such-thing", "/api/v2/me"])
def test_an_unknown_api_path_404_is_not_cacheable(api, url):
    response = api.get(url)
    assert response.status_code == 404
    assert response["Cache-Control"] == "no-store"


def test_only_the_public_schema_and_docs_pages_stay_cacheable(api):
    assert "no-store" not in directives(api.get("/api/schema/"))
    assert "no-store" not in directives(api.get("/api/docs/"))
    below = api.get("/api/docs/anything-below")
    assert below.status_code == 404
    assert below["Cache-Control"] == "no-store"


def test_a_header_a_view_already_set_is_kept_and_no_store_added():
    def view(request):
        response = HttpResponse()
        response["Cache-Control"] = "private, no-cache"
        return response

    response = NoStoreApiMiddleware(view)(RequestFactory().get("/api/v1/anything"))
    assert directives(response) == {"private", "no-cache", "no-store"}
