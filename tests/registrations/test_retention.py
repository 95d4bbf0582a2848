import io
import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.models import OrmQ, Schedule

from accounts.models import User
from privacy.models import Erasure
from privacy.services import erasure as erasure_services
from privacy.services import retention as retention_services
from privacy.services.retention import purge_expired
from privacy.tasks import PURGE_EXPIRED_TASK, purge_expired_registrations
from registrations.models import Traveller, Trip
from registrations.services import trips
from tests.concurrency import run_named
from tests.factories import registered_citizen, trip_payload


def trip_ending(day: date) -> dict:
    start = day - timedelta(days=5)
    return trip_payload(
        start_date=start.isoformat(),
        end_date=day.isoformat(),
        stays=[{"country": "FJ", "start_date": start.isoformat(), "end_date": day.isoformat()}],
    )


def test_registrations_past_retention_are_purged_and_recent_ones_kept(settings):
    settings.RETENTION_DAYS = 90
    today = date(2026, 11, 22)
    old = registered_citizen(trips=[trip_ending(today - timedelta(days=91))])
    recent = registered_citizen(
        trips=[trip_ending(today - timedelta(days=91)), trip_ending(today - timedelta(days=10))]
    )
    assert purge_expired(today=today) == (1, True)
    assert not Traveller.objects.filter(user=old).exists()
    assert Traveller.objects.filter(user=recent).exists()
    # The account survives (it has its own key); only the registration is shredded.
    assert User.objects.get(pk=old.pk).email
    assert Erasure.objects.get().reason == "retention"


def test_a_stay_ending_exactly_at_the_limit_is_kept(settings):
    today = date(2026, 11, 22)
    registered_citizen(trips=[trip_ending(today - timedelta(days=90))])
    assert purge_expired(today=today, retention_days=90) == (0, True)


def test_purge_expired_command_reports_its_count():
    out = io.StringIO()
    call_command("purge_expired", stdout=out)
    assert "purged 0 registrations" in out.getvalue()


def test_a_daily_schedule_runs_the_purge():
    schedule = Schedule.objects.get(name="purge-expired-registrations")
    assert schedule.func == "privacy.tasks.purge_expired_registrations"
    assert schedule.schedule_type == Schedule.DAILY


def test_a_registration_without_trips_expires_after_its_last_change(settings):
    settings.RETENTION_DAYS = 90
    citizen = registered_citizen(trips=[])
    traveller = Traveller.objects.get(user=citizen)
    changed = traveller.updated_at.date()
    assert purge_expired(today=changed + timedelta(days=90)) == (0, True)
    assert purge_expired(today=changed + timedelta(days=91)) == (1, True)
    assert not Traveller.objects.filter(pk=traveller.pk).exists()


def test_a_trip_added_after_the_batch_was_selected_keeps_the_registration(settings):
    from privacy.services.retention import traveller_purge
    from registrations.services.trips import trip_create

    today = date(2026, 11, 22)
    citizen = registered_citizen(trips=[trip_ending(today - timedelta(days=200))])
    traveller = Traveller.objects.get(user=citizen)  # selected as expired...
    trip_create(user=citizen, data=trip_ending(today + timedelta(days=30)))  # ...then a new trip arrives
    assert not traveller_purge(traveller=traveller, reason="retention", expired_before=today - timedelta(days=90))
    assert Traveller.objects.filter(pk=traveller.pk).exists()


def test_a_purge_out_of_time_stops_and_says_more_are_left(settings):
    settings.RETENTION_DAYS = 90
    today = date.today()
    for _ in range(2):
        registered_citizen(trips=[trip_ending(today - timedelta(days=200))])
    assert purge_expired(within_seconds=0) == (1, False)
    assert purge_expired(within_seconds=0) == (1, True)
    assert not Traveller.objects.exists()


def test_the_scheduled_purge_queues_the_rest_when_its_time_is_up(settings):
    settings.RETENTION_DAYS = 90
    settings.Q_TASK_TIMEOUT_SECONDS = 0
    today = date.today()
    for _ in range(2):
        registered_citizen(trips=[trip_ending(today - timedelta(days=200))])
    assert purge_expired_registrations() == 1
    (queued,) = OrmQ.objects.all()
    assert queued.func() == PURGE_EXPIRED_TASK
    queued.delete()
    assert purge_expired_registrations() == 1
    assert not OrmQ.objects.exists()  # nothing left: no further run queued


