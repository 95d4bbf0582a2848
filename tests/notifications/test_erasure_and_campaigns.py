"""An erased person leaves a campaign entirely: its figures, and the development outboxes."""

from __future__ import annotations

from datetime import date

import pytest

from notifications.channels import CHANNELS
from notifications.models import Campaign, Delivery
from notifications.selectors import campaign_progress
from notifications.services import sending
from privacy.services.erasure import person_erase
from privacy.services.retention import purge_expired
from tests.factories import launched_campaign, profile_payload, registered_citizen, traveller_with_stay, trip_payload

SUVA = [{"country": "FJ", "city": "Suva", "start_date": "2026-11-01", "end_date": "2026-11-30"}]


@pytest.fixture
def outboxes(settings, tmp_path):
    settings.EMAIL_BACKEND = "consular.outbox.PrivateFileEmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    settings.SMS_PROVIDER_URL = ""
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    return tmp_path / "mail", tmp_path / "sms"


def _campaign_with_a_citizen_and_others(olivia, crisis):
    profile = profile_payload(email="erased@example.test", phone="+64 21 555 0999")
    citizen = registered_citizen(profile=profile, trips=[trip_payload(stays=SUVA)])
    for n in range(2):
        traveller_with_stay(lon=178.4, lat=-18.1, phone=f"+642155500{n}")
    campaign = launched_campaign(olivia, crisis, channels=("email", "sms"))
    sending.send_batch(campaign_id=str(campaign.pk), first=0, last=2**62)
    return citizen, campaign


def test_each_development_mail_is_its_own_private_file_named_by_its_delivery(olivia, active_crisis, outboxes):
    mail, _ = outboxes
    _campaign_with_a_citizen_and_others(olivia, active_crisis)
    files = sorted(mail.iterdir())
    assert len(files) == 3 and all(path.name.startswith("delivery-") for path in files)
    assert mail.stat().st_mode & 0o777 == 0o700
    assert {path.stat().st_mode & 0o777 for path in files} == {0o600}


def test_an_erasure_removes_the_persons_development_mail_and_sms_and_nobody_elses(
    olivia, active_crisis, outboxes, django_capture_on_commit_callbacks
):
    mail, sms = outboxes
    citizen, _ = _campaign_with_a_citizen_and_others(olivia, active_crisis)
    assert "erased@example.test" in "".join(path.read_text() for path in mail.iterdir())
    with django_capture_on_commit_callbacks(execute=True):
        person_erase(user=citizen)
    assert len(list(mail.iterdir())) == 2 and len(list(sms.iterdir())) == 2
    assert "erased@example.test" not in "".join(path.read_text() for path in mail.iterdir())
    assert "+64215550999" not in "".join(path.read_text() for path in sms.iterdir())


def test_a_campaigns_figures_still_add_up_after_a_recipient_is_erased(olivia, active_crisis, outboxes):
    citizen, campaign = _campaign_with_a_citizen_and_others(olivia, active_crisis)
    before = campaign_progress(campaign)
    assert (before["recipients"], before["sent"], before["checkins"]["no_response"]) == (3, 6, 3)
    person_erase(user=citizen)
    campaign.refresh_from_db()
    after = campaign_progress(campaign)
    assert (after["recipients"], after["sent"], after["checkins"]["no_response"]) == (2, 4, 2)


def test_an_erasure_leaves_the_outbox_files_until_it_commits(
    olivia, active_crisis, outboxes, django_capture_on_commit_callbacks
):
    mail, _ = outboxes
    citizen, _ = _campaign_with_a_citizen_and_others(olivia, active_crisis)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        person_erase(user=citizen)
    assert len(list(mail.iterdir())) == 3
    for callback in callbacks:
        callback()
    assert len(list(mail.iterdir())) == 2


def test_a_retention_purge_removes_the_development_mail_of_those_it_purges(
    olivia, active_crisis, outboxes, django_capture_on_commit_callbacks
):
    mail, sms = outboxes
    _campaign_with_a_citizen_and_others(olivia, active_crisis)
    with django_capture_on_commit_callbacks(execute=True):
        purged, _ = purge_expired(today=date(2028, 1, 1), retention_days=90)
    assert purged == 3
    assert list(mail.iterdir()) == [] and list(sms.iterdir()) == []


def test_a_delivery_left_by_a_late_fan_out_to_an_erased_person_goes_and_so_do_they(olivia, active_crisis, outboxes):
    profile = profile_payload(email="late@example.test", phone="+64 21 555 0998")
    citizen = registered_citizen(profile=profile, trips=[trip_payload(stays=SUVA)])
    traveller_with_stay(lon=178.4, lat=-18.1)
    campaign = launched_campaign(olivia, active_crisis, channels=("email", "sms"))
    # As a fan-out that read the traveller before their erasure and committed after it
    # leaves them: deliveries without their person, counted among the recipients.
    late = list(Delivery.objects.filter(traveller__user=citizen))
    person_erase(user=citizen)
    Delivery.objects.bulk_create(late)
    Campaign.objects.filter(pk=campaign.pk).update(recipients=2)
    sending.send_batch(campaign_id=str(campaign.pk), first=0, last=2**62)
    campaign.refresh_from_db()
    assert campaign.recipients == 1
    assert Delivery.objects.filter(campaign=campaign).count() == 2


def test_a_message_sent_while_its_person_was_erased_leaves_no_outbox_file(olivia, active_crisis, outboxes, monkeypatch):
    mail, _ = outboxes
    registered_citizen(trips=[trip_payload(stays=SUVA)])
    campaign = launched_campaign(olivia, active_crisis, channels=("email",))
    email = CHANNELS["email"]
    send = email.send

    def send_then_erase(**message):
        provider_id = send(**message)
        Delivery.objects.filter(campaign=campaign).delete()  # the erasure commits meanwhile
        return provider_id

    monkeypatch.setattr(email, "send", send_then_erase)
    sending.send_batch(campaign_id=str(campaign.pk), first=0, last=2**62)
    assert list(mail.iterdir()) == []
