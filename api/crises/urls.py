from django.urls import path

from api.crises import views

urlpatterns = [
    path("crises", views.CrisisListView.as_view(), name="crisis-list"),
    path("crises/<uuid:crisis_id>", views.CrisisDetailView.as_view(), name="crisis-detail"),
    path("crises/<uuid:crisis_id>/area", views.CrisisAreaView.as_view(), name="crisis-area"),
    path(
        "crises/<uuid:crisis_id>/activate",
        views.CrisisTransitionView.as_view(action_name="activate"),
        name="crisis-activate",
    ),
    path("crises/<uuid:crisis_id>/close", views.CrisisTransitionView.as_view(action_name="close"), name="crisis-close"),
    path("crises/<uuid:crisis_id>/affected", views.AffectedView.as_view(), name="crisis-affected"),
    path("crises/<uuid:crisis_id>/affected/reveal", views.RevealView.as_view(), name="crisis-reveal"),
    path("reveal-requests", views.RevealRequestListView.as_view(), name="reveal-request-list"),
    path(
        "reveal-requests/<uuid:request_id>/approve",
        views.RevealDecisionView.as_view(approve=True),
        name="reveal-request-approve",
    ),
    path(
        "reveal-requests/<uuid:request_id>/reject",
        views.RevealDecisionView.as_view(approve=False),
        name="reveal-request-reject",
    ),
    path("reveal-requests/<uuid:request_id>/fetch", views.RevealFetchView.as_view(), name="reveal-request-fetch"),
]
