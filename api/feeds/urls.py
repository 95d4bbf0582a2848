from django.urls import path

from api.feeds import views

urlpatterns = [
    path("feed-sources", views.FeedSourceListView.as_view(), name="feed-source-list"),
    path("feed-sources/<uuid:source_id>", views.FeedSourceDetailView.as_view(), name="feed-source-detail"),
    path("feed-sources/<uuid:source_id>/poll", views.FeedSourcePollView.as_view(), name="feed-source-poll"),
    path("alerts", views.AlertListView.as_view(), name="alert-list"),
    path("alerts/<uuid:alert_id>/ack", views.AlertAckView.as_view(), name="alert-ack"),
]
