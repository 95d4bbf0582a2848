import json

import pytest

from registrations.models import Traveller
from tests.factories import profile_payload


@pytest.fixture
def alice_client(client_for, alice):
    return client_for(alice)


def put_profile(client, **overrides):
    return client.put("/api/v1/me/profile", profile_payload(**overrides), format="json")


def test_a_citizen_writes_and_reads_back_their_profile(alice_client):
    assert put_profile(alice_client).status_code == 200
    body = alice_client.get("/api/v1/me/profile").json()
    assert body["given_name"] == "Ana"
    assert body["emergency_contact"]["relation"] == "brother"
    assert body["consent"] == {"contact": True, "share_with_partners": False}


def test_values_are_normalised(alice_client):
    body = put_profile(
        alice_client,
        phone="+64 21 123 4567",
        nationality="nz",
        language="en-gb",
        passport_number="la 123-456",
        email=" Ana@Example.TEST ",
    ).json()
    assert body["phone"] == "+64211234567"
    assert body["nationality"] == "NZ"
    assert body["language"] == "en-GB"
    assert body["passport_number"] == "LA123456"
    assert body["email"] == "ana@example.test"
    assert body["emergency_contact"]["phone"] == "+6493771234"


def test_reading_a_profile_before_writing_one_is_404(alice_client):
    assert alice_client.get("/api/v1/me/profile").status_code == 404


def test_patch_changes_only_the_given_fields(alice_client):
    put_profile(alice_client)
    response = alice_client.patch("/api/v1/me/profile", {"phone": "+679 331 2345"}, format="json")
    assert response.status_code == 200
    assert response.json()["phone"] == "+6793312345"
    assert response.json()["given_name"] == "Ana"


def test_patch_before_any_profile_needs_the_required_fields(alice_client):
    response = alice_client.patch("/api/v1/me/profile", {"phone": "+679 331 2345"}, format="json")
    assert response.status_code == 400
    assert "given_name" in response.json()["error"]["fields"]
    assert not Traveller.objects.exclude(given_name_enc=None).exists()


def test_personal_data_responses_are_not_cacheable(alice_client):
    put_profile(alice_client)
    assert alice_client.get("/api/v1/me/profile")["Cache-Control"] == "no-store"
    assert alice_client.get("/api/v1/me/export")["Cache-Control"] == "no-store"


def test_a_staff_token_cannot_use_me_endpoints(client_for, olivia):
    client = client_for(olivia)
    for method, url in [
        ("get", "/api/v1/me/profile"),
        ("put", "/api/v1/me/profile"),
        ("get", "/api/v1/me/trips"),
        ("get", "/api/v1/me/export"),
        ("delete", "/api/v1/me"),
    ]:
        assert getattr(client, method)(url, {}, format="json").status_code == 403, url


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone", "021 123 4567"),  # not international
        ("phone", "+64 1"),  # not a valid number
        ("phone", 6421234567),  # wrong type
        ("nationality", "XX"),
        ("nationality", "NZL"),
        ("language", "english please"),
        ("language", "xx-ZZZZZZZZZ"),
        ("language", "sh-x-aaaaaaaa-bbbbbbbb-cccccccc-ddd"),  # 35 characters, 40 once standardised
        ("date_of_birth", "12/04/1990"),
        ("date_of_birth", "2999-01-01"),
        ("date_of_birth", "1990-W15-2"),  # an ISO week date, which date.fromisoformat reads
        ("date_of_birth", "19900410  "),
        ("date_of_birth", "1990-04-1\u0661"),  # a non-ASCII digit
        ("given_name", ""),
        ("given_name", "x" * 101),
        ("given_name", None),
        ("passport_number", "!!"),
        ("email", "not-an-email"),
        ("emergency_contact", {"name": "Sione", "phone": "nope"}),
        ("emergency_contact", {"name": "Sione", "phone": "+6493771234", "extra": 1}),
        ("consent", {"contact": "yes", "share_with_partners": False}),
        ("consent", {"contact": True}),
    ],
)
def test_each_bad_profile_value_gets_400_naming_the_field_and_writes_nothing(alice_client, field, value):
    response = put_profile(alice_client, **{field: value})
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert any(path == field or path.startswith(field + ".") for path in fields), fields
    assert not Traveller.objects.exclude(given_name_enc=None).exists()


