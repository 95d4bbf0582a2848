import pytest

from consular.models import AuditEntry
from crises.models import RevealRequest
from crises.services.lifecycle import crisis_transition
from tests.factories import declared_crisis, traveller_with_stay

REASON = "Cyclone landfall: welfare calls to every affected citizen."


def active_crisis(admin, **overrides):
    return crisis_transition(crisis=declared_crisis(admin, **overrides), user=admin, action="activate")


def reveal(client, crisis, **body):
    return client.post(f"/api/v1/crises/{crisis.pk}/affected/reveal", {"reason": REASON, **body}, format="json")


def test_an_officer_reveals_minimal_contact_records_and_it_is_audited(client_for, olivia, ada):
    crisis = active_crisis(ada)
    traveller = traveller_with_stay(lon=178.0, lat=-18.0, given_name="Mele", city="Suva")
    response = reveal(client_for(olivia), crisis)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    (record,) = body["travellers"]
    assert record["ref"] == traveller.ref
    assert record["given_name"] == "Mele"
    assert record["phone"] == "+64211234567"
    assert record["stays"] == [{"country": "FJ", "city": "Suva", "start_date": "2026-11-01", "end_date": "2026-11-30"}]
    for forbidden in ("passport_number", "date_of_birth", "address", "emergency_contact"):
        assert forbidden not in record
    entry = AuditEntry.objects.get(pk=body["audit_id"])
    assert entry.action == "reveal"
    assert entry.actor_id == olivia.pk
    assert entry.details["refs"] == [traveller.ref]
    assert entry.details["reason"] == REASON
    assert "Mele" not in str(entry.details)


def test_country_only_travellers_are_revealed_only_when_asked(client_for, olivia, ada):
    crisis = active_crisis(ada)
    traveller_with_stay(country="FJ")
    assert reveal(client_for(olivia), crisis).json()["travellers"] == []
    assert len(reveal(client_for(olivia), crisis, include_country_only=True).json()["travellers"]) == 1


def test_a_reveal_can_be_limited_to_one_country(client_for, olivia, ada):
    crisis = active_crisis(
        ada, area={"type": "Polygon", "coordinates": [[[177, -22], [186, -22], [186, -16], [177, -16], [177, -22]]]}
    )
    traveller_with_stay(lon=178.0, lat=-18.0, country="FJ")
    traveller_with_stay(lon=-175.2, lat=-21.2, country="TO")
    travellers = reveal(client_for(olivia), crisis, country="to").json()["travellers"]
    assert [t["stays"][0]["country"] for t in travellers] == ["TO"]


