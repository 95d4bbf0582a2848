from django.urls import include, path

urlpatterns = [
    # First: the public look-ups are the most frequent requests, and patterns are tried in order.
    path("", include("api.advisories.urls")),
    path("", include("api.accounts.urls")),
    path("", include("api.registrations.urls")),
    path("", include("api.crises.urls")),
    path("", include("api.audit.urls")),
    path("", include("api.notifications.urls")),
    path("", include("api.feeds.urls")),
]
