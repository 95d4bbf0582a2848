import copy

import pytest

from registrations.models import Stay, Trip
from tests.factories import trip_payload


@pytest.fixture
def alice_client(client_for, alice):
    return client_for(alice)


def create_trip(client, payload=None):
    return client.post("/api/v1/me/trips", payload or trip_payload(), format="json")


def test_a_trip_is_created_with_its_stays_and_their_precision(alice_client):
    response = create_trip(alice_client)
    assert response.status_code == 201
    body = response.json()
    assert [stay["precision"] for stay in body["stays"]] == ["point", "city", "country"]
    assert body["stays"][0]["location"] == {"lat": -18.1416, "lon": 178.4419}
    assert body["warnings"] == []


def test_a_city_without_a_point_is_placed_by_the_gazetteer(alice_client):
    nadi = create_trip(alice_client).json()["stays"][1]
    assert nadi["city"] == "Nadi"
    assert nadi["location"]["lat"] == pytest.approx(-17.80, abs=0.1)
    assert nadi["location"]["lon"] == pytest.approx(177.42, abs=0.1)


def test_the_gazetteer_ignores_case_and_accents(alice_client):
    payload = trip_payload(
        stays=[
            {"country": "PE", "city": "lima", "start_date": "2026-11-01", "end_date": "2026-11-02"},
            {"country": "CO", "city": "Bogota", "start_date": "2026-11-02", "end_date": "2026-11-03"},
        ]
    )
    stays = create_trip(alice_client, payload).json()["stays"]
    assert [stay["precision"] for stay in stays] == ["city", "city"]


def test_an_unknown_city_falls_back_to_country_precision_with_a_warning(alice_client):
    payload = trip_payload(
        stays=[{"country": "FJ", "city": "Atlantis", "start_date": "2026-11-01", "end_date": "2026-11-02"}]
    )
    body = create_trip(alice_client, payload).json()
    assert body["stays"][0]["precision"] == "country"
    assert body["stays"][0]["location"] is None
    assert body["stays"][0]["city"] == "Atlantis"
    assert "stays.0" in body["warnings"][0]


def test_a_city_name_shared_by_places_far_apart_falls_back_to_country_precision_with_a_warning(alice_client):
    # Portland, Oregon and Portland, Maine lie 4,000 km apart: a guess could count the
    # traveller inside a crisis on the wrong coast.
    payload = trip_payload(
        stays=[{"country": "US", "city": "Portland", "start_date": "2026-11-01", "end_date": "2026-11-02"}]
    )
    body = create_trip(alice_client, payload).json()
    assert body["stays"][0]["precision"] == "country"
    assert body["stays"][0]["location"] is None
    assert body["stays"][0]["city"] == "Portland"
    assert body["warnings"] == [
        "stays.0: city matches several places in this country; recorded at country precision."
        " Send a location to place the stay exactly."
    ]


def test_a_city_is_placed_by_its_own_name_before_another_city_alternate_name(alice_client):
    payload = trip_payload(
        stays=[{"country": "BR", "city": "Rocinha", "start_date": "2026-11-01", "end_date": "2026-11-02"}]
    )
    stay = create_trip(alice_client, payload).json()["stays"][0]
    assert stay["precision"] == "city"
    assert stay["location"]["lat"] == pytest.approx(-22.99, abs=0.01)
    assert stay["location"]["lon"] == pytest.approx(-43.25, abs=0.01)


def test_trips_are_listed_paginated(alice_client):
    create_trip(alice_client)
    body = alice_client.get("/api/v1/me/trips").json()
    assert body["count"] == 1
    assert body["results"][0]["title"] == "Fiji field visit"


def test_put_replaces_the_trip_and_its_stays(alice_client):
    trip_id = create_trip(alice_client).json()["id"]
    payload = trip_payload(
        title="Tonga only", stays=[{"country": "TO", "start_date": "2026-11-05", "end_date": "2026-11-06"}]
    )
    body = alice_client.put(f"/api/v1/me/trips/{trip_id}", payload, format="json").json()
    assert body["title"] == "Tonga only"
    assert len(body["stays"]) == 1
    assert Stay.objects.count() == 1


