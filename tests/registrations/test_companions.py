"""Companions: the people a registrant travels or lives with, kept as the profile is."""

import pytest

from registrations.models import Companion, Trip
from tests.factories import companion_payload, profile_payload, trip_payload

COMPANIONS = "/api/v1/me/companions"


@pytest.fixture
def alice_client(client_for, alice):
    return client_for(alice)


def add(client, **overrides):
    return client.post(COMPANIONS, companion_payload(**overrides), format="json")


def test_a_companion_is_added_and_read_back_decrypted(alice_client):
    created = add(alice_client, passport_number="LA765432")
    assert created.status_code == 201, created.content
    body = alice_client.get(f"{COMPANIONS}/{created.json()['id']}").json()
    assert body["given_name"] == "Mele" and body["relation"] == "daughter"
    assert body["passport_number"] == "LA765432"
    assert body["disclosure"] == {"tell": "emergency_contact", "relatives": []}
    assert body["contact_directly"] is False


def test_a_companion_is_stored_encrypted_with_only_the_month_of_birth_in_clear(alice_client):
    add(alice_client)
    stored = Companion.objects.get()
    assert stored.given_name_enc is not None and b"Mele" not in bytes(stored.given_name_enc)
    assert stored.birth_month.isoformat() == "2014-06-01"


def test_a_companion_of_another_nationality_is_welcome(alice_client):
    assert add(alice_client, nationality="fr").json()["nationality"] == "FR"


def test_another_citizens_companion_is_a_404(client_for, alice, bob):
    companion_id = add(client_for(alice)).json()["id"]
    bob_client = client_for(bob)
    assert bob_client.get(f"{COMPANIONS}/{companion_id}").status_code == 404
    assert bob_client.patch(f"{COMPANIONS}/{companion_id}", {"relation": "son"}, format="json").status_code == 404
    assert bob_client.delete(f"{COMPANIONS}/{companion_id}").status_code == 404
    assert Companion.objects.count() == 1


def test_a_patch_changes_the_fields_given_and_checks_the_whole(alice_client):
    companion_id = add(alice_client).json()["id"]
    response = alice_client.patch(
        f"{COMPANIONS}/{companion_id}", {"phone": "+64 21 765 4321", "contact_directly": True}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["phone"] == "+64217654321" and response.json()["given_name"] == "Mele"


def test_contacting_a_companion_directly_needs_their_phone_or_email(alice_client):
    response = add(alice_client, contact_directly=True)
    assert response.status_code == 400
    assert "contact_directly" in response.json()["error"]["fields"]
    assert not Companion.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("date_of_birth", "2090-01-01"),
        ("nationality", "XX"),
        ("relation", "   "),
        ("phone", "not a phone"),
        ("disclosure", {"tell": "relatives", "relatives": []}),
        ("disclosure", {"tell": "the press"}),
    ],
)
def test_a_bad_companion_gets_400_naming_the_field_and_writes_nothing(alice_client, field, value):
    response = add(alice_client, **{field: value})
    assert response.status_code == 400
    assert any(path.startswith(field) for path in response.json()["error"]["fields"])
    assert not Companion.objects.exists()


def test_the_51st_companion_gets_400_and_writes_nothing(alice_client):
    for n in range(50):
        assert add(alice_client, given_name=f"Pupil {n}").status_code == 201
    response = add(alice_client, given_name="One too many")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "too_many_companions"
    assert Companion.objects.count() == 50


def test_a_trip_names_who_travels(alice_client):
    companion_id = add(alice_client).json()["id"]
    trip = alice_client.post("/api/v1/me/trips", trip_payload(companions=[companion_id]), format="json").json()
    assert trip["companions"] == [companion_id]
    assert alice_client.get(f"/api/v1/me/trips/{trip['id']}").json()["companions"] == [companion_id]


def test_a_trip_without_companions_has_nobody_but_the_registrant(alice_client):
    add(alice_client)
    assert alice_client.post("/api/v1/me/trips", trip_payload(), format="json").json()["companions"] == []


def test_a_trip_naming_another_citizens_companion_gets_400_and_writes_nothing(client_for, alice, bob):
    bobs = add(client_for(bob)).json()["id"]
    response = client_for(alice).post("/api/v1/me/trips", trip_payload(companions=[bobs]), format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["companions.0"]
    assert not Trip.objects.filter(traveller__user=alice).exists()


def test_a_trip_naming_an_unknown_companion_gets_400(alice_client):
    response = alice_client.post(
        "/api/v1/me/trips", trip_payload(companions=["00000000-0000-4000-8000-000000000000"]), format="json"
    )
    assert response.status_code == 400
    assert not Trip.objects.exists()


def test_companions_given_as_null_get_400_and_change_nothing(alice_client):
    companion_id = add(alice_client).json()["id"]
    trip = alice_client.post("/api/v1/me/trips", trip_payload(companions=[companion_id]), format="json").json()
    response = alice_client.patch(f"/api/v1/me/trips/{trip['id']}", {"companions": None}, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["companions"]
    assert [str(c.pk) for c in Trip.objects.get(pk=trip["id"]).companions.all()] == [companion_id]


def test_a_patch_of_a_trip_keeps_its_companions(alice_client):
    companion_id = add(alice_client).json()["id"]
    trip = alice_client.post("/api/v1/me/trips", trip_payload(companions=[companion_id]), format="json").json()
    patched = alice_client.patch(f"/api/v1/me/trips/{trip['id']}", {"title": "Renamed"}, format="json").json()
    assert patched["companions"] == [companion_id]


def test_deleting_a_companion_takes_them_off_every_trip_and_residence(alice_client):
    companion_id = add(alice_client).json()["id"]
    trip = alice_client.post("/api/v1/me/trips", trip_payload(companions=[companion_id]), format="json").json()
    residence = alice_client.post(
        "/api/v1/me/residences",
        {"country": "FJ", "city": "Suva", "since": "2020-01-01", "companions": [companion_id]},
        format="json",
    ).json()
    assert alice_client.delete(f"{COMPANIONS}/{companion_id}").status_code == 204
    assert alice_client.get(f"/api/v1/me/trips/{trip['id']}").json()["companions"] == []
    assert alice_client.get(f"/api/v1/me/residences/{residence['id']}").json()["companions"] == []


def test_the_registrant_says_whom_the_ministry_may_tell(alice_client):
    disclosure = {"tell": "relatives", "relatives": [{"name": "Sione Tuilagi", "phone": "+64 9 377 1234"}]}
    response = alice_client.put("/api/v1/me/profile", profile_payload(disclosure=disclosure), format="json")
    assert response.status_code == 200, response.content
    assert response.json()["disclosure"] == {
        "tell": "relatives",
        "relatives": [{"name": "Sione Tuilagi", "phone": "+6493771234", "relation": None}],
    }


def test_the_export_holds_the_companions_decrypted(alice_client):
    alice_client.put("/api/v1/me/profile", profile_payload(), format="json")
    add(alice_client)
    export = alice_client.get("/api/v1/me/export").json()
    assert [companion["given_name"] for companion in export["registration"]["companions"]] == ["Mele"]
