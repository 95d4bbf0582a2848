from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AccessToken, Role, User

GOOD_PASSWORD = "correct horse battery staple"


def register(api, email="new.citizen@example.test", password=GOOD_PASSWORD):
    return api.post("/api/v1/auth/register", {"email": email, "password": password}, format="json")


def login(api, email="new.citizen@example.test", password=GOOD_PASSWORD, **extra):
    return api.post("/api/v1/auth/token", {"email": email, "password": password}, format="json", **extra)


def test_a_citizen_signs_up_and_gets_201():
    from rest_framework.test import APIClient

    response = register(APIClient())
    assert response.status_code == 201
    assert response.json()["role"] == Role.CITIZEN
    assert User.objects.get().role == Role.CITIZEN


def test_passwords_are_hashed_with_argon2(api):
    register(api)
    assert User.objects.get().password.startswith("argon2")


def test_signup_with_a_weak_password_is_refused_and_writes_nothing(api):
    response = register(api, password="12345678")
    assert response.status_code == 400
    assert "password" in response.json()["error"]["fields"]
    assert not User.objects.exists()


def test_signup_with_an_invalid_email_is_refused(api):
    response = register(api, email="not-an-email")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["email"]
    assert not User.objects.exists()


def test_signing_up_twice_with_the_same_email_conflicts(api):
    register(api)
    response = register(api, email="NEW.Citizen@example.test")
    assert response.status_code == 409
    assert User.objects.count() == 1


def test_signup_cannot_choose_a_staff_role(api):
    response = api.post(
        "/api/v1/auth/register", {"email": "x@example.test", "password": GOOD_PASSWORD, "role": "admin"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"role": ["Unknown field."]}
    assert not User.objects.exists()


def test_signups_are_throttled_per_client_address(api, settings):
    settings.SIGNUPS_PER_ADDRESS = 2
    assert register(api, email="a1@example.test").status_code == 201
    assert register(api, email="a2@example.test").status_code == 201
    response = register(api, email="a3@example.test")
    assert response.status_code == 429
    assert User.objects.count() == 2


def test_a_token_is_issued_for_good_credentials_and_authenticates(api):
    register(api)
    response = login(api)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expires_at"}
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert api.post("/api/v1/auth/logout").status_code == 204


def test_tokens_are_stored_only_as_hashes(api):
    register(api)
    token = login(api).json()["token"]
    stored = AccessToken.objects.get()
    assert token not in stored.key_hash
    assert len(stored.key_hash) == 64


def test_a_wrong_password_gets_401_in_the_error_shape(api):
    register(api)
    response = login(api, password="wrong password entirely")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_an_unknown_email_gets_the_same_answer_as_a_wrong_password(api):
    response = login(api, email="nobody@example.test")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_failed_logins_are_throttled_per_account(api, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    register(api)
    for _ in range(3):
        assert login(api, password="wrong password entirely").status_code == 401
    response = login(api)  # even the right password waits out the window
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"


def test_failed_logins_are_throttled_per_client_address_across_accounts(api, settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = 3
    settings.LOGIN_FAILURES_PER_ACCOUNT = 100
    for n in range(3):
        login(api, email=f"guess{n}@example.test", password="wrong password entirely")
    assert login(api, email="someone.else@example.test").status_code == 429
    # Another address is not affected.
    assert login(api, email="someone.else@example.test", REMOTE_ADDR="192.0.2.7").status_code == 401


def test_a_successful_login_clears_the_account_failures(api, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    register(api)
    login(api, password="wrong password entirely")
    login(api, password="wrong password entirely")
    assert login(api).status_code == 200
    login(api, password="wrong password entirely")
    login(api, password="wrong password entirely")
    assert login(api).status_code == 200


def test_a_logged_out_token_stops_working(client_for, olivia):
    client = client_for(olivia)
    assert client.post("/api/v1/auth/logout").status_code == 204
    response = client.get("/api/v1/staff/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_an_expired_token_gets_401(client_for, olivia):
    client = client_for(olivia)
    AccessToken.objects.update(
        created_at=timezone.now() - timedelta(days=2), expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert client.get("/api/v1/staff/me").status_code == 401


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Bearer not-a-token", "Bearer a b", "Bearer " + "x" * 500])
def test_malformed_or_unknown_tokens_get_401(api, header):
    response = api.get("/api/v1/staff/me", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_missing_credentials_get_401_with_a_bearer_challenge(api):
    response = api.get("/api/v1/staff/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_staff_tokens_expire_sooner_than_citizen_tokens(olivia, alice):
    from accounts.services import token_issue

    staff = token_issue(user=olivia).expires_at - timezone.now()
    citizen = token_issue(user=alice).expires_at - timezone.now()
    assert staff < citizen


def _at_once(calls):
    from tests.concurrency import run_together

    results, errors = run_together(*calls)
    assert errors == []
    return results


@pytest.mark.django_db(transaction=True)
def test_failed_logins_in_parallel_stay_within_the_account_limit(settings):
    # Checked before and counted after the slow password check, every guess in flight got through.
    from rest_framework.test import APIClient

    settings.LOGIN_FAILURES_PER_ACCOUNT = 2
    register(APIClient())
    guesses = [
        lambda n=n: login(APIClient(), password="wrong password entirely", REMOTE_ADDR=f"192.0.2.{n}").status_code
        for n in range(5)
    ]
    assert sorted(_at_once(guesses)) == [401, 401, 429, 429, 429]


@pytest.mark.django_db(transaction=True)
def test_signups_in_parallel_stay_within_the_address_limit(settings):
    from rest_framework.test import APIClient

    settings.SIGNUPS_PER_ADDRESS = 2
    signups = [lambda n=n: register(APIClient(), email=f"parallel{n}@example.test").status_code for n in range(5)]
    assert sorted(_at_once(signups)) == [201, 201, 429, 429, 429]
    assert User.objects.count() == 2


def test_expired_rate_counters_are_forgotten_by_an_hourly_schedule(api, settings):
    from django.db import connection
    from django_q.models import Schedule

    from accounts.models import RateCounter
    from accounts.throttling import forget_expired

    login(api, email="old.guess@example.test", password="wrong password entirely")
    login(api, email="new.guess@example.test", password="wrong password entirely", REMOTE_ADDR="192.0.2.9")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_ratecounter SET window_started = now() - interval '2 hours'")
    login(api, email="new.guess@example.test", password="wrong password entirely", REMOTE_ADDR="192.0.2.9")
    assert forget_expired() == 2  # the first attempt's account and address counters
    assert RateCounter.objects.count() == 2
    assert (
        Schedule.objects.get(name="forget-expired-rate-counters").func == "accounts.tasks.forget_expired_rate_counters"
    )
