from django.urls import path

from api.notifications import views

urlpatterns = [
    path("crises/<uuid:crisis_id>/campaigns", views.CampaignCreateView.as_view(), name="campaign-create"),
    path("campaigns/<uuid:campaign_id>", views.CampaignDetailView.as_view(), name="campaign-detail"),
    path("campaigns/<uuid:campaign_id>/close", views.CampaignCloseView.as_view(), name="campaign-close"),
    path("checkins/<str:token>", views.CheckInView.as_view(), name="checkin-api"),
]
