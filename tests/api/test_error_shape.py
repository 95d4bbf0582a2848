"""Bad input, by family: each gets a clear 4xx in the one error shape and writes nothing."""

import json

import pytest

from accounts.models import User
from registrations.models import Traveller
from tests.factories import profile_payload


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def test_malformed_json_gets_400_and_writes_nothing(api):
    response = api.post("/api/v1/auth/register", data='{"email": "a@example.test", ', content_type="application/json")
    assert_error(response, 400, "malformed_request")
    assert not User.objects.exists()


def test_a_lone_surrogate_escape_gets_400_and_writes_nothing(client_for, alice):
    # Valid JSON but not encodable text: it used to reach the encryption and fail with a 500.
    body = json.dumps(profile_payload()).replace('"Ana"', '"\\ud800"', 1)
    assert "\\ud800" in body
    response = client_for(alice).generic("PUT", "/api/v1/me/profile", body, content_type="application/json")
    assert_error(response, 400, "malformed_request")
    assert not Traveller.objects.exists()


def test_runaway_nesting_gets_400(api):
    response = api.post("/api/v1/auth/register", data="[" * 5000 + "]" * 5000, content_type="application/json")
    assert_error(response, 400, "malformed_request")


def test_a_number_too_large_for_a_float_gets_400(api):
    response = api.post("/api/v1/auth/register", data='{"email": 1e999}', content_type="application/json")
    assert_error(response, 400, "malformed_request")


def test_a_body_in_another_declared_charset_is_read_in_that_charset(client_for, alice):
    body = json.dumps(profile_payload(given_name="Ren\u00e9"), ensure_ascii=False).encode("latin-1")
    response = client_for(alice).generic(
        "PUT", "/api/v1/me/profile", body, content_type="application/json; charset=latin-1"
    )
    assert response.status_code == 200, response.content
    assert response.json()["given_name"] == "Ren\u00e9"


@pytest.mark.parametrize("charset", ["base64", "zlib", "rot13"])
def test_a_charset_that_is_not_a_text_encoding_gets_415(api, charset):
    response = api.generic("POST", "/api/v1/auth/register", b"{}", content_type=f"application/json; charset={charset}")
    assert_error(response, 415, "unsupported_media_type")


def test_a_json_array_instead_of_an_object_gets_400(api):
    response = api.post("/api/v1/auth/register", data="[1, 2]", content_type="application/json")
    error = assert_error(response, 400, "invalid")
    assert error["fields"]["non_field_errors"]


@pytest.mark.parametrize("email", [123, True, None, ["a@example.test"], {"a": 1}])
def test_wrong_types_get_400_naming_the_field(api, email):
    response = api.post("/api/v1/auth/register", {"email": email, "password": "long enough password"}, format="json")
    error = assert_error(response, 400, "invalid")
    assert "email" in error["fields"]
    assert not User.objects.exists()


def test_unknown_fields_get_400_naming_them(api):
    response = api.post(
        "/api/v1/auth/register",
        {"email": "a@example.test", "password": "long enough password", "is_admin": True},
        format="json",
    )
    error = assert_error(response, 400, "invalid")
    assert error["fields"] == {"is_admin": ["Unknown field."]}
    assert not User.objects.exists()


def test_missing_fields_get_400_naming_them(api):
    error = assert_error(api.post("/api/v1/auth/register", {}, format="json"), 400, "invalid")
    assert set(error["fields"]) == {"email", "password"}


def test_overlong_strings_get_400(api):
    response = api.post(
        "/api/v1/auth/register", {"email": "a" * 300 + "@example.test", "password": "x" * 20}, format="json"
    )
    assert_error(response, 400, "invalid")


def test_an_oversized_body_gets_413_and_writes_nothing(api, settings):
    settings.API_MAX_BODY_BYTES = 1000
    body = '{"email": "a@example.test", "password": "' + "x" * 2000 + '"}'
    response = api.post("/api/v1/auth/register", data=body, content_type="application/json")
    assert_error(response, 413, "payload_too_large")
    assert not User.objects.exists()


def test_a_form_encoded_body_gets_415(api):
    response = api.post(
        "/api/v1/auth/register", data="email=a@example.test", content_type="application/x-www-form-urlencoded"
    )
    assert_error(response, 415, "unsupported_media_type")


def test_an_unknown_api_path_gets_a_json_404(api):
    assert_error(api.get("/api/v1/no-such-thing"), 404, "not_found")
    assert_error(api.post("/api/v2/anything"), 404, "not_found")


def test_a_post_to_an_unknown_api_path_gets_a_json_404_even_with_csrf_checks_on():
    from rest_framework.test import APIClient

    response = APIClient(enforce_csrf_checks=True).post("/api/v1/auth/login", {"email": "x"}, format="json")
    assert_error(response, 404, "not_found")


