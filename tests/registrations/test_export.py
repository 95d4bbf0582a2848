"""GET /me/export: everything held about the caller, their check-ins and deliveries included, nobody else's."""

import pytest

from notifications import messages
from notifications.services import sending
from tests.factories import launched_campaign, profile_payload, registered_citizen, trip_payload

# One stay in Suva for the whole trip, inside the declared crisis's area and time.
SUVA_TRIP = trip_payload(
    stays=[
        {
            "country": "FJ",
            "city": "Suva",
            "location": {"lat": -18.1416, "lon": 178.4419},
            "start_date": "2026-11-01",
            "end_date": "2026-11-30",
        }
    ]
)


@pytest.fixture
def active_crisis(ada):
    from crises.services.lifecycle import crisis_transition
    from tests.factories import declared_crisis

    return crisis_transition(crisis=declared_crisis(ada), user=ada, action="activate")


@pytest.fixture
def ana():
    return registered_citizen(email="ana@example.test", trips=[SUVA_TRIP])


@pytest.fixture
def ben():
    profile = profile_payload(
        given_name="Ben", passport_number="LB654321", email="ben@example.test", phone="+64 21 765 4321"
    )
    return registered_citizen(email="ben@example.test", profile=profile, trips=[SUVA_TRIP])


@pytest.fixture
def campaign(olivia, active_crisis, ana, ben):
    campaign = launched_campaign(olivia, active_crisis)
    sending.send_batch(campaign_id=str(campaign.pk), first=0, last=2**62)
    return campaign


def check_in(api, campaign, user, status, message=None):
    token = messages.checkin_token(campaign.pk, user.traveller.pk)
    body = {"status": status, **({"message": message} if message else {})}
    assert api.post(f"/api/v1/checkins/{token}", body, format="json").status_code == 200


def export(client_for, user):
    response = client_for(user).get("/api/v1/me/export")
    assert response.status_code == 200
    return response.json()["registration"]


def test_a_citizen_who_answered_sees_the_status_and_the_decrypted_message(api, client_for, ana, campaign):
    check_in(api, campaign, ana, "need_help", "Roof gone, two of us")
    (checkin,) = export(client_for, ana)["checkins"]
    assert checkin["campaign_id"] == str(campaign.pk)
    assert checkin["crisis"] == {"id": str(campaign.crisis_id), "title": campaign.crisis.title}
    assert checkin["status"] == "need_help"
    assert checkin["message"] == "Roof gone, two of us"
    assert checkin["updated_at"]


def test_an_answer_without_a_message_exports_a_null_message(api, client_for, ana, campaign):
    check_in(api, campaign, ana, "safe")
    assert [(c["status"], c["message"]) for c in export(client_for, ana)["checkins"]] == [("safe", None)]


def test_the_citizens_deliveries_are_listed_without_internal_bookkeeping(client_for, ana, campaign):
    (delivery,) = export(client_for, ana)["deliveries"]
    assert delivery["campaign_id"] == str(campaign.pk)
    assert delivery["crisis"]["id"] == str(campaign.crisis_id)
    assert (delivery["channel"], delivery["status"], delivery["attempts"]) == ("email", "sent", 1)
    assert delivery["created_at"] == campaign.created_at.isoformat()
    assert delivery["sent_at"]
    assert not {"lease_until", "next_attempt_at", "last_error", "traveller_id"} & set(delivery)


def test_another_citizens_checkins_and_deliveries_never_appear(api, client_for, ana, ben, campaign):
    from notifications.models import Delivery

    check_in(api, campaign, ana, "safe", "All fine here")
    check_in(api, campaign, ben, "need_help", "Ben is trapped")
    assert Delivery.objects.count() == 2

    registration = export(client_for, ana)
    assert [c["message"] for c in registration["checkins"]] == ["All fine here"]
    assert len(registration["deliveries"]) == 1
    assert "Ben is trapped" not in str(registration)

    assert [c["message"] for c in export(client_for, ben)["checkins"]] == ["Ben is trapped"]


@pytest.mark.django_db(transaction=True)
def test_a_retention_purge_waits_for_an_export_under_way(monkeypatch):
    import threading
    import time
    from datetime import date, timedelta

    from privacy.services import export as export_services
    from privacy.services import retention as retention_services
    from registrations import selectors
    from registrations.models import Traveller
    from tests.concurrency import run_named
    from tests.factories import registered_citizen, trip_payload

    ended = date.today() - timedelta(days=200)
    past = trip_payload(start_date=(ended - timedelta(days=5)).isoformat(), end_date=ended.isoformat(), stays=[])
    citizen = registered_citizen(trips=[past])
    traveller = Traveller.objects.get(user=citizen)
    exporting = threading.Event()
    real_trips_of = selectors.trips_of

    def slow_trips_of(*, user):
        if threading.current_thread().name == "export":
            exporting.set()
            time.sleep(0.5)  # the registration read, its trips not yet
        return real_trips_of(user=user)

    monkeypatch.setattr(selectors, "trips_of", slow_trips_of)
    exported = {}

    def purge():
        exporting.wait(5)
        retention_services.traveller_purge(traveller=traveller, reason="retention", expired_before=date.today())

    errors = run_named(export=lambda: exported.update(export_services.export_for(user=citizen)), purge=purge)
    assert errors == {}
    assert len(exported["registration"]["trips"]) == 1  # whole, not cut by the purge
    assert not Traveller.objects.filter(pk=traveller.pk).exists()  # which then went ahead
