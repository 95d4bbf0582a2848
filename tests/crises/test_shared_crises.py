"""A crisis over two posts' countries: each post sees it, acts only within its own jurisdiction.

Fiji's post declares a cyclone area covering Fiji and Tonga; Tonga's post sees the
crisis too, but not Fiji's stays, campaigns, check-ins or reveal requests, and it
cannot redraw or close Fiji's crisis.
"""

import pytest

from accounts.models import Role
from consular.models import AuditEntry
from crises.models import Crisis
from crises.services.lifecycle import crisis_transition
from notifications import messages
from notifications.services import checkins
from tests.factories import PostFactory, StaffFactory, add_stay, declared_crisis, launched_campaign, traveller_with_stay

FIJI_AND_TONGA = {"type": "Polygon", "coordinates": [[[177, -22], [186, -22], [186, -16], [177, -16], [177, -22]]]}
REASON = "Cyclone landfall: welfare calls to every affected citizen."


@pytest.fixture
def fiona():
    return StaffFactory.create(
        email="fiona@mfa.example", role=Role.OFFICER, post=PostFactory.create(name="Suva", countries=["FJ"])
    )


@pytest.fixture
def tina():
    return StaffFactory.create(
        email="tina@mfa.example", role=Role.OFFICER, post=PostFactory.create(name="Nuku'alofa", countries=["TO"])
    )


@pytest.fixture
def fred(fiona):
    return StaffFactory.create(email="fred@mfa.example", role=Role.SUPERVISOR, post=fiona.post)


@pytest.fixture
def tom(tina):
    return StaffFactory.create(email="tom@mfa.example", role=Role.SUPERVISOR, post=tina.post)


@pytest.fixture
def crisis(fiona):
    return crisis_transition(crisis=declared_crisis(fiona, area=FIJI_AND_TONGA), user=fiona, action="activate")


def test_both_posts_see_the_crisis(client_for, fiona, tina, crisis):
    for user in (fiona, tina):
        assert client_for(user).get(f"/api/v1/crises/{crisis.pk}").status_code == 200


def test_a_reveal_shows_only_the_stays_in_the_callers_jurisdiction(client_for, tina, crisis):
    traveller = traveller_with_stay(lon=178.0, lat=-18.0, country="FJ", city="Suva")
    add_stay(traveller, country="TO", lon=-175.2, lat=-21.2, city="Nuku'alofa")
    add_stay(traveller, country="TO")  # country precision: not asked for
    response = client_for(tina).post(f"/api/v1/crises/{crisis.pk}/affected/reveal", {"reason": REASON}, format="json")
    (record,) = response.json()["travellers"]
    assert [(stay["country"], stay["city"]) for stay in record["stays"]] == [("TO", "Nuku'alofa")]


@pytest.mark.parametrize("verb", ["get", "close"])
def test_another_posts_officer_cannot_reach_a_campaign(client_for, fiona, tina, crisis, verb):
    traveller_with_stay(lon=178.0, lat=-18.0, country="FJ")
    campaign = launched_campaign(fiona, crisis)
    client = client_for(tina)
    if verb == "get":
        response = client.get(f"/api/v1/campaigns/{campaign.pk}")
    else:
        response = client.post(f"/api/v1/campaigns/{campaign.pk}/close")
    assert response.status_code == 404
    assert client_for(fiona).get(f"/api/v1/campaigns/{campaign.pk}").json()["status"] == "queued"


def test_a_supervisor_of_the_same_post_sees_the_campaign(client_for, fiona, fred, crisis):
    traveller_with_stay(lon=178.0, lat=-18.0, country="FJ")
    campaign = launched_campaign(fiona, crisis)
    assert client_for(fred).get(f"/api/v1/campaigns/{campaign.pk}").json()["recipients"] == 1


def test_check_in_counts_are_the_callers_posts_only(client_for, fiona, tina, crisis):
    traveller = traveller_with_stay(lon=178.0, lat=-18.0, country="FJ")
    campaign = launched_campaign(fiona, crisis)
    checkins.checkin_record(token=messages.checkin_token(campaign.pk, traveller.pk), status="need_help", message=None)
    fiji = client_for(fiona).get(f"/api/v1/crises/{crisis.pk}/affected").json()
    tonga = client_for(tina).get(f"/api/v1/crises/{crisis.pk}/affected").json()
    assert fiji["checkins"] == {"safe": 0, "need_help": 1, "no_response": 0}
    assert tonga["checkins"] is None


def test_another_posts_supervisor_neither_sees_nor_decides_a_reveal_request(
    client_for, fiona, fred, tom, crisis, settings
):
    settings.REVEAL_APPROVAL_ABOVE = 0
    traveller_with_stay(lon=178.0, lat=-18.0, country="FJ")
    pending = client_for(fiona).post(f"/api/v1/crises/{crisis.pk}/affected/reveal", {"reason": REASON}, format="json")
    request_id = pending.json()["request"]["id"]
    assert client_for(tom).get("/api/v1/reveal-requests").json()["results"] == []
    assert client_for(tom).post(f"/api/v1/reveal-requests/{request_id}/approve").status_code == 404
    assert client_for(fred).post(f"/api/v1/reveal-requests/{request_id}/approve").json()["status"] == "approved"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("patch", "", {"area": {"type": "Circle", "center": [-175.2, -21.2], "radius_km": 50}}),
        ("patch", "", {"title": "Renamed elsewhere"}),
        ("post", "/close", None),
    ],
)
def test_only_the_declaring_post_changes_a_shared_crisis(client_for, fiona, tina, crisis, method, path, body):
    response = getattr(client_for(tina), method)(f"/api/v1/crises/{crisis.pk}{path}", body, format="json")
    assert response.status_code == 403
    crisis.refresh_from_db()
    assert crisis.countries == ["FJ", "TO"] and crisis.status == "active" and crisis.title != "Renamed elsewhere"
    assert client_for(fiona).get(f"/api/v1/crises/{crisis.pk}").status_code == 200


def test_an_admin_changes_any_crisis_and_only_admins_change_an_admins(client_for, fiona, ada, crisis):
    assert client_for(ada).patch(f"/api/v1/crises/{crisis.pk}", {"title": "By HQ"}, format="json").status_code == 200
    admins = declared_crisis(ada)
    assert Crisis.objects.get(pk=admins.pk).post is None
    response = client_for(fiona).patch(f"/api/v1/crises/{admins.pk}", {"title": "Mine now"}, format="json")
    assert response.status_code == 403


def test_a_redrawn_area_is_recorded_in_the_audit_log(client_for, fiona, crisis):
    probe = {"type": "Circle", "center": [178.0, -18.0], "radius_km": 0.05}
    assert client_for(fiona).patch(f"/api/v1/crises/{crisis.pk}", {"area": probe}, format="json").status_code == 200
    entry = AuditEntry.objects.filter(action="crisis.update").latest("id")
    assert entry.details["fields"] == ["area"]
    assert entry.details["area_km2"] < 0.01
    assert entry.details["bounds"][0] == pytest.approx(178.0, abs=0.001)
    assert len(entry.details["area_sha256"]) == 64
