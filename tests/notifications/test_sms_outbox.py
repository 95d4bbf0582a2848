"""In development, SMS without a provider goes to files (SMS_FILE_PATH), as mail goes to .local/mail."""

from __future__ import annotations

import pytest

from notifications.models import Delivery, DeliveryStatus
from notifications.services import sending
from tests.factories import launched_campaign, traveller_with_stay


@pytest.fixture
def outbox(settings, tmp_path):
    settings.SMS_PROVIDER_URL = ""
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    return tmp_path / "sms"


def test_a_campaign_by_sms_writes_each_message_to_a_file_when_no_provider_is_set(olivia, active_crisis, outbox):
    traveller_with_stay(lon=178.0, lat=-18.0, given_name="Mele", phone="+6421555001")
    campaign = launched_campaign(olivia, active_crisis, message="Cyclone: {given_name}, are you safe? {checkin_url}",
                                 channels=("sms",))  # fmt: skip
    assert sending.send_batch(campaign_id=str(campaign.pk), first=0, last=2**62) == 1
    (message,) = outbox.iterdir()
    text = message.read_text()
    assert text.startswith("To: +6421555001\n")
    assert "Cyclone: Mele, are you safe? http://" in text
    delivery = Delivery.objects.get(campaign=campaign)
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.provider_message_id == f"file:{message.name}"


def test_a_message_sent_again_after_a_crash_rewrites_its_file_instead_of_adding_one(olivia, active_crisis, outbox):
    from notifications.channels import CHANNELS

    for _ in range(2):
        CHANNELS["sms"].send(to="+6421555001", subject="", text="Are you safe?", idempotency_key="delivery-7")
    assert [path.name for path in outbox.iterdir()] == ["delivery-7.txt"]


def test_the_outbox_is_readable_by_its_owner_only(outbox):
    from notifications.channels import CHANNELS

    CHANNELS["sms"].send(to="+6421555001", subject="", text="Are you safe?", idempotency_key="delivery-8")
    assert outbox.stat().st_mode & 0o777 == 0o700
    assert (outbox / "delivery-8.txt").stat().st_mode & 0o777 == 0o600


def test_a_send_without_a_provider_or_an_outbox_fails_and_writes_nothing(settings, tmp_path, monkeypatch):
    from notifications.channels import CHANNELS, SendError

    settings.SMS_PROVIDER_URL = ""
    settings.SMS_FILE_PATH = ""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SendError) as raised:
        CHANNELS["sms"].send(to="+6421555001", subject="", text="Mele, are you safe?", idempotency_key="delivery-9")
    assert not raised.value.transient
    assert list(tmp_path.iterdir()) == []


def test_a_worker_without_the_provider_marks_the_sms_failed_not_sent(
    olivia, active_crisis, settings, tmp_path, monkeypatch
):
    settings.SMS_PROVIDER_URL = "https://sms.example/send"
    traveller_with_stay(lon=178.0, lat=-18.0, given_name="Mele", phone="+6421555001")
    campaign = launched_campaign(olivia, active_crisis, channels=("sms",))
    settings.SMS_PROVIDER_URL = ""
    settings.SMS_FILE_PATH = ""
    monkeypatch.chdir(tmp_path)
    sending.send_batch(campaign_id=str(campaign.pk), first=0, last=2**62)
    assert Delivery.objects.get(campaign=campaign).status == DeliveryStatus.FAILED
    assert list(tmp_path.iterdir()) == []


def test_an_outbox_made_before_is_made_private(outbox):
    from notifications.channels import CHANNELS

    outbox.mkdir(mode=0o755)
    CHANNELS["sms"].send(to="+6421555001", subject="", text="Are you safe?", idempotency_key="delivery-10")
    assert outbox.stat().st_mode & 0o777 == 0o700


def test_without_a_provider_or_an_outbox_the_sms_channel_is_not_configured(settings):
    from notifications.channels import CHANNELS

    settings.SMS_PROVIDER_URL = ""
    settings.SMS_FILE_PATH = ""
    assert not CHANNELS["sms"].configured()


def test_production_refuses_an_sms_outbox():
    from tests.consular.test_production_settings import production_env, run_manage

    outbox = "/var/tmp/sms"  # noqa: S108 -- a setting's value the check must refuse, never written to
    result = run_manage("check", env=production_env(SMS_FILE_PATH=outbox))
    assert result.returncode != 0
    assert "SMS_FILE_PATH is for development" in result.stderr
