"""Reminders to confirm a residence abroad, a month before it counts as unconfirmed."""

from datetime import timedelta

from django.core import mail
from django.utils import timezone
from django_q.models import Schedule

from notifications.services.reminders import residence_reminders_send
from registrations.models import Residence
from tests.factories import household, profile_payload, residence_payload


def _resident(confirmed_days_ago: int, **residence) -> Residence:
    profile = profile_payload(email="resident@example.test", given_name="Zebulonia")
    household(companions=[], trips=[], residences=[residence_payload(address="9 Secret Lane", **residence)],
              profile=profile)  # fmt: skip
    Residence.objects.update(confirmed_at=timezone.now() - timedelta(days=confirmed_days_ago))
    return Residence.objects.get()


def test_a_holder_is_reminded_once_a_month_before_the_deadline_with_no_personal_data():
    _resident(confirmed_days_ago=340)
    assert residence_reminders_send() == 1
    (message,) = mail.outbox
    assert message.to == ["resident@example.test"]
    for personal in ("Zebulonia", "Suva", "Secret Lane", "FJ"):
        assert personal not in f"{message.subject} {message.body}"
    assert residence_reminders_send() == 0
    assert len(mail.outbox) == 1


def test_a_confirmation_starts_the_next_years_reminder_afresh(client_for):
    residence = _resident(confirmed_days_ago=340)
    residence_reminders_send()
    client_for(residence.traveller.user).post(f"/api/v1/me/residences/{residence.pk}/confirm")
    Residence.objects.update(confirmed_at=timezone.now() - timedelta(days=345))  # a year on
    assert residence_reminders_send() == 1


def test_a_recently_confirmed_or_ended_residence_gets_no_reminder():
    _resident(confirmed_days_ago=100)
    assert residence_reminders_send() == 0
    Residence.objects.update(confirmed_at=timezone.now() - timedelta(days=340), until="2020-01-01")
    assert residence_reminders_send() == 0
    assert mail.outbox == []


def test_a_daily_schedule_sends_the_reminders():
    schedule = Schedule.objects.get(name="remind-residences")
    assert (schedule.func, schedule.schedule_type) == ("notifications.tasks.remind_residences", Schedule.DAILY)
