import io
from datetime import date, timedelta

from django.core.management import call_command
from django_q.models import Schedule

from accounts.models import User
from registrations.models import Erasure, Traveller
from registrations.services import purge_expired
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
    assert purge_expired(today=today) == 1
    assert not Traveller.objects.filter(user=old).exists()
    assert Traveller.objects.filter(user=recent).exists()
    # The account survives (it has its own key); only the registration is shredded.
    assert User.objects.get(pk=old.pk).email
    assert Erasure.objects.get().reason == "retention"


def test_a_stay_ending_exactly_at_the_limit_is_kept(settings):
    today = date(2026, 11, 22)
    registered_citizen(trips=[trip_ending(today - timedelta(days=90))])
    assert purge_expired(today=today, retention_days=90) == 0


def test_purge_expired_command_reports_its_count():
    out = io.StringIO()
    call_command("purge_expired", stdout=out)
    assert "purged 0 registrations" in out.getvalue()


def test_a_daily_schedule_runs_the_purge():
    schedule = Schedule.objects.get(name="purge-expired-registrations")
    assert schedule.func == "registrations.tasks.purge_expired_registrations"
    assert schedule.schedule_type == Schedule.DAILY


def test_a_registration_without_trips_expires_after_its_last_change(settings):
    settings.RETENTION_DAYS = 90
    citizen = registered_citizen(trips=[])
    traveller = Traveller.objects.get(user=citizen)
    changed = traveller.updated_at.date()
    assert purge_expired(today=changed + timedelta(days=90)) == 0
    assert purge_expired(today=changed + timedelta(days=91)) == 1
    assert not Traveller.objects.filter(pk=traveller.pk).exists()


def test_a_trip_added_after_the_batch_was_selected_keeps_the_registration(settings):
    from registrations.services import traveller_purge, trip_create

    today = date(2026, 11, 22)
    citizen = registered_citizen(trips=[trip_ending(today - timedelta(days=200))])
    traveller = Traveller.objects.get(user=citizen)  # selected as expired...
    trip_create(user=citizen, data=trip_ending(today + timedelta(days=30)))  # ...then a new trip arrives
    assert not traveller_purge(traveller=traveller, reason="retention", expired_before=today - timedelta(days=90))
    assert Traveller.objects.filter(pk=traveller.pk).exists()