def test_patch_changes_only_the_given_fields(alice_client):
    created = create_trip(alice_client).json()
    body = alice_client.patch(f"/api/v1/me/trips/{created['id']}", {"title": "Renamed"}, format="json").json()
    assert body["title"] == "Renamed"
    assert [s["precision"] for s in body["stays"]] == ["point", "city", "country"]


def test_a_patch_without_stays_keeps_the_stays_and_their_ids(alice_client):
    created = create_trip(alice_client).json()
    body = alice_client.patch(f"/api/v1/me/trips/{created['id']}", {"title": "Renamed"}, format="json").json()
    assert [s["id"] for s in body["stays"]] == [s["id"] for s in created["stays"]]
    assert sorted(str(pk) for pk in Stay.objects.values_list("id", flat=True)) == sorted(
        s["id"] for s in created["stays"]
    )


def test_a_patch_with_stays_replaces_all_the_stays_rather_than_merging_them(alice_client):
    created = create_trip(alice_client).json()
    stays = [{"country": "TO", "start_date": "2026-11-05", "end_date": "2026-11-06"}]
    body = alice_client.patch(f"/api/v1/me/trips/{created['id']}", {"stays": stays}, format="json").json()
    assert [(s["country"], s["precision"]) for s in body["stays"]] == [("TO", "country")]
    assert Stay.objects.count() == 1


def test_a_patch_that_moves_the_trip_away_from_its_stays_is_refused(alice_client):
    created = create_trip(alice_client).json()
    response = alice_client.patch(
        f"/api/v1/me/trips/{created['id']}", {"start_date": "2026-12-01", "end_date": "2026-12-31"}, format="json"
    )
    assert response.status_code == 400
    assert Trip.objects.get().start_date.isoformat() == "2026-11-01"


def test_delete_removes_the_trip_and_its_stays(alice_client):
    trip_id = create_trip(alice_client).json()["id"]
    assert alice_client.delete(f"/api/v1/me/trips/{trip_id}").status_code == 204
    assert not Trip.objects.exists()
    assert not Stay.objects.exists()


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_another_citizens_trip_id_gives_404_on_every_verb(client_for, alice, bob, method):
    bobs_trip = create_trip(client_for(bob)).json()["id"]
    response = getattr(client_for(alice), method)(f"/api/v1/me/trips/{bobs_trip}", trip_payload(), format="json")
    assert response.status_code == 404
    assert Trip.objects.get().title_enc is not None  # Bob's trip is untouched
    assert len(client_for(bob).get(f"/api/v1/me/trips/{bobs_trip}").json()["stays"]) == 3


def first_stay(**changes):
    payload = trip_payload()
    payload["stays"] = copy.deepcopy(payload["stays"])
    payload["stays"][0].update(changes)
    return payload


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (trip_payload(end_date="2026-10-01"), "end_date"),
        (trip_payload(start_date="2026-11-01", end_date="2028-11-02", stays=[]), "end_date"),
        (trip_payload(start_date="2026-02-30"), "start_date"),
        (trip_payload(start_date="2026-W44-7"), "start_date"),  # an ISO week date: 2026-11-01 to fromisoformat
        (first_stay(end_date="20261110  "), "stays.0.end_date"),
        # Two years after 9999-01-01 is past Python's last date: this was a 500.
        (trip_payload(start_date="9999-01-01", end_date="9999-01-02", stays=[]), "start_date"),
        (trip_payload(start_date="1969-12-31", end_date="1970-01-02", stays=[]), "start_date"),
        (trip_payload(start_date="2100-12-30", end_date="2101-01-01", stays=[]), "end_date"),
        (trip_payload(stays="FJ"), "stays"),
        (trip_payload(stays=[{"country": "FJ", "start_date": "2026-11-01", "end_date": "2026-11-01"}] * 51), "stays"),
        (trip_payload(title=["x"]), "title"),
        (first_stay(start_date="2026-10-20"), "stays.0"),
        (first_stay(end_date="2026-12-20"), "stays.0"),
        (first_stay(end_date="2026-10-31"), "stays.0.end_date"),
        (first_stay(country="ZZ"), "stays.0.country"),
        (first_stay(country=None), "stays.0.country"),
        (first_stay(location={"lat": 91, "lon": 0}), "stays.0.location.lat"),
        (first_stay(location={"lat": 0, "lon": -180.5}), "stays.0.location.lon"),
        (first_stay(location={"lat": "1", "lon": 2}), "stays.0.location.lat"),
        (first_stay(location={"lat": True, "lon": 2}), "stays.0.location.lat"),
        (first_stay(location={"lat": 1}), "stays.0.location.lon"),
        (first_stay(location={"lat": 1, "lon": 2, "alt": 3}), "stays.0.location.alt"),
        (first_stay(address="x" * 301), "stays.0.address"),
        (first_stay(floor=3), "stays.0.floor"),
        (first_stay(precision="exact"), "stays.0.precision"),
        (first_stay(precision=["city"]), "stays.0.precision"),
        ({**trip_payload(), "budget": 10}, "budget"),
    ],
)
def test_each_bad_trip_gets_400_naming_the_field_and_writes_nothing(alice_client, payload, field):
    response = create_trip(alice_client, payload)
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"], response.json()
    assert not Trip.objects.exists()
    assert not Stay.objects.exists()


