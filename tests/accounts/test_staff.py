import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Post, Role, User
from consular.crypto import email_blind_index


def test_create_staff_creates_an_officer_and_a_new_post():
    call_command(
        "create_staff",
        "--email",
        "o@mfa.example",
        "--password",
        "a long enough passphrase",
        "--role",
        "officer",
        "--post",
        "Suva",
        "--countries",
        "fj,TO,ws",
        stdout=io.StringIO(),
    )
    user = User.objects.get(email_bidx=email_blind_index("o@mfa.example"))
    assert user.role == Role.OFFICER
    assert user.post is not None
    assert user.post.countries == ["FJ", "TO", "WS"]
    assert user.check_password("a long enough passphrase")


def test_create_staff_reuses_an_existing_post():
    for email in ("a@mfa.example", "b@mfa.example"):
        call_command(
            "create_staff",
            "--email",
            email,
            "--password",
            "a long enough passphrase",
            "--role",
            "officer",
            "--post",
            "Suva",
            "--countries",
            "FJ",
            stdout=io.StringIO(),
        )
    assert Post.objects.count() == 1


def test_an_officer_without_a_post_is_refused():
    with pytest.raises(CommandError, match="post"):
        call_command(
            "create_staff", "--email", "x@mfa.example", "--password", "a long enough passphrase", "--role", "officer"
        )
    assert not User.objects.exists()


def test_an_unknown_country_code_is_refused():
    with pytest.raises(CommandError, match="ISO 3166"):
        call_command(
            "create_staff",
            "--email",
            "x@mfa.example",
            "--password",
            "a long enough passphrase",
            "--role",
            "officer",
            "--post",
            "Nowhere",
            "--countries",
            "XX",
        )
    assert not Post.objects.exists()


def test_an_admin_needs_no_post():
    call_command(
        "create_staff",
        "--email",
        "ad@mfa.example",
        "--password",
        "a long enough passphrase",
        "--role",
        "admin",
        stdout=io.StringIO(),
    )
    assert User.objects.get().post is None


def test_staff_see_their_own_role_and_jurisdiction(client_for, olivia):
    body = client_for(olivia).get("/api/v1/staff/me").json()
    assert body["role"] == "officer"
    assert body["email"] == "olivia@mfa.example"
    assert body["post"]["countries"] == ["FJ", "TO", "WS"]


def test_a_citizen_token_gets_403_on_staff_endpoints(client_for, alice, pacific_post):
    client = client_for(alice)
    for url in ("/api/v1/staff/me", "/api/v1/posts", f"/api/v1/posts/{pacific_post.pk}"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert response.json()["error"]["code"] == "permission_denied"


def test_an_officer_lists_only_their_own_post(client_for, olivia, andes_post):
    body = client_for(olivia).get("/api/v1/posts").json()
    assert [post["name"] for post in body["results"]] == ["Pacific"]


def test_an_officer_of_another_post_gets_404(client_for, oscar, pacific_post):
    response = client_for(oscar).get(f"/api/v1/posts/{pacific_post.pk}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_an_admin_sees_every_post(client_for, ada, pacific_post, andes_post):
    body = client_for(ada).get("/api/v1/posts").json()
    assert body["count"] == 2


def test_list_page_size_is_capped(client_for, ada, monkeypatch):
    from api.pagination import CappedPageNumberPagination
    from tests.factories import PostFactory

    monkeypatch.setattr(CappedPageNumberPagination, "max_page_size", 3)
    for n in range(5):
        PostFactory.create(name=f"P{n}")
    body = client_for(ada).get("/api/v1/posts?page_size=100000").json()
    assert body["count"] == 5
    assert len(body["results"]) == 3
    assert body["next"]


def test_the_database_refuses_an_officer_without_a_post(alice):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=alice.pk).update(role=Role.OFFICER)


def test_an_admin_sees_every_country_and_needs_no_post(ada):
    assert ada.post is None
    assert ada.jurisdiction() is None


def test_post_staff_see_their_posts_countries(olivia, ann, sam):
    assert olivia.jurisdiction() == ann.jurisdiction() == sam.jurisdiction() == frozenset({"FJ", "TO", "WS"})


def test_a_citizen_sees_no_country(alice):
    assert alice.jurisdiction() == frozenset()