def test_an_unknown_path_outside_the_api_gets_a_json_404(api):
    assert_error(api.get("/nothing-here"), 404, "not_found")


def test_a_wrong_method_gets_405(api):
    assert_error(api.get("/api/v1/auth/token"), 405, "method_not_allowed")


def test_an_unexpected_server_error_gets_a_json_500_without_details(api, monkeypatch):
    from accounts import services

    def explode(**kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(services, "citizen_register", explode)
    api.raise_request_exception = False
    response = api.post(
        "/api/v1/auth/register", {"email": "a@example.test", "password": "long enough password"}, format="json"
    )
    error = assert_error(response, 500, "server_error")
    assert "secret" not in error["message"]


def chunked(client, method, path, payload=None):
    """A request whose body is sent chunked: Transfer-Encoding, and no Content-Length."""
    from django.test.client import FakePayload

    body = json.dumps(payload).encode() if payload is not None else b""
    return client.generic(
        method,
        path,
        CONTENT_TYPE="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": FakePayload(body)},
    )


def test_a_chunked_profile_patch_gets_411_and_changes_nothing(client_for, alice):
    client = client_for(alice)
    assert client.put("/api/v1/me/profile", profile_payload(), format="json").status_code == 200
    response = chunked(client, "PATCH", "/api/v1/me/profile", {"given_name": "Changed"})
    assert_error(response, 411, "length_required")
    assert response["Cache-Control"] == "no-store"
    assert client.get("/api/v1/me/profile").json()["given_name"] == "Ana"


def test_a_chunked_sign_up_gets_411_and_writes_nothing(api):
    response = chunked(api, "POST", "/api/v1/auth/register", {"email": "a@example.test", "password": "x" * 20})
    assert_error(response, 411, "length_required")
    assert not User.objects.exists()


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_other_chunked_writes_get_411_before_the_view_runs(client_for, alice, method):
    client = client_for(alice)
    client.put("/api/v1/me/profile", profile_payload(), format="json")
    path = "/api/v1/me/profile" if method == "PUT" else "/api/v1/me"
    assert_error(chunked(client, method, path, profile_payload(given_name="Changed")), 411, "length_required")
    assert client.get("/api/v1/me/profile").json()["given_name"] == "Ana"


def test_a_chunked_read_is_answered_as_usual(client_for, alice):
    client = client_for(alice)
    client.put("/api/v1/me/profile", profile_payload(), format="json")
    assert chunked(client, "GET", "/api/v1/me/profile").status_code == 200


def test_a_write_with_transfer_encoding_and_a_content_length_is_not_refused(client_for, alice):
    client = client_for(alice)
    response = client.put("/api/v1/me/profile", profile_payload(), format="json", HTTP_TRANSFER_ENCODING="identity")
    assert response.status_code == 200


def _nested(levels: int, leaf: object = 1) -> object:
    value = leaf
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/auth/token", {"email": _nested(950), "password": "x"}),
        ("/api/v1/auth/register", {"email": _nested(950), "password": "x"}),
    ],
    ids=["token", "register"],
)
def test_deep_nesting_inside_a_value_gets_400_before_any_login(api, path, body):
    response = api.post(path, data=json.dumps(body), content_type="application/json")
    assert_error(response, 400, "malformed_request")
    assert "nested more than" in response.json()["error"]["message"]
    assert not User.objects.exists()


