from django.urls import include, path

urlpatterns = [
    path("", include("api.accounts.urls")),
    path("", include("api.registrations.urls")),
    path("", include("api.crises.urls")),
    path("", include("api.audit.urls")),
    path("", include("api.notifications.urls")),
    path("", include("api.feeds.urls")),
    path("", include("api.advisories.urls")),
]
