import pytest

from consular.models import AuditEntry
from tests.factories import crisis_payload, declared_crisis, square, traveller_with_stay


def create(client, **overrides):
    return client.post("/api/v1/crises", crisis_payload(**overrides), format="json")


def test_an_officer_declares_activates_and_closes_a_crisis(client_for, olivia):
    client = client_for(olivia)
    crisis_id = create(client).json()["id"]
    assert client.post(f"/api/v1/crises/{crisis_id}/activate").json()["status"] == "active"
    assert client.post(f"/api/v1/crises/{crisis_id}/close").json()["status"] == "closed"
    actions = list(AuditEntry.objects.values_list("action", flat=True))
    assert actions == ["crisis.declare", "crisis.activate", "crisis.close"]


@pytest.mark.parametrize(
    ("setup", "action"),
    [([], "close"), (["activate"], "activate"), (["activate", "close"], "activate"), (["activate", "close"], "close")],
)
def test_impossible_transitions_are_409(client_for, olivia, setup, action):
    client = client_for(olivia)
    crisis_id = create(client).json()["id"]
    for step in setup:
        client.post(f"/api/v1/crises/{crisis_id}/{step}")
    assert client.post(f"/api/v1/crises/{crisis_id}/{action}").status_code == 409


def test_a_closed_crisis_cannot_be_edited(client_for, olivia):
    client = client_for(olivia)
    crisis_id = create(client).json()["id"]
    client.post(f"/api/v1/crises/{crisis_id}/activate")
    client.post(f"/api/v1/crises/{crisis_id}/close")
    assert client.patch(f"/api/v1/crises/{crisis_id}", {"title": "New"}, format="json").status_code == 409


def test_patching_the_area_recomputes_it(client_for, olivia):
    client = client_for(olivia)
    crisis_id = create(client).json()["id"]
    body = client.patch(f"/api/v1/crises/{crisis_id}", {"area": square(178, -19, 179, -18)}, format="json").json()
    assert body["area_km2"] < 15000


def test_the_area_is_served_as_a_geojson_feature(client_for, olivia):
    client = client_for(olivia)
    crisis_id = create(client).json()["id"]
    feature = client.get(f"/api/v1/crises/{crisis_id}/area").json()
    assert feature["type"] == "Feature"
    assert feature["geometry"]["type"] == "MultiPolygon"


def test_lists_filter_by_status(client_for, olivia):
    client = client_for(olivia)
    first = create(client).json()["id"]
    create(client)
    client.post(f"/api/v1/crises/{first}/activate")
    body = client.get("/api/v1/crises?status=active").json()
    assert [c["id"] for c in body["results"]] == [first]
    assert client.get("/api/v1/crises?status=bogus").status_code == 400


def test_an_officer_of_another_post_gets_404_on_the_crisis(client_for, olivia, oscar):
    crisis_id = create(client_for(olivia)).json()["id"]
    client = client_for(oscar)
    for method, suffix in [
        ("get", ""),
        ("patch", ""),
        ("get", "/area"),
        ("get", "/affected"),
        ("post", "/activate"),
        ("post", "/close"),
        ("post", "/affected/reveal"),
    ]:
        response = getattr(client, method)(f"/api/v1/crises/{crisis_id}{suffix}", {}, format="json")
        assert response.status_code == 404, (method, suffix, response.status_code)
    assert client.get("/api/v1/crises").json()["count"] == 0


def test_analysts_read_but_cannot_declare(client_for, ann, olivia):
    create(client_for(olivia))
    assert client_for(ann).get("/api/v1/crises").json()["count"] == 1
    assert create(client_for(ann)).status_code == 403


def test_a_citizen_gets_403_on_crisis_endpoints(client_for, alice):
    assert client_for(alice).get("/api/v1/crises").status_code == 403