def test_a_body_as_deep_as_the_limit_is_read(api):
    from api.parsers import MAX_JSON_DEPTH

    body = {"email": _nested(MAX_JSON_DEPTH - 1), "password": "x"}
    response = api.post("/api/v1/auth/register", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"  # read, then refused by the rules, not the parser


def test_a_key_twice_in_one_object_gets_400_naming_it(api):
    body = '{"email": "a@example.test", "password": "x", "email": "b@example.test"}'
    response = api.post("/api/v1/auth/register", data=body, content_type="application/json")
    assert_error(response, 400, "malformed_request")
    assert '"email" appears twice' in response.json()["error"]["message"]
    assert not User.objects.exists()


def test_a_key_twice_in_a_nested_object_gets_400(client_for, alice):
    body = json.dumps(profile_payload()).replace('"contact": true', '"contact": true, "contact": false', 1)
    response = client_for(alice).generic("PUT", "/api/v1/me/profile", body, content_type="application/json")
    assert_error(response, 400, "malformed_request")
    assert not Traveller.objects.exists()


def test_invalid_utf8_is_called_invalid_utf8_not_a_surrogate(api):
    response = api.generic("POST", "/api/v1/auth/register", b'{"email": "\xff"}', content_type="application/json")
    assert_error(response, 400, "malformed_request")
    message = response.json()["error"]["message"]
    assert "not valid UTF-8 at byte 11" in message
    assert "surrogate" not in message


def test_a_crisis_area_of_nested_geometry_collections_gets_400(client_for, olivia):
    polygon = '{"type": "Polygon", "coordinates": [[[178, -18], [179, -18], [179, -17], [178, -18]]]}'
    # Written out: the standard library's encoder itself cannot nest 500 levels.
    area = '{"type": "GeometryCollection", "geometries": [' * 500 + polygon + "]}" * 500
    body = f'{{"title": "Deep", "severity": "severe", "starts_at": "2026-11-10T00:00:00Z", "area": {area}}}'
    response = client_for(olivia).post("/api/v1/crises", data=body, content_type="application/json")
    assert_error(response, 400, "malformed_request")


def test_a_throttled_sign_up_says_when_to_try_again(api, settings):
    settings.SIGNUPS_PER_ADDRESS = 1
    api.post("/api/v1/auth/register", {"email": "first@example.test", "password": "long enough words"}, format="json")
    response = api.post(
        "/api/v1/auth/register", {"email": "second@example.test", "password": "long enough words"}, format="json"
    )
    assert_error(response, 429, "throttled")
    assert 0 < int(response["Retry-After"]) <= settings.SIGNUP_WINDOW_SECONDS


@pytest.mark.parametrize("query", ["page=0", "page=abc", "page_size=0", "page_size=-5", "page_size=2.5"])
def test_a_page_or_page_size_that_is_not_a_whole_number_from_1_gets_400_naming_it(client_for, ada, query):
    response = client_for(ada).get(f"/api/v1/posts?{query}")
    assert_error(response, 400, "invalid")
    assert set(response.json()["error"]["fields"]) == {query.split("=")[0]}


def test_a_page_past_the_last_is_404(client_for, ada):
    assert client_for(ada).get("/api/v1/posts?page=2").status_code == 404


@pytest.mark.parametrize("query", ["page=1&page=2", "page_size=1&page_size=200", "status=active&status=draft"])
def test_a_query_parameter_given_twice_gets_400(client_for, ada, query):
    path = "/api/v1/crises" if query.startswith("status") else "/api/v1/posts"
    response = client_for(ada).get(f"{path}?{query}")
    assert_error(response, 400, "malformed_request")
    assert "twice" in response.json()["error"]["message"]


def test_the_errors_of_a_list_item_are_named_by_a_dotted_path(client_for, olivia):
    from tests.factories import crisis_payload

    crisis = client_for(olivia).post("/api/v1/crises", crisis_payload(), format="json").json()
    client_for(olivia).post(f"/api/v1/crises/{crisis['id']}/activate")
    body = {"messages": {"en": "Hi"}, "default_language": "en", "channels": ["email", "pigeon"]}
    response = client_for(olivia).post(f"/api/v1/crises/{crisis['id']}/campaigns", body, format="json")
    assert_error(response, 400, "invalid")
    assert list(response.json()["error"]["fields"]) == ["channels.1"]
    assert all(isinstance(messages, list) for messages in response.json()["error"]["fields"].values())


def test_a_reveal_for_a_country_that_does_not_exist_gets_400(client_for, olivia):
    from tests.factories import crisis_payload

    crisis = client_for(olivia).post("/api/v1/crises", crisis_payload(), format="json").json()
    client_for(olivia).post(f"/api/v1/crises/{crisis['id']}/activate")
    response = client_for(olivia).post(
        f"/api/v1/crises/{crisis['id']}/affected/reveal",
        {"reason": "Evacuation flight seats to allocate", "country": "ZZ"},
        format="json",
    )
    assert_error(response, 400, "invalid")
    assert "country" in response.json()["error"]["fields"]


def test_a_text_longer_than_its_limit_only_once_padded_is_refused_as_the_schema_says(api):
    # The schema's maxLength counts the value as sent: white space around it included.
    response = api.post("/api/v1/auth/token", {"email": " " * 250 + "a@example.test", "password": "x"}, format="json")
    assert_error(response, 400, "invalid")


def test_a_host_the_service_does_not_answer_to_gets_a_json_400(api):
    response = api.get("/api/v1/posts", HTTP_HOST="attacker.example")
    assert_error(response, 400, "bad_request")


def test_a_refused_login_says_how_to_authenticate(api):
    response = api.post("/api/v1/auth/token", {"email": "no@example.test", "password": "wrong"}, format="json")
    assert_error(response, 401, "invalid_credentials")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_an_empty_query_parameter_counts_as_absent(client_for, ada):
    assert client_for(ada).get("/api/v1/crises?status=&page=").status_code == 200


def test_the_last_page_is_reached_by_name(client_for, ada):
    assert client_for(ada).get("/api/v1/posts?page=last").status_code == 200
