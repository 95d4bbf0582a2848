from django.urls import path

from api.registrations import views

urlpatterns = [
    path("me", views.MeView.as_view(), name="me"),
    path("me/profile", views.ProfileView.as_view(), name="me-profile"),
    path("me/trips", views.TripListView.as_view(), name="me-trips"),
    path("me/trips/<uuid:trip_id>", views.TripDetailView.as_view(), name="me-trip-detail"),
    path("me/export", views.ExportView.as_view(), name="me-export"),
]
