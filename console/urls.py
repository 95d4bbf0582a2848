from django.urls import path

from console.views import auth, crises, people, situation

app_name = "console"

urlpatterns = [
    path("login/", auth.login_page, name="login"),
    path("logout/", auth.logout_page, name="logout"),
    path("", situation.situation_page, name="situation"),
    path("data/countries.json", situation.countries_data, name="countries-data"),
    path("data/crises.json", situation.crises_data, name="crises-data"),
    path("data/preview.json", crises.preview_data, name="preview-data"),
    path("crises/new/", crises.declare_page, name="declare"),
    path("crises/<uuid:crisis_id>/", crises.crisis_page, name="crisis"),
    path("crises/<uuid:crisis_id>/progress.json", crises.crisis_progress_data, name="crisis-progress"),
    path("crises/<uuid:crisis_id>/transition/", crises.crisis_transition_page, name="crisis-transition"),
    path("crises/<uuid:crisis_id>/campaign/", crises.campaign_page, name="campaign"),
    path("crises/<uuid:crisis_id>/reveal/", people.reveal_page, name="reveal"),
    path("reveals/", people.reveal_queue_page, name="reveal-queue"),
    path("reveals/<uuid:request_id>/", people.reveal_request_page, name="reveal-request"),
    path("audit/", people.audit_page, name="audit"),
    path("audit/verify/", people.audit_verify_page, name="audit-verify"),
    path("proposals/", people.proposals_page, name="proposals"),
    path("feeds/", people.feed_sources_page, name="feed-sources"),
    path("proposals/<uuid:alert_id>/acknowledge/", people.proposal_acknowledge_page, name="proposal-acknowledge"),
]
