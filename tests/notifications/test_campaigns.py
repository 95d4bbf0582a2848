import pytest
from django_q.models import OrmQ

from consular.errors import DomainError
from notifications.models import Campaign, Delivery
from tests.factories import traveller_with_stay

CAMPAIGN = {
    "messages": {
        "en": "Cyclone warning. {given_name}, are you safe? {checkin_url}",
        "fr": "Alerte cyclone, {given_name}.",
    },
    "default_language": "en",
    "channels": ["email", "sms"],
    "ask_checkin": True,
}


def launch(client, crisis, body=None, **headers):
    return client.post(f"/api/v1/crises/{crisis.pk}/campaigns", body or CAMPAIGN, format="json", **headers)


@pytest.fixture
def officer(client_for, olivia):
    return client_for(olivia)


@pytest.fixture
def three_affected(active_crisis):
    traveller_with_stay(lon=178.0, lat=-18.0)
    traveller_with_stay(lon=178.1, lat=-18.1)
    traveller_with_stay(lon=178.2, lat=-18.2, consent=False)
    traveller_with_stay(lon=0.0, lat=0.0, country="GH")  # elsewhere


def test_a_dry_run_answers_counts_only(officer, active_crisis, three_affected, sms):
    response = launch(officer, active_crisis, {**CAMPAIGN, "dry_run": True})
    assert response.status_code == 200
    assert response.json() == {
        "recipients": 2,
        "persons": 2,
        "by_channel": {"email": 2, "sms": 2},
        "by_language": {"en": 2},
        "without_consent": 1,
    }
    assert not Campaign.objects.exists()
    assert not OrmQ.objects.exists()


def test_a_campaign_creates_one_delivery_per_consenting_traveller_and_channel(
    officer, active_crisis, three_affected, sms
):
    response = launch(officer, active_crisis)
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued" and body["recipients"] == 2
    assert Delivery.objects.count() == 4
    assert set(Delivery.objects.values_list("channel", flat=True)) == {"email", "sms"}


def test_batches_are_queued_after_commit_with_ids_only(officer, active_crisis, three_affected, sms,
                                                      django_capture_on_commit_callbacks):  # fmt: skip
    from django_q.signing import SignedPackage

    with django_capture_on_commit_callbacks(execute=True):
        launch(officer, active_crisis)
    (queued,) = OrmQ.objects.all()
    task = SignedPackage.loads(queued.payload)
    campaign = Campaign.objects.get()
    assert task["func"] == "notifications.tasks.send_batch"
    assert task["args"][0] == str(campaign.pk)
    assert all(isinstance(arg, int) for arg in task["args"][1:])
    text = repr(task)
    for personal in ("Ana", "Tuilagi", "+6421", "@example.test", "Cyclone warning"):
        assert personal not in text


def test_a_replayed_idempotency_key_returns_the_same_campaign(officer, active_crisis, three_affected, sms):
    first = launch(officer, active_crisis, HTTP_IDEMPOTENCY_KEY="retry-key-12345").json()
    second = launch(officer, active_crisis, HTTP_IDEMPOTENCY_KEY="retry-key-12345").json()
    assert first["id"] == second["id"]
    assert Campaign.objects.count() == 1
    assert Delivery.objects.count() == 4


