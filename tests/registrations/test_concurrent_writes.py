"""One person's concurrent first writes: serialised on their account row, never a duplicate or an error."""

import pytest

from registrations import services
from registrations.models import Traveller
from tests.concurrency import run_together
from tests.factories import UserFactory, profile_payload, trip_payload


def _run_together(*calls):
    return run_together(*calls)[1]


@pytest.mark.django_db(transaction=True)
def test_two_first_profile_writes_at_once_make_one_registration():
    user = UserFactory()
    errors = _run_together(
        lambda: services.profile_write(user=user, data=profile_payload(given_name="First"), partial=False),
        lambda: services.profile_write(user=user, data=profile_payload(given_name="Second"), partial=False),
    )
    assert errors == []
    assert Traveller.objects.filter(user=user).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_first_trip_and_a_first_profile_at_once_make_one_registration():
    user = UserFactory()
    errors = _run_together(
        lambda: services.trip_create(user=user, data=trip_payload()),
        lambda: services.profile_write(user=user, data=profile_payload(), partial=False),
    )
    assert errors == []
    traveller = Traveller.objects.get(user=user)
    assert traveller.trips.count() == 1
    assert traveller.given_name_enc is not None


def test_a_trip_written_after_the_accounts_erasure_committed_is_404_not_a_500():
    from django.db import connection

    from consular.errors import DomainError
    from registrations.services import trip_create
    from tests.factories import registered_citizen, trip_payload

    citizen = registered_citizen()
    # The request authenticated before the erasure; the erasure has committed since.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table, column in (("registrations_stay", "traveller_id"), ("registrations_trip", "traveller_id")):
            cursor.execute(
                f"DELETE FROM {table} WHERE {column} IN (SELECT id FROM registrations_traveller WHERE user_id = %s)",  # noqa: S608
                [citizen.pk],
            )
        cursor.execute("DELETE FROM registrations_traveller WHERE user_id = %s", [citizen.pk])
        cursor.execute("DELETE FROM accounts_accesstoken WHERE user_id = %s", [citizen.pk])
        cursor.execute("DELETE FROM accounts_user WHERE id = %s", [citizen.pk])
    with pytest.raises(DomainError) as error:
        trip_create(user=citizen, data=trip_payload())
    assert error.value.status == 404
