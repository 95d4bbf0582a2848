"""Residences abroad: placed as a stay is, open-ended, confirmed once a year."""

from datetime import timedelta

import pytest
from django.utils import timezone

from registrations.models import Residence
from tests.factories import residence_payload

RESIDENCES = "/api/v1/me/residences"


@pytest.fixture
def alice_client(client_for, alice):
    return client_for(alice)


def add(client, **overrides):
    return client.post(RESIDENCES, residence_payload(**overrides), format="json")


def test_a_residence_is_placed_from_its_city_and_open_ended(alice_client):
    response = add(alice_client)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["precision"] == "city" and body["until"] is None
    assert body["unconfirmed"] is False and body["warnings"] == []


def test_a_residence_has_no_two_year_cap(alice_client):
    assert add(alice_client, since="1995-01-01", until="2030-12-31").status_code == 201


def test_a_residence_ending_before_it_begins_gets_400_and_writes_nothing(alice_client):
    response = add(alice_client, since="2020-01-01", until="2019-12-31")
    assert response.status_code == 400
    assert "until" in response.json()["error"]["fields"]
    assert not Residence.objects.exists()


def test_another_citizens_residence_is_a_404(client_for, alice, bob):
    residence_id = add(client_for(alice)).json()["id"]
    bob_client = client_for(bob)
    assert bob_client.get(f"{RESIDENCES}/{residence_id}").status_code == 404
    assert bob_client.post(f"{RESIDENCES}/{residence_id}/confirm").status_code == 404
    assert bob_client.delete(f"{RESIDENCES}/{residence_id}").status_code == 404
    assert Residence.objects.count() == 1


def test_a_residence_not_confirmed_for_a_year_is_unconfirmed_until_confirmed(alice_client):
    residence_id = add(alice_client).json()["id"]
    Residence.objects.filter(pk=residence_id).update(confirmed_at=timezone.now() - timedelta(days=370))
    assert alice_client.get(f"{RESIDENCES}/{residence_id}").json()["unconfirmed"] is True
    confirmed = alice_client.post(f"{RESIDENCES}/{residence_id}/confirm")
    assert confirmed.status_code == 200
    assert confirmed.json()["unconfirmed"] is False


def test_any_edit_confirms_a_residence(alice_client):
    residence_id = add(alice_client).json()["id"]
    Residence.objects.filter(pk=residence_id).update(confirmed_at=timezone.now() - timedelta(days=370))
    patched = alice_client.patch(f"{RESIDENCES}/{residence_id}", {"until": "2030-01-01"}, format="json")
    assert patched.status_code == 200, patched.content
    assert patched.json()["unconfirmed"] is False and patched.json()["city"] == "Suva"


def test_a_residence_with_a_point_keeps_it(alice_client):
    body = add(alice_client, location={"lat": -18.14, "lon": 178.44}).json()
    assert body["precision"] == "point" and body["location"] == {"lat": -18.14, "lon": 178.44}


def test_the_export_holds_the_residences_decrypted(alice_client):
    add(alice_client, address="4 Cakobau Road")
    export = alice_client.get("/api/v1/me/export").json()
    assert [residence["address"] for residence in export["registration"]["residences"]] == ["4 Cakobau Road"]