@pytest.mark.parametrize("key", ["", "short", "has spaces in it", "ключ-12345678"])
def test_a_malformed_idempotency_key_gets_400_even_on_a_dry_run(officer, active_crisis, sms, key):
    response = launch(officer, active_crisis, {**CAMPAIGN, "dry_run": True}, HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["error"]["message"]


def test_a_campaign_with_no_recipients_is_accepted_with_zero_and_done(officer, active_crisis, sms):
    body = launch(officer, active_crisis).json()
    assert body == {"id": body["id"], "status": "done", "recipients": 0, "persons": 0}
    assert not OrmQ.objects.exists()


def test_an_idempotency_key_reused_for_another_crisis_is_409(officer, olivia, active_crisis, three_affected, sms):
    from crises.services.lifecycle import crisis_transition
    from tests.factories import declared_crisis

    assert launch(officer, active_crisis, HTTP_IDEMPOTENCY_KEY="retry-key-12345").status_code == 202
    other = crisis_transition(crisis=declared_crisis(olivia), user=olivia, action="activate")
    assert launch(officer, other, HTTP_IDEMPOTENCY_KEY="retry-key-12345").status_code == 409
    assert Campaign.objects.count() == 1


def test_an_analyst_reads_a_campaigns_small_counts_suppressed(client_for, officer, ann, active_crisis, sms):
    traveller_with_stay(lon=178.0, lat=-18.0)
    campaign_id = launch(officer, active_crisis).json()["id"]
    body = client_for(ann).get(f"/api/v1/campaigns/{campaign_id}").json()
    assert body["recipients"] is None and body["recipients_suppressed"] is True
    assert body["queued"] is None and body["queued_suppressed"] is True
    assert body["checkins"]["no_response"] is None and body["checkins"]["no_response_suppressed"] is True
    assert body["sent"] == 0
    assert officer.get(f"/api/v1/campaigns/{campaign_id}").json()["recipients"] == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"channels": []}, "channels"),
        ({"channels": ["pigeon"]}, "channels.0"),
        ({"messages": {}}, "messages"),
        ({"messages": {"en": "  "}}, "messages.en"),
        ({"messages": {"klingon-xx-yy": "Hello"}}, "messages.klingon-xx-yy"),
        ({"messages": {"en": "Hello\u0000there"}}, "messages.en"),
        ({"messages": {"en": "Hello\u001bthere"}}, "messages.en"),
        # 35 characters as sent, 40 once standardised (sh → sr-Latn): too long to store.
        (
            {"messages": {"sh-x-aaaaaaaa-bbbbbbbb-cccccccc-ddd": "Hello"}},
            "messages.sh-x-aaaaaaaa-bbbbbbbb-cccccccc-ddd",
        ),
        ({"default_language": "sh-x-aaaaaaaa-bbbbbbbb-cccccccc-ddd"}, "default_language"),
        ({"messages": {"en": "Hello {surname}"}}, "messages.en"),
        ({"messages": {"en": "x" * 470}}, "messages.en"),  # too long for SMS once the link is added
        ({"default_language": "de"}, "default_language"),
        ({"ask_checkin": "yes"}, "ask_checkin"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_campaigns_get_400_and_create_and_queue_nothing(officer, active_crisis, three_affected, sms, change, field):
    response = launch(officer, active_crisis, {**CAMPAIGN, **change})
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert not Campaign.objects.exists()
    assert not OrmQ.objects.exists()


def test_sms_is_refused_when_no_provider_is_configured(officer, active_crisis, three_affected, settings):
    settings.SMS_PROVIDER_URL = ""
    response = launch(officer, active_crisis)
    assert response.status_code == 400
    assert "channels" in response.json()["error"]["fields"]


@pytest.mark.parametrize("action", [None, "close"])
def test_campaigns_go_only_to_active_crises(officer, ada, action, sms):
    from crises.services.lifecycle import crisis_transition
    from tests.factories import declared_crisis

    crisis = declared_crisis(ada)
    if action:
        crisis_transition(crisis=crisis, user=ada, action="activate")
        crisis_transition(crisis=crisis, user=ada, action="close")
    assert launch(officer, crisis).status_code == 409
    assert not Campaign.objects.exists()


def test_a_crisis_outside_the_jurisdiction_is_404(client_for, oscar, active_crisis, sms):
    assert launch(client_for(oscar), active_crisis).status_code == 404


def test_analysts_cannot_launch_campaigns(client_for, ann, active_crisis, sms):
    assert launch(client_for(ann), active_crisis).status_code == 403


def test_progress_is_counts_only_and_close_ends_it(officer, active_crisis, three_affected, sms):
    campaign_id = launch(officer, active_crisis).json()["id"]
    body = officer.get(f"/api/v1/campaigns/{campaign_id}").json()
    assert body == {
        "id": campaign_id, "status": "queued", "recipients": 2, "persons": 2, "queued": 4, "sent": 0, "failed": 0,
        "dead": 0,
        "cancelled": 0, "checkins": {"safe": 0, "need_help": 0, "no_response": 2},
    }  # fmt: skip
    assert officer.post(f"/api/v1/campaigns/{campaign_id}/close").json()["status"] == "closed"
    assert officer.post(f"/api/v1/campaigns/{campaign_id}/close").status_code == 409


def test_another_posts_officer_gets_404_on_the_campaign(officer, client_for, oscar, active_crisis, three_affected, sms):
    campaign_id = launch(officer, active_crisis).json()["id"]
    assert client_for(oscar).get(f"/api/v1/campaigns/{campaign_id}").status_code == 404


def test_a_campaign_reaches_exactly_the_people_the_affected_counts_count(olivia, active_crisis, sms):
    import uuid

    from shapely.geometry import Point

    from crises.selectors import affected_counts
    from notifications.services import campaigns
    from registrations.models import Stay

    traveller_with_stay(lon=178.0, lat=-18.0)
    traveller_with_stay(country="FJ")  # country precision only
    twice = traveller_with_stay(lon=178.1, lat=-18.1)
    stay = twice.stays.get()
    Stay.objects.create(
        id=uuid.uuid4(), trip=stay.trip, traveller=twice, country="FJ", point=Point(178.3, -18.2),
        precision="point", start_date=stay.start_date, end_date=stay.end_date,
    )  # fmt: skip
    Stay.objects.create(
        id=uuid.uuid4(), trip=stay.trip, traveller=twice, country="FJ", point=None,
        precision="country", start_date=stay.start_date, end_date=stay.end_date,
    )  # fmt: skip
    counts = affected_counts(crisis=active_crisis, user=olivia)
    request = campaigns.campaign_validate(
        {**CAMPAIGN, "channels": ["sms"], "include_country_only": True}, crisis=active_crisis
    )
    assert campaigns.campaign_dry_run(crisis=active_crisis, user=olivia, request=request).recipients == 3
    campaign = campaigns.campaign_launch(crisis=active_crisis, user=olivia, request=request)
    assert sum(counts.located.values()) + sum(counts.country_only.values()) == campaign.recipients == 3
    assert Delivery.objects.filter(campaign=campaign).count() == 3


def test_a_launch_checked_before_its_crisis_closed_is_refused_once_it_has(olivia, active_crisis, three_affected, sms):
    from crises.models import Crisis
    from notifications.services import campaigns

    request = campaigns.campaign_validate({**CAMPAIGN, "include_country_only": False}, crisis=active_crisis)
    # Active when checked; closed by the time the launch runs.
    Crisis.objects.filter(pk=active_crisis.pk).update(status="closed")
    with pytest.raises(DomainError) as error:
        campaigns.campaign_launch(crisis=active_crisis, user=olivia, request=request)
    assert error.value.status == 409
    assert not Campaign.objects.exists()