def test_the_database_refuses_a_stay_ending_before_it_starts(alice_client):
    from django.db import IntegrityError, transaction

    create_trip(alice_client)
    stay = Stay.objects.first()
    assert stay is not None
    with pytest.raises(IntegrityError), transaction.atomic():
        Stay.objects.filter(pk=stay.pk).update(end_date="2000-01-01")


def test_read_only_fields_sent_back_are_ignored(alice_client):
    body = create_trip(alice_client).json()
    body.pop("warnings")
    response = alice_client.put(f"/api/v1/me/trips/{body['id']}", body, format="json")
    assert response.status_code == 200
    assert [s["precision"] for s in response.json()["stays"]] == ["point", "city", "country"]


def _fill_to_the_trip_cap(user, *, leave: int = 0) -> None:
    """The traveller's trips up to the cap (less ``leave``), inserted in one go: 100 POSTs are slow."""
    import uuid
    from datetime import date

    from registrations.services.profiles import traveller_get_or_create
    from registrations.services.trips import MAX_TRIPS_PER_TRAVELLER

    traveller = traveller_get_or_create(user=user)
    Trip.objects.bulk_create(
        Trip(id=uuid.uuid4(), traveller=traveller, start_date=date(2026, 11, 1), end_date=date(2026, 11, 30))
        for _ in range(MAX_TRIPS_PER_TRAVELLER - leave)
    )


def test_the_hundredth_trip_is_created_and_the_hundred_and_first_is_refused_writing_nothing(alice_client, alice):
    _fill_to_the_trip_cap(alice, leave=1)
    assert create_trip(alice_client).status_code == 201
    stays_before = Stay.objects.count()
    response = create_trip(alice_client)
    assert response.status_code == 409, response.content
    error = response.json()["error"]
    assert error["code"] == "too_many_trips"
    assert "100" in error["message"]
    assert Trip.objects.filter(traveller__user=alice).count() == 100
    assert Stay.objects.count() == stays_before


def test_a_traveller_at_the_trip_cap_can_still_change_and_delete_trips(alice_client, alice):
    _fill_to_the_trip_cap(alice)
    trip = Trip.objects.filter(traveller__user=alice).first()
    assert trip is not None
    assert alice_client.put(f"/api/v1/me/trips/{trip.id}", trip_payload(), format="json").status_code == 200
    assert alice_client.delete(f"/api/v1/me/trips/{trip.id}").status_code == 204
    assert create_trip(alice_client).status_code == 201


def test_the_trip_cap_is_per_traveller(alice_client, alice, client_for, bob):
    _fill_to_the_trip_cap(alice)
    assert create_trip(client_for(bob)).status_code == 201


def test_the_import_allows_as_many_trips_a_line_as_the_api_allows_a_traveller():
    from registrations import import_rows
    from registrations.services import trips

    assert import_rows.MAX_TRIPS_PER_TRAVELLER is trips.MAX_TRIPS_PER_TRAVELLER