@pytest.mark.parametrize("body", [{"reason": "too short"}, {"reason": ""}, {"reason": 42}, {}])
def test_a_reveal_without_a_real_reason_is_400_and_audits_nothing(client_for, olivia, ada, body):
    crisis = active_crisis(ada)
    before = AuditEntry.objects.count()
    response = client_for(olivia).post(f"/api/v1/crises/{crisis.pk}/affected/reveal", body, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()["error"]["fields"]
    assert AuditEntry.objects.count() == before


def test_analysts_cannot_reveal(client_for, ann, ada):
    assert reveal(client_for(ann), active_crisis(ada)).status_code == 403


def test_if_the_audit_entry_cannot_be_written_nothing_is_revealed(client_for, olivia, ada, monkeypatch):
    from crises.services import reveals

    crisis = active_crisis(ada)
    traveller_with_stay(lon=178.0, lat=-18.0)

    def broken(**kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(reveals, "audit_record", broken)
    client = client_for(olivia)
    client.raise_request_exception = False
    response = reveal(client, crisis)
    assert response.status_code == 500
    assert "travellers" not in response.json()


def test_a_large_reveal_needs_a_supervisors_approval_then_the_requester_fetches_it_once(
    client_for, olivia, sam, ada, settings
):
    settings.REVEAL_APPROVAL_ABOVE = 2
    crisis = active_crisis(ada)
    for _ in range(3):
        traveller_with_stay(lon=178.0, lat=-18.0)
    officer = client_for(olivia)
    pending = reveal(officer, crisis)
    assert pending.status_code == 202
    request_id = pending.json()["request"]["id"]
    assert pending.json()["request"]["count"] == 3
    assert officer.post(f"/api/v1/reveal-requests/{request_id}/fetch").status_code == 409  # not approved yet
    assert officer.post(f"/api/v1/reveal-requests/{request_id}/approve").status_code == 403  # officers cannot approve
    supervisor = client_for(sam)
    assert supervisor.post(f"/api/v1/reveal-requests/{request_id}/approve").json()["status"] == "approved"
    fetched = officer.post(f"/api/v1/reveal-requests/{request_id}/fetch")
    assert fetched.status_code == 200
    assert len(fetched.json()["travellers"]) == 3
    assert officer.post(f"/api/v1/reveal-requests/{request_id}/fetch").status_code == 409  # once only
    actions = list(AuditEntry.objects.filter(action__startswith="reveal").values_list("action", flat=True))
    assert actions == ["reveal.request", "reveal.approve", "reveal"]


def test_a_supervisor_cannot_approve_their_own_request(client_for, sam, ada, settings):
    settings.REVEAL_APPROVAL_ABOVE = 0
    crisis = active_crisis(ada)
    traveller_with_stay(lon=178.0, lat=-18.0)
    client = client_for(sam)
    request_id = reveal(client, crisis).json()["request"]["id"]
    assert client.post(f"/api/v1/reveal-requests/{request_id}/approve").status_code == 403
    assert RevealRequest.objects.get().status == "pending"


def test_a_supervisor_of_another_post_cannot_see_the_request(client_for, olivia, ada, andes_post, settings):
    from accounts.models import Role
    from tests.factories import StaffFactory

    settings.REVEAL_APPROVAL_ABOVE = 0
    crisis = active_crisis(ada)
    traveller_with_stay(lon=178.0, lat=-18.0)
    request_id = reveal(client_for(olivia), crisis).json()["request"]["id"]
    other = StaffFactory.create(email="sup@andes.example", role=Role.SUPERVISOR, post=andes_post)
    assert client_for(other).post(f"/api/v1/reveal-requests/{request_id}/approve").status_code == 404


def test_a_draft_crisis_reveals_no_one(client_for, olivia, ada):
    traveller_with_stay(lon=178.0, lat=-18.0)
    response = reveal(client_for(olivia), declared_crisis(ada))
    assert response.status_code == 409
    assert not AuditEntry.objects.filter(action="reveal").exists()


def test_the_approval_threshold_counts_a_users_reveals_over_a_day_not_one_at_a_time(client_for, olivia, ada, settings):
    # Splitting one large reveal into small ones (by country, by crisis) must not avoid the supervisor.
    settings.REVEAL_APPROVAL_ABOVE = 2
    crisis = active_crisis(
        ada, area={"type": "Polygon", "coordinates": [[[177, -22], [186, -22], [186, -16], [177, -16], [177, -22]]]}
    )
    traveller_with_stay(lon=178.0, lat=-18.0, country="FJ")
    traveller_with_stay(lon=178.1, lat=-18.1, country="FJ")
    traveller_with_stay(lon=-175.2, lat=-21.2, country="TO")
    officer = client_for(olivia)
    assert reveal(officer, crisis, country="FJ").status_code == 200
    assert reveal(officer, crisis, country="FJ").status_code == 200  # the same two people again
    assert reveal(officer, crisis, country="TO").status_code == 202  # a third person: over the threshold


@pytest.mark.django_db(transaction=True)
def test_two_reveals_at_once_are_counted_together_against_the_threshold(olivia, ada, settings):
    from crises.services import reveals
    from tests.concurrency import run_together

    settings.REVEAL_APPROVAL_ABOVE = 2
    crisis = active_crisis(
        ada, area={"type": "Polygon", "coordinates": [[[177, -22], [186, -22], [186, -16], [177, -16], [177, -22]]]}
    )
    for lon, lat, country in ((178.0, -18.0, "FJ"), (178.1, -18.1, "FJ"), (-175.2, -21.2, "TO"), (-175.1, -21.1, "TO")):
        traveller_with_stay(lon=lon, lat=lat, country=country)
    results = []

    def reveal_in(country):
        results.append(reveals.reveal(crisis=crisis, user=olivia, reason=REASON, country=country))

    assert run_together(lambda: reveal_in("FJ"), lambda: reveal_in("TO"))[1] == []
    # One of them sees the other's two people and goes to a supervisor.
    assert sorted(result.request is not None for result in results) == [False, True]
