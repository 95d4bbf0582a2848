import re

import pytest


def test_the_openapi_schema_is_served(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/auth/token" in schema["paths"]
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_the_interactive_docs_load_only_local_assets(api):
    response = api.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    external = re.findall(r"""(?:src|href)=["'](https?://[^"']+)""", html)
    assert external == []
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html


def test_the_docs_assets_are_served_by_the_app(api):
    from django.test import Client

    html = api.get("/api/docs/").content.decode()
    found = re.search(r"""src=["'](/static/drf_spectacular_sidecar/[^"']+\.js)""", html)
    assert found is not None, "the docs page loads no script from the sidecar"
    response = Client().get(found.group(1))
    assert response.status_code == 200


def test_the_docs_page_answers_other_methods_with_405_not_an_error(api):
    # OPTIONS used to go through the page's template renderer, which has no template for it.
    for method in ("options", "post", "delete"):
        assert getattr(api, method)("/api/docs/").status_code == 405


def _schema(api) -> dict:
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


@pytest.mark.parametrize(
    ("path", "item_field"),
    [
        ("/api/v1/me/trips", "stays"),
        ("/api/v1/crises", "status"),
        ("/api/v1/reveal-requests", "status"),
        ("/api/v1/audit", "action"),
    ],
)
def test_each_list_is_described_as_a_page_with_its_query_parameters(api, path, item_field):
    schema = _schema(api)
    operation = schema["paths"][path]["get"]
    parameters = {parameter["name"]: parameter for parameter in operation.get("parameters", [])}
    assert parameters["page"]["in"] == "query"
    assert parameters["page_size"]["in"] == "query"
    page = _resolve(schema, operation["responses"]["200"]["content"]["application/json"]["schema"])
    assert page["type"] == "object"
    assert set(page["properties"]) == {"count", "next", "previous", "results"}
    results = page["properties"]["results"]
    assert results["type"] == "array"
    assert item_field in _resolve(schema, results["items"])["properties"]


def test_creating_a_trip_is_still_described_as_one_trip_without_page_parameters(api):
    schema = _schema(api)
    operation = schema["paths"]["/api/v1/me/trips"]["post"]
    assert not {parameter["name"] for parameter in operation.get("parameters", [])} & {"page", "page_size"}
    created = _resolve(schema, operation["responses"]["201"]["content"]["application/json"]["schema"])
    assert {"id", "stays", "warnings"} <= set(created["properties"])


def test_every_operation_documents_its_errors_in_the_one_error_shape(api):
    for path, operations in _schema(api)["paths"].items():
        for method, operation in operations.items():
            errors = {code: response for code, response in operation["responses"].items() if code >= "400"}
            # The server's own refusals can meet any request.
            assert {"400", "406", "413", "414", "417", "431", "501"} <= set(errors), (method, path)
            for response in errors.values():
                assert response["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/ErrorResponse"
                }
                assert "`" in response["description"], (method, path)  # names its codes


def test_public_operations_say_so_and_the_others_need_a_bearer_token(api):
    public = {("post", "/api/v1/auth/register"), ("post", "/api/v1/auth/token"), ("get", "/api/v1/checkins/{token}"),
              ("post", "/api/v1/checkins/{token}"), ("post", "/api/v1/advisories/lookup"),
              ("get", "/api/v1/advisories"), ("get", "/api/v1/advisories/bundle")}  # fmt: skip
    for path, operations in _schema(api)["paths"].items():
        for method, operation in operations.items():
            if (method, path) in public:
                assert operation["security"] == [], (method, path)
            else:
                assert operation["security"] == [{"bearerAuth": []}], (method, path)
                assert "401" in operation["responses"], (method, path)


def test_throttled_operations_document_retry_after(api):
    for path in ("/api/v1/auth/register", "/api/v1/auth/token"):
        response = _schema(api)["paths"][path]["post"]["responses"]["429"]
        assert response["headers"]["Retry-After"]["required"] is True


def test_every_401_documents_its_challenge(api):
    for operations in _schema(api)["paths"].values():
        for operation in operations.values():
            if "401" in operation["responses"]:
                assert operation["responses"]["401"]["headers"]["WWW-Authenticate"]["required"] is True


def test_every_write_shows_an_example_body(api):
    for path, operations in _schema(api)["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if method in ("post", "put", "patch") and body and "properties" in _resolve(_schema(api), body["schema"]):
                assert body.get("examples"), (method, path)


def test_a_blank_optional_text_is_described_once_not_as_two_overlapping_choices(api):
    schemas = _schema(api)["components"]["schemas"]
    relation = schemas["EmergencyContactInputRequest"]["properties"]["relation"]
    assert "oneOf" not in relation
    assert re.fullmatch(relation["pattern"], "")


def test_every_request_body_refuses_unknown_fields(api):
    schemas = _schema(api)["components"]["schemas"]
    requests = {name: schema for name, schema in schemas.items() if name.endswith("Request")}
    assert requests
    assert all(schema.get("additionalProperties") is False for schema in requests.values())
