import re


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
    asset = re.search(r"""src=["'](/static/drf_spectacular_sidecar/[^"']+\.js)""", html).group(1)
    response = Client().get(asset)
    assert response.status_code == 200


def test_the_docs_page_answers_other_methods_with_405_not_an_error(api):
    # OPTIONS used to go through the page's template renderer, which has no template for it.
    for method in ("options", "post", "delete"):
        assert getattr(api, method)("/api/docs/").status_code == 405
