"""Hand-written look-ups build the same instances as the ORM, and refuse models they would misread."""

import pytest
from django.utils import timezone

from accounts.models import User
from accounts.selectors import active_token
from consular.rows import RowShape, in_id_order
from registrations.models import Traveller
from registrations.selectors import traveller_of
from tests.factories import UserFactory
from tests.geometry_app.models import Shape


def test_a_model_whose_fields_need_converters_is_refused():
    with pytest.raises(TypeError, match="need converters"):
        RowShape(Shape, "s")


@pytest.mark.django_db
def test_the_token_look_up_returns_the_user_and_post_the_orm_would(olivia):
    from accounts.models import AccessToken
    from accounts.services import hash_token, token_issue

    issued = token_issue(user=olivia)
    token = active_token(key_hash=hash_token(issued.token))
    expected = AccessToken.objects.select_related("user__post").get(key_hash=hash_token(issued.token))
    assert token == expected
    assert token.user.__dict__.keys() >= {"role", "post_id", "email_enc"}
    assert token.user.role == expected.user.role
    assert token.user.post is not None and expected.user.post is not None
    assert token.user.post.countries == expected.user.post.countries == ["FJ", "TO", "WS"]


@pytest.mark.django_db
def test_a_revoked_token_is_not_found(olivia):
    from accounts.models import AccessToken
    from accounts.services import hash_token, token_issue

    issued = token_issue(user=olivia)
    AccessToken.objects.filter(key_hash=hash_token(issued.token)).update(revoked_at=timezone.now())
    assert active_token(key_hash=hash_token(issued.token)) is None


@pytest.mark.django_db
def test_the_registration_look_up_matches_the_orm(client_for, alice):
    from tests.factories import profile_payload

    assert client_for(alice).put("/api/v1/me/profile", profile_payload(), format="json").status_code == 200
    traveller = traveller_of(user=alice)
    expected = Traveller.objects.select_related("data_key").get(user=alice)
    assert traveller is not None
    for field in Traveller._meta.concrete_fields:
        assert getattr(traveller, field.attname) == getattr(expected, field.attname), field.name
    assert traveller.data_key.wrapped == expected.data_key.wrapped


@pytest.mark.django_db
def test_insert_unless_conflict_inserts_once_and_then_reports_the_conflict(alice):
    from consular.models import DataKey
    from consular.rows import insert_unless_conflict

    first_key, _ = DataKey.generate()
    first_key.save()
    first = Traveller(user=alice, data_key=first_key)
    assert insert_unless_conflict(first, conflict_columns=["user_id"]) is True
    assert not first._state.adding
    second_key, _ = DataKey.generate()
    second_key.save()
    second = Traveller(user=alice, data_key=second_key)
    assert insert_unless_conflict(second, conflict_columns=["user_id"]) is False
    assert list(Traveller.objects.filter(user=alice).values_list("pk", "ref")) == [(first.pk, first.ref)]


def test_in_id_order_reads_every_row_once_across_batches_in_id_order():
    users = [UserFactory.create() for _ in range(5)]
    seen = [user.id for user in in_id_order(User.objects.all(), batch_size=2)]
    assert seen == sorted(user.id for user in users)