def test_deleting_the_last_trip_restarts_the_retention_clock(settings):
    settings.RETENTION_DAYS = 90
    citizen = registered_citizen(trips=[trip_ending(date.today() + timedelta(days=40))])
    traveller = Traveller.objects.get(user=citizen)
    # Profile written half a year ago; the citizen cancels their only (future) trip today.
    Traveller.objects.filter(pk=traveller.pk).update(updated_at=timezone.now() - timedelta(days=180))
    trips.trip_delete(trip=Trip.objects.get(traveller=traveller))
    assert purge_expired() == (0, True)


def _expired_citizen_and_a_held_purge(monkeypatch, seconds: float):
    """An expired registration, and its purge (to run in a thread named "purge") that pauses
    after taking its locks, before its deletes; the event is set once it holds them."""
    today = date.today()
    citizen = registered_citizen(trips=[trip_ending(today - timedelta(days=200))])
    traveller = Traveller.objects.get(user=citizen)
    holding = threading.Event()
    real = retention_services.data_keys_shred

    def slow(ids):
        if threading.current_thread().name == "purge":
            holding.set()
            time.sleep(seconds)
        return real(ids)

    monkeypatch.setattr(retention_services, "data_keys_shred", slow)

    def purge():
        retention_services.traveller_purge(
            traveller=traveller, reason="retention", expired_before=today - timedelta(days=90)
        )

    return citizen, purge, holding


@pytest.mark.django_db(transaction=True)
def test_a_trip_added_while_the_purge_holds_the_registration_is_kept(monkeypatch):
    citizen, purge, holding = _expired_citizen_and_a_held_purge(monkeypatch, seconds=1.0)

    def add_trip():
        holding.wait(5)
        trips.trip_create(user=citizen, data=trip_ending(date.today() + timedelta(days=30)))

    errors = run_named(purge=purge, add_trip=add_trip)
    # The trip waited for the purge, then started a registration afresh: not a 500.
    assert errors == {}
    assert Trip.objects.filter(traveller__user=citizen).count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_erasure_at_the_moment_the_purge_takes_the_same_registration_succeeds(monkeypatch):
    citizen, purge, holding = _expired_citizen_and_a_held_purge(monkeypatch, seconds=0.5)

    def erase():
        holding.wait(5)
        erasure_services.person_erase(user=citizen)

    assert run_named(purge=purge, erase=erase) == {}
    assert not User.objects.filter(pk=citizen.pk).exists()


def _household_with_residence(**residence):
    from tests.factories import household, residence_payload

    user, _ = household(companions=[], trips=[], residences=[residence_payload(**residence)])
    return Traveller.objects.get(user=user)


def test_an_open_ended_confirmed_residence_keeps_its_registration(settings):
    traveller = _household_with_residence(since="2019-01-01")
    assert purge_expired(today=date.today() + timedelta(days=200), retention_days=90) == (0, True)
    assert Traveller.objects.filter(pk=traveller.pk).exists()


def test_a_residence_that_ended_follows_the_trip_rule():
    traveller = _household_with_residence(since="2019-01-01", until="2025-06-30")
    ended = date(2025, 6, 30)
    assert purge_expired(today=ended + timedelta(days=90), retention_days=90) == (0, True)
    assert purge_expired(today=ended + timedelta(days=91), retention_days=90) == (1, True)
    assert not Traveller.objects.filter(pk=traveller.pk).exists()


def test_an_unconfirmed_residence_goes_retention_days_after_its_confirmation_deadline(settings):
    from registrations.models import Residence

    settings.RESIDENCE_CONFIRM_MONTHS = 12
    traveller = _household_with_residence(since="2019-01-01")
    Residence.objects.update(confirmed_at=datetime(2024, 1, 15, tzinfo=UTC))
    deadline = date(2025, 1, 15)
    assert purge_expired(today=deadline + timedelta(days=90), retention_days=90) == (0, True)
    assert purge_expired(today=deadline + timedelta(days=91), retention_days=90) == (1, True)
    assert not Traveller.objects.filter(pk=traveller.pk).exists()


def test_a_stale_residence_goes_on_its_own_when_the_registration_has_a_later_trip():
    from registrations.models import Residence
    from registrations.services.trips import trip_create

    traveller = _household_with_residence(since="2019-01-01", until="2025-01-31")
    trip_create(user=traveller.user, data=trip_ending(date(2026, 11, 20)))
    assert purge_expired(today=date(2026, 1, 1), retention_days=90) == (0, True)
    assert not Residence.objects.exists()
    assert Traveller.objects.filter(pk=traveller.pk).exists()
