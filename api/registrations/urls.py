from django.urls import path

from api.registrations import views

urlpatterns = [
    path("me", views.MeView.as_view(), name="me"),
    path("me/profile", views.ProfileView.as_view(), name="me-profile"),
    path("me/trips", views.TripListView.as_view(), name="me-trips"),
    path("me/trips/<uuid:trip_id>", views.TripDetailView.as_view(), name="me-trip-detail"),
    path("me/companions", views.CompanionListView.as_view(), name="me-companions"),
    path("me/companions/<uuid:companion_id>", views.CompanionDetailView.as_view(), name="me-companion-detail"),
    path("me/residences", views.ResidenceListView.as_view(), name="me-residences"),
    path("me/residences/<uuid:residence_id>", views.ResidenceDetailView.as_view(), name="me-residence-detail"),
    path(
        "me/residences/<uuid:residence_id>/confirm",
        views.ResidenceConfirmView.as_view(),
        name="me-residence-confirm",
    ),
    path("me/export", views.ExportView.as_view(), name="me-export"),
]
