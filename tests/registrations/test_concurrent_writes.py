"""One person's concurrent first writes: serialised on their account row, never a duplicate or an error."""

import pytest

from privacy.services import erasure as erasure_services
from registrations.models import Traveller
from registrations.services import profiles, trips
from tests.concurrency import run_together
from tests.factories import UserFactory, profile_payload, trip_payload


def _run_together(*calls):
    return run_together(*calls)[1]


@pytest.mark.django_db(transaction=True)
def test_two_first_profile_writes_at_once_make_one_registration():
    user = UserFactory.create()
    errors = _run_together(
        lambda: profiles.profile_write(user=user, data=profile_payload(given_name="First"), partial=False),
        lambda: profiles.profile_write(user=user, data=profile_payload(given_name="Second"), partial=False),
    )
    assert errors == []
    assert Traveller.objects.filter(user=user).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_first_trip_and_a_first_profile_at_once_make_one_registration():
    user = UserFactory.create()
    errors = _run_together(
        lambda: trips.trip_create(user=user, data=trip_payload()),
        lambda: profiles.profile_write(user=user, data=profile_payload(), partial=False),
    )
    assert errors == []
    traveller = Traveller.objects.get(user=user)
    assert traveller.trips.count() == 1
    assert traveller.given_name_enc is not None


def test_a_trip_written_after_the_accounts_erasure_committed_is_404_not_a_500():
    from django.db import connection

    from consular.errors import DomainError
    from registrations.services.trips import trip_create
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


@pytest.mark.django_db(transaction=True)
def test_a_trip_deleted_while_a_put_of_it_is_writing_is_deleted_without_error(monkeypatch):
    import threading
    import time

    from registrations.models import Stay, Trip
    from tests.concurrency import run_named
    from tests.factories import registered_citizen

    citizen = registered_citizen()
    trip = Trip.objects.select_related("traveller").get(traveller__user=citizen)
    writing = threading.Event()
    real_write = trips._write_trip

    def slow_write(*args, **kwargs):
        written = real_write(*args, **kwargs)
        if threading.current_thread().name == "put":
            writing.set()
            time.sleep(0.5)  # the new stays inserted, the transaction still open
        return written

    monkeypatch.setattr(trips, "_write_trip", slow_write)

    def delete():
        writing.wait(5)
        trips.trip_delete(trip=Trip.objects.select_related("traveller").get(pk=trip.pk))

    errors = run_named(
        put=lambda: trips.trip_update(trip=trip, data=trip_payload(title="Moved"), partial=False), delete=delete
    )
    assert errors == {}
    assert not Trip.objects.filter(pk=trip.pk).exists()
    assert not Stay.objects.filter(trip_id=trip.pk).exists()


@pytest.mark.parametrize("write", ["delete", "update"])
def test_a_trip_written_after_the_accounts_erasure_committed_is_404(write):
    from consular.errors import DomainError
    from registrations.models import Trip
    from tests.factories import registered_citizen

    citizen = registered_citizen()
    trip = Trip.objects.select_related("traveller").get(traveller__user=citizen)  # the request's look-up
    erasure_services.person_erase(user=citizen)  # committed since
    with pytest.raises(DomainError) as error:
        if write == "delete":
            trips.trip_delete(trip=trip)
        else:
            trips.trip_update(trip=trip, data=trip_payload(), partial=False)
    assert error.value.status == 404


@pytest.mark.django_db(transaction=True)
def test_two_trips_at_once_one_below_the_cap_create_one_and_refuse_the_other():
    import uuid
    from datetime import date

    from consular.errors import DomainError
    from registrations.models import Trip

    user = UserFactory.create()
    traveller = profiles.traveller_get_or_create(user=user)
    Trip.objects.bulk_create(
        Trip(id=uuid.uuid4(), traveller=traveller, start_date=date(2026, 11, 1), end_date=date(2026, 11, 30))
        for _ in range(trips.MAX_TRIPS_PER_TRAVELLER - 1)
    )
    errors = _run_together(
        lambda: trips.trip_create(user=user, data=trip_payload()),
        lambda: trips.trip_create(user=user, data=trip_payload()),
    )
    assert [(type(error), error.code) for error in errors] == [(DomainError, "too_many_trips")]
    assert Trip.objects.filter(traveller=traveller).count() == trips.MAX_TRIPS_PER_TRAVELLER
