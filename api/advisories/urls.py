from django.urls import path

from api.advisories import views

urlpatterns = [
    path("advisories", views.CountryLookupView.as_view(), name="advisory-country"),
    path("advisories/lookup", views.LookupView.as_view(), name="advisory-lookup"),
    path("advisories/bundle", views.BundleView.as_view(), name="advisory-bundle"),
    path("advisories/countries", views.AdvisoryListView.as_view(), name="advisory-list"),
    path("advisories/countries/<str:country>", views.AdvisoryDetailView.as_view(), name="advisory-detail"),
]
