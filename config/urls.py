from django.http import HttpRequest, HttpResponse
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from api.exceptions import json_bad_request, json_not_found, json_server_error
from console.views.auth import not_found_page
from consular import health
from notifications.views import checkin_page

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # GET only: DRF would answer OPTIONS through the page's HTML template renderer,
    # which has no template for it (a 500).
    path(
        "api/docs/", SpectacularSwaggerView.as_view(url_name="schema", http_method_names=["get", "head"]), name="docs"
    ),
    path("checkin/<str:token>", checkin_page, name="checkin-page"),
    # A link cut short at the slash is a bad link like any other: the same page, not JSON.
    path("checkin/", checkin_page, {"token": ""}, name="checkin-page-without-token"),
    path("api/v1/", include("api.urls")),
    path("console/", include("console.urls")),
    # Unknown API paths answer JSON whatever DEBUG says, and whatever the method.
    re_path(r"^api/", json_not_found, name="api-not-found"),
]

handler400 = json_bad_request


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path_info.startswith("/console/"):
        return not_found_page(request, exception)
    return json_not_found(request, exception)


handler404 = not_found
handler500 = json_server_error