def test_unknown_profile_fields_are_refused(alice_client):
    response = alice_client.put("/api/v1/me/profile", {**profile_payload(), "religion": "x"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"religion": ["Unknown field."]}


def test_a_failed_update_leaves_the_previous_profile_intact(alice_client):
    put_profile(alice_client)
    assert put_profile(alice_client, given_name="Bea", phone="nope").status_code == 400
    assert alice_client.get("/api/v1/me/profile").json()["given_name"] == "Ana"


def test_registering_exporting_and_erasing_log_no_personal_data(alice_client, log_lines):
    from tests.factories import trip_payload

    put_profile(alice_client)
    alice_client.post("/api/v1/me/trips", trip_payload(), format="json")
    alice_client.get("/api/v1/me/export")
    alice_client.delete("/api/v1/me")
    text = json.dumps(log_lines)
    assert log_lines  # the requests were logged
    for value in ("Tuilagi", "LA123456", "1234567", "ana@example.test", "Victoria Parade", "Sione", "178.4419"):
        assert value not in text


def patch_profile(client, body):
    return client.patch("/api/v1/me/profile", body, format="json")


def test_patching_one_consent_flag_keeps_the_other(alice_client):
    put_profile(alice_client, consent={"contact": True, "share_with_partners": True})
    response = patch_profile(alice_client, {"consent": {"contact": False}})
    assert response.status_code == 200, response.content
    assert response.json()["consent"] == {"contact": False, "share_with_partners": True}
    traveller = Traveller.objects.get()
    assert (traveller.consent_contact, traveller.consent_share_with_partners) == (False, True)


def test_patching_one_field_of_the_emergency_contact_keeps_the_others(alice_client):
    put_profile(alice_client)
    response = patch_profile(alice_client, {"emergency_contact": {"phone": "+679 331 2345"}})
    assert response.status_code == 200, response.content
    assert alice_client.get("/api/v1/me/profile").json()["emergency_contact"] == {
        "name": "Sione Tuilagi",
        "phone": "+6793312345",
        "relation": "brother",
    }


def test_a_null_member_of_the_emergency_contact_removes_it(alice_client):
    # JSON Merge Patch (RFC 7396): null inside a merged object removes that member.
    put_profile(alice_client)
    response = patch_profile(alice_client, {"emergency_contact": {"relation": None}})
    assert response.status_code == 200, response.content
    assert response.json()["emergency_contact"] == {"name": "Sione Tuilagi", "phone": "+6493771234", "relation": None}


def test_a_null_emergency_contact_clears_it(alice_client):
    put_profile(alice_client)
    response = patch_profile(alice_client, {"emergency_contact": None})
    assert response.status_code == 200, response.content
    assert alice_client.get("/api/v1/me/profile").json()["emergency_contact"] is None


def test_an_emergency_contact_patched_onto_none_needs_its_required_fields(alice_client):
    put_profile(alice_client, emergency_contact=None)
    response = patch_profile(alice_client, {"emergency_contact": {"relation": "sister"}})
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"emergency_contact.name", "emergency_contact.phone"}
    assert alice_client.get("/api/v1/me/profile").json()["emergency_contact"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"consent": {"contact": "no"}}, "consent.contact"),
        ({"consent": {"contact": None}}, "consent.contact"),
        ({"consent": {"marketing": True}}, "consent.marketing"),
        ({"consent": "no"}, "consent"),
        ({"emergency_contact": {"phone": "nope"}}, "emergency_contact.phone"),
        ({"emergency_contact": {"name": None}}, "emergency_contact.name"),
        ({"emergency_contact": {"age": 40}}, "emergency_contact.age"),
        ({"emergency_contact": ["Sione"]}, "emergency_contact"),
    ],
)
def test_a_bad_nested_patch_gets_400_naming_the_field_and_writes_nothing(alice_client, body, field):
    put_profile(alice_client)
    before = alice_client.get("/api/v1/me/profile").json()
    stored = Traveller.objects.values().get()
    response = patch_profile(alice_client, body)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"], response.json()
    assert alice_client.get("/api/v1/me/profile").json() == before
    assert Traveller.objects.values().get() == stored