def test_affected_counts_are_broken_down_by_country_and_precision(client_for, olivia, ada):
    crisis = declared_crisis(ada)
    for _ in range(3):
        traveller_with_stay(lon=178.0, lat=-18.0)
    traveller_with_stay(country="FJ")
    body = client_for(olivia).get(f"/api/v1/crises/{crisis.pk}/affected").json()
    people = {"minors": 0, "resident": 0, "unconfirmed": 0}
    assert body["located"] == {
        "total": 3,
        "persons": 3,
        "travelling": 3,
        **people,
        "by_country": [{"country": "FJ", "count": 3, "persons": 3, "travelling": 3, **people}],
        "by_precision": {"point": 3, "city": 0},
    }
    assert body["country_only"] == {
        "total": 1,
        "persons": 1,
        "travelling": 1,
        **people,
        "by_country": [{"country": "FJ", "count": 1, "persons": 1, "travelling": 1, **people}],
    }
    assert body["suppressed_below"] is None


def test_analyst_counts_are_suppressed(client_for, ann, ada, settings):
    settings.SUPPRESS_BELOW = 10
    fiji_and_tonga = {"type": "Polygon", "coordinates": [[[177, -22], [186, -22], [186, -16], [177, -16], [177, -22]]]}
    crisis = declared_crisis(ada, area=fiji_and_tonga)
    for _ in range(12):
        traveller_with_stay(lon=178.0, lat=-18.0, country="FJ")
    for _ in range(3):
        traveller_with_stay(lon=-175.2, lat=-21.2, country="TO")
    for _ in range(2):
        traveller_with_stay(country="WS")
    body = client_for(ann).get(f"/api/v1/crises/{crisis.pk}/affected").json()
    located = body["located"]
    assert located["total"] == 15
    by_country = {row["country"]: row for row in located["by_country"]}
    # Tonga (3) is hidden; hiding only it would let 15 - 12 reveal it, so Fiji is hidden too.
    assert (by_country["TO"]["count"], by_country["TO"]["suppressed"]) == (None, True)
    assert (by_country["FJ"]["count"], by_country["FJ"]["suppressed"]) == (None, True)
    # The same rule for the people: three in Tonga, so twelve in Fiji hidden too.
    assert by_country["TO"]["persons"] is None and by_country["FJ"]["persons"] is None
    assert body["suppressed_below"] == 10


def test_a_small_total_is_suppressed_for_analysts(client_for, ann, ada):
    crisis = declared_crisis(ada)
    traveller_with_stay(lon=178.0, lat=-18.0)
    located = client_for(ann).get(f"/api/v1/crises/{crisis.pk}/affected").json()["located"]
    assert located["total"] is None and located["total_suppressed"] is True
    (fiji,) = located["by_country"]
    assert (fiji["count"], fiji["suppressed"], fiji["persons"], fiji["persons_suppressed"]) == (None, True, None, True)
    assert located["by_precision"]["point"] is None and located["by_precision"]["point_suppressed"] is True


@pytest.mark.parametrize(
    ("field", "moment"),
    [("starts_at", "0001-01-01T00:00:00Z"), ("starts_at", "9999-12-31T00:00:00Z"), ("ends_at", "2101-01-01T00:00:00Z")],
)
def test_a_crisis_dated_outside_the_registers_window_gets_400_and_writes_nothing(client_for, olivia, field, moment):
    from crises.models import Crisis

    response = create(client_for(olivia), **{field: moment})
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Crisis.objects.exists()


def test_a_crisis_stored_before_the_window_was_enforced_can_still_be_retitled(client_for, olivia):
    from crises.models import Crisis

    client = client_for(olivia)
    crisis_id = create(client).json()["id"]
    Crisis.objects.filter(pk=crisis_id).update(starts_at="1960-01-01T00:00:00Z")
    response = client.patch(f"/api/v1/crises/{crisis_id}", {"title": "Cyclone Ana"}, format="json")
    assert response.status_code == 200, response.content


def test_a_crisis_moved_outside_the_window_by_a_patch_gets_400(client_for, olivia):
    client = client_for(olivia)
    crisis_id = create(client).json()["id"]
    response = client.patch(f"/api/v1/crises/{crisis_id}", {"starts_at": "1969-12-31T23:00:00Z"}, format="json")
    assert response.status_code == 400
    assert "starts_at" in response.json()["error"]["fields"]
