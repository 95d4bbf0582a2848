"""Campaigns and check-ins for households: each person reached once, one answer for all or one each."""

import re

import pytest
from django.core import mail

from notifications import messages
from notifications.models import CheckIn, Delivery
from notifications.selectors import campaign_progress, crisis_checkins
from notifications.services import sending
from privacy.services.erasure import person_erase
from registrations.models import Traveller
from tests.factories import companion_payload, household, launched_campaign, trip_payload

SUVA = {"country": "FJ", "city": "Suva", "start_date": "2026-11-01", "end_date": "2026-11-30"}
FAMILY = [
    # The wife has her own phone and may be texted; the children have no contact of their own.
    companion_payload(
        given_name="Losa",
        date_of_birth="1988-02-11",
        relation="wife",
        phone="+64 21 765 4321",
        email="losa@example.test",
        contact_directly=True,
    ),
    companion_payload(given_name="Mele", date_of_birth="2014-06-02", relation="daughter"),
    companion_payload(given_name="Tevita", date_of_birth="2018-09-20", relation="son"),
]


@pytest.fixture
def family(olivia, active_crisis):
    user, ids = household(companions=FAMILY, trips=[trip_payload(stays=[SUVA])])
    traveller = Traveller.objects.get(user=user)
    campaign = launched_campaign(olivia, active_crisis, channels=("email",))
    return campaign, traveller, ids


def test_a_campaign_messages_the_registrant_and_the_companion_allowed_and_awaits_all_four(family):
    campaign, traveller, (losa, _, _) = family
    deliveries = {(t, str(c) if c else None, channel) for t, c, channel in
                  Delivery.objects.values_list("traveller_id", "companion_id", "channel")}  # fmt: skip
    assert deliveries == {(traveller.pk, None, "email"), (traveller.pk, losa, "email")}
    assert (campaign.recipients, campaign.persons) == (2, 4)
    assert campaign_progress(campaign)["checkins"] == {"safe": 0, "need_help": 0, "no_response": 4}


def test_the_dry_run_counts_the_same_people(client_for, olivia, active_crisis):
    household(companions=FAMILY, trips=[trip_payload(stays=[SUVA])])
    body = {"messages": {"en": "Are you safe? {checkin_url}"}, "default_language": "en", "channels": ["email"],
            "ask_checkin": True, "dry_run": True}  # fmt: skip
    answer = client_for(olivia).post(f"/api/v1/crises/{active_crisis.pk}/campaigns", body, format="json").json()
    assert (answer["recipients"], answer["persons"], answer["by_channel"]) == (2, 4, {"email": 2})


def test_each_person_gets_their_own_link_and_their_own_name(family):
    campaign, _, _ = family
    sending.send_batch(campaign_id=str(campaign.pk), first=0, last=2**62)
    bodies = {message.to[0]: message.body for message in mail.outbox}
    assert set(bodies) == {"ana@example.test", "losa@example.test"}
    links = {to: re.findall(r"/checkin/(\S+)", str(body)) for to, body in bodies.items()}
    assert links["ana@example.test"] != links["losa@example.test"]


def test_all_safe_answers_for_everyone_the_link_covers(api, family):
    campaign, traveller, _ids = family
    token = messages.checkin_token(campaign.pk, traveller.pk)
    response = api.post(f"/api/v1/checkins/{token}", {"all": "safe"}, format="json")
    assert response.status_code == 200, response.content
    assert [person["status"] for person in response.json()["persons"]] == ["safe"] * 4
    assert campaign_progress(campaign)["checkins"] == {"safe": 4, "need_help": 0, "no_response": 0}


def test_a_per_person_check_in_counts_per_person(api, family):
    campaign, traveller, (_, mele, _) = family
    token = messages.checkin_token(campaign.pk, traveller.pk)
    body = {"status": "safe", "persons": {mele: "need_help"}}
    assert api.post(f"/api/v1/checkins/{token}", body, format="json").status_code == 200
    assert campaign_progress(campaign)["checkins"] == {"safe": 1, "need_help": 1, "no_response": 2}


def test_the_old_status_body_still_answers_for_the_link_holder_alone(api, family):
    campaign, traveller, _ = family
    token = messages.checkin_token(campaign.pk, traveller.pk)
    answer = api.post(f"/api/v1/checkins/{token}", {"status": "safe"}, format="json").json()
    assert answer["status"] == "safe"
    assert CheckIn.objects.get().companion_id is None


def test_a_companions_own_link_answers_for_them_alone(api, family):
    campaign, traveller, (losa, mele, _) = family
    token = messages.checkin_token(campaign.pk, traveller.pk, losa)
    assert api.get(f"/api/v1/checkins/{token}").json()["persons"] == [
        {"id": "self", "given_name": "Losa", "status": None}
    ]
    assert api.post(f"/api/v1/checkins/{token}", {"persons": {mele: "safe"}}, format="json").status_code == 400
    assert api.post(f"/api/v1/checkins/{token}", {"status": "need_help"}, format="json").status_code == 200
    assert str(CheckIn.objects.get().companion_id) == losa


@pytest.mark.parametrize(
    "body",
    [
        {"all": "safe", "status": "safe"},
        {"persons": {"00000000-0000-4000-8000-000000000000": "safe"}},
        {"persons": {"self": "maybe"}},
        {"message": "hello"},
        {},
    ],
)
def test_a_check_in_that_says_nothing_valid_gets_400_and_writes_nothing(api, family, body):
    campaign, traveller, _ = family
    token = messages.checkin_token(campaign.pk, traveller.pk)
    assert api.post(f"/api/v1/checkins/{token}", body, format="json").status_code == 400
    assert not CheckIn.objects.exists()


def test_the_crisis_counts_check_ins_per_person(api, olivia, active_crisis, family):
    campaign, traveller, _ = family
    api.post(f"/api/v1/checkins/{messages.checkin_token(campaign.pk, traveller.pk)}", {"all": "safe"}, format="json")
    assert crisis_checkins(crisis=active_crisis, user=olivia) == {"safe": 4, "need_help": 0, "no_response": 0}


def test_an_erased_household_leaves_the_campaigns_figures_adding_up(olivia, active_crisis, family):
    campaign, traveller, _ = family
    household(companions=FAMILY[1:], trips=[trip_payload(stays=[SUVA])])  # three more, registrant reached
    campaign = launched_campaign(olivia, active_crisis, channels=("email",))
    assert (campaign.recipients, campaign.persons) == (3, 7)
    person_erase(user=traveller.user)
    campaign.refresh_from_db()
    assert (campaign.recipients, campaign.persons) == (1, 3)
    assert campaign_progress(campaign)["checkins"]["no_response"] == 3


def test_a_companion_removed_after_the_launch_is_not_messaged(family):
    campaign, traveller, (losa, _, _) = family
    traveller.companions.filter(pk=losa).delete()
    sending.send_batch(campaign_id=str(campaign.pk), first=0, last=2**62)
    assert [message.to[0] for message in mail.outbox] == ["ana@example.test"]
    assert Delivery.objects.get(companion_id=losa).status == "cancelled"
