"""Sending a batch in-process against the local fake SMS provider and Django's in-memory mail."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from notifications.models import Campaign, Delivery
from notifications.services import campaigns, sending
from tests.factories import traveller_with_stay


def launch(officer_user, crisis, channels=("sms",), messages=None):
    request = campaigns.campaign_validate(
        {
            "messages": messages
            or {"en": "Cyclone: {given_name}, reply via {checkin_url}", "fr": "Cyclone : {given_name}"},
            "default_language": "en",
            "channels": list(channels),
            "ask_checkin": True,
            "include_country_only": False,
        },
        crisis=crisis,
    )
    return campaigns.campaign_launch(crisis=crisis, user=officer_user, request=request)


def run_batches(campaign):
    return sending.send_batch(campaign_id=str(campaign.pk), first=0, last=2**62)


def test_each_recipient_gets_one_sms_in_their_language_with_a_checkin_link(olivia, active_crisis, sms, settings):
    traveller_with_stay(lon=178.0, lat=-18.0, given_name="Mele")
    campaign = launch(olivia, active_crisis)
    assert run_batches(campaign) == 1
    (text,) = sms.messages_to("+64211234567")
    assert text.startswith("Cyclone: Mele, reply via ")
    assert f"{settings.PUBLIC_BASE_URL}/checkin/" in text
    delivery = Delivery.objects.get()
    assert delivery.status == "sent" and delivery.provider_message_id == "msg-0" and delivery.attempts == 1
    assert Campaign.objects.get().status == "done"


def test_a_french_speaker_gets_the_french_message(olivia, active_crisis, sms):
    from registrations.models import Traveller

    traveller = traveller_with_stay(lon=178.0, lat=-18.0, given_name="Jean")
    Traveller.objects.filter(pk=traveller.pk).update(language="fr-CA")
    run_batches(launch(olivia, active_crisis))
    assert sms.messages_to("+64211234567") == ["Cyclone : Jean\n" + sms.messages_to("+64211234567")[0].split("\n")[1]]


def test_email_goes_through_djangos_email_backend(olivia, active_crisis):
    traveller_with_stay(lon=178.0, lat=-18.0)
    run_batches(launch(olivia, active_crisis, channels=("email",)))
    (message,) = mail.outbox
    assert message.to[0].startswith("t") and message.to[0].endswith("@example.test")
    assert message.subject == active_crisis.title
    assert message.extra_headers["Message-ID"].startswith("<delivery-")


def test_a_transient_failure_is_retried_later_with_backoff(olivia, active_crisis, sms):
    traveller_with_stay(lon=178.0, lat=-18.0)
    sms.fail_status = 503
    run_batches(launch(olivia, active_crisis))
    delivery = Delivery.objects.get()
    assert delivery.status == "pending"
    assert delivery.next_attempt_at is not None
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=20)
    assert delivery.last_error == "SMS provider answered HTTP 503"


@pytest.mark.parametrize("answer", [b"not json", b"[1, 2]", b"[" * 60000 + b"]" * 60000])
def test_an_accepted_message_with_an_unreadable_answer_is_sent_once_without_a_provider_id(
    olivia, active_crisis, sms, answer
):
    # The provider took the message: retrying because its answer is odd would send it twice.
    sms.answer_body = answer
    traveller_with_stay(lon=178.0, lat=-18.0)
    run_batches(launch(olivia, active_crisis))
    delivery = Delivery.objects.get()
    assert delivery.status == "sent" and delivery.provider_message_id == "" and delivery.attempts == 1
    assert sms.requests == 1


def test_a_permanent_failure_is_marked_failed_at_once(olivia, active_crisis, sms):
    traveller_with_stay(lon=178.0, lat=-18.0)
    sms.fail_status = 400
    run_batches(launch(olivia, active_crisis))
    assert Delivery.objects.get().status == "failed"


def test_a_delivery_that_keeps_failing_ends_dead_and_shows_in_the_counts(olivia, active_crisis, sms, settings):
    from notifications.selectors import campaign_progress

    traveller_with_stay(lon=178.0, lat=-18.0)
    sms.fail_status = 500
    campaign = launch(olivia, active_crisis)
    for _ in range(settings.DELIVERY_MAX_ATTEMPTS):
        Delivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        run_batches(campaign)
    assert Delivery.objects.get().status == "dead"
    assert campaign_progress(campaign)["dead"] == 1


def test_the_error_text_carries_no_personal_data(olivia, active_crisis, sms):
    traveller_with_stay(lon=178.0, lat=-18.0)
    sms.fail_status = 422
    run_batches(launch(olivia, active_crisis))
    assert "+64" not in Delivery.objects.get().last_error


def test_a_claim_held_by_another_worker_is_not_sent_twice(olivia, active_crisis, sms):
    traveller_with_stay(lon=178.0, lat=-18.0)
    campaign = launch(olivia, active_crisis)
    (delivery_id,) = Delivery.objects.values_list("id", flat=True)
    claimed = sending.claim(campaign_id=str(campaign.pk), first=delivery_id, last=delivery_id, limit=10)
    assert len(claimed) == 1
    assert sending.claim(campaign_id=str(campaign.pk), first=delivery_id, last=delivery_id, limit=10) == []


def test_an_expired_lease_is_claimed_again_and_counts_an_attempt(olivia, active_crisis, sms):
    traveller_with_stay(lon=178.0, lat=-18.0)
    campaign = launch(olivia, active_crisis)
    (delivery_id,) = Delivery.objects.values_list("id", flat=True)
    sending.claim(campaign_id=str(campaign.pk), first=delivery_id, last=delivery_id, limit=10)
    Delivery.objects.update(lease_until=timezone.now() - timedelta(seconds=1))  # that worker died
    (row,) = sending.claim(campaign_id=str(campaign.pk), first=delivery_id, last=delivery_id, limit=10)
    assert row[-1] == 2


def test_the_sweeper_queues_due_retries_and_abandoned_claims(olivia, active_crisis, sms):
    from django_q.models import OrmQ

    traveller_with_stay(lon=178.0, lat=-18.0)
    launch(olivia, active_crisis)
    Delivery.objects.update(status="sending", lease_until=timezone.now() - timedelta(seconds=5))
    assert sending.deliveries_sweep() == 1
    assert OrmQ.objects.count() == 1


def test_travellers_without_consent_are_never_messaged(olivia, active_crisis, sms):
    traveller_with_stay(lon=178.0, lat=-18.0, consent=False)
    assert launch(olivia, active_crisis).recipients == 0
    assert not Delivery.objects.exists()


def test_undecryptable_contact_data_fails_the_delivery_loudly_not_the_batch(olivia, active_crisis, sms, caplog):
    from registrations.models import Traveller

    broken = traveller_with_stay(lon=178.0, lat=-18.0)
    traveller_with_stay(lon=178.1, lat=-18.1, phone="+64 21 999 0000")
    Traveller.objects.filter(pk=broken.pk).update(phone_enc=b"\x01" + b"\x00" * 40)
    run_batches(launch(olivia, active_crisis))
    assert sorted(Delivery.objects.values_list("status", flat=True)) == ["failed", "sent"]
    assert "cannot be decrypted" in caplog.text


def test_a_launch_records_that_its_batches_are_all_queued(
    olivia, active_crisis, sms, django_capture_on_commit_callbacks
):
    from django_q.models import OrmQ

    traveller_with_stay(lon=178.0, lat=-18.0)
    with django_capture_on_commit_callbacks(execute=True):
        campaign = launch(olivia, active_crisis)
    campaign.refresh_from_db()
    assert campaign.batches_queued_at is not None
    assert OrmQ.objects.count() == 1


def test_the_sweeper_queues_the_batches_of_a_launch_interrupted_before_queueing(olivia, active_crisis, sms):
    from django_q.models import OrmQ

    traveller_with_stay(lon=178.0, lat=-18.0)
    campaign = launch(olivia, active_crisis)  # its on-commit queueing never runs here, as if the process died
    Campaign.objects.filter(pk=campaign.pk).update(created_at=timezone.now() - timedelta(minutes=6))
    assert sending.deliveries_sweep() == 1
    assert OrmQ.objects.count() == 1
    assert run_batches(campaign) == 1
    campaign.refresh_from_db()
    assert campaign.batches_queued_at is not None
    assert sending.deliveries_sweep() == 0


def test_the_sweeper_leaves_a_launch_that_is_still_queueing_alone(olivia, active_crisis, sms):
    from django_q.models import OrmQ

    traveller_with_stay(lon=178.0, lat=-18.0)
    launch(olivia, active_crisis)
    assert sending.deliveries_sweep() == 0
    assert OrmQ.objects.count() == 0


def test_erasing_a_traveller_removes_their_deliveries(olivia, active_crisis, sms):
    from privacy.services.retention import traveller_purge

    kept, erased = traveller_with_stay(lon=178.0, lat=-18.0), traveller_with_stay(lon=178.1, lat=-18.0)
    launch(olivia, active_crisis)
    traveller_purge(traveller=erased, reason="retention")
    assert list(Delivery.objects.values_list("traveller_id", flat=True)) == [kept.pk]


def test_a_campaign_is_done_only_when_its_earlier_batch_has_also_finished(olivia, active_crisis, sms):
    for n in range(3):
        traveller_with_stay(lon=178.0 + n / 10, lat=-18.0, phone=f"+6421555000{n}")
    campaign = launch(olivia, active_crisis)
    first, last = campaign.first_delivery_id, campaign.last_delivery_id
    assert sending.send_batch(campaign_id=str(campaign.pk), first=last, last=last) == 1
    campaign.refresh_from_db()
    assert campaign.status == "queued"
    assert sending.send_batch(campaign_id=str(campaign.pk), first=first, last=last - 1) == 2
    campaign.refresh_from_db()
    assert campaign.status == "done"


def test_progress_counts_only_the_campaigns_own_deliveries_within_its_id_range(olivia, active_crisis, sms):
    from notifications.selectors import campaign_progress

    traveller_with_stay(lon=178.0, lat=-18.0)
    earlier, later = launch(olivia, active_crisis), launch(olivia, active_crisis)
    # As if the two fan-outs had run at the same time and their ids interleaved.
    Campaign.objects.filter(pk=earlier.pk).update(last_delivery_id=later.last_delivery_id)
    earlier.refresh_from_db()
    assert campaign_progress(earlier)["queued"] == 1
    assert campaign_progress(later)["queued"] == 1


def test_an_unexpected_channel_error_fails_that_delivery_only_and_logs_no_message_text(olivia, active_crisis, caplog):
    from crises.models import Crisis

    # The API now refuses a title with a line break; a row written before that still holds one,
    # and Django's mail refuses it with BadHeaderError, whose message quotes the header.
    Crisis.objects.filter(pk=active_crisis.pk).update(title="Cyclone\nBcc: everyone@example.test")
    traveller_with_stay(lon=178.0, lat=-18.0)
    traveller_with_stay(lon=178.1, lat=-18.1)
    run_batches(launch(olivia, active_crisis, channels=("email",)))
    assert list(Delivery.objects.values_list("status", "last_error").distinct()) == [
        ("failed", "unexpected error (BadHeaderError)")
    ]
    assert "everyone@example.test" not in caplog.text and "Cyclone" not in caplog.text


def test_a_delivery_left_by_a_fan_out_that_raced_an_erasure_is_removed_and_the_campaign_ends(
    olivia, active_crisis, sms
):
    from django.db import connection

    traveller = traveller_with_stay(lon=178.0, lat=-18.0)
    campaign = launch(olivia, active_crisis)
    # As if the erasure had committed while the fan-out still held its snapshot: the
    # register's rows are gone, the delivery (no database foreign key) is not.
    with connection.cursor() as cursor:
        for table in ("registrations_stay", "registrations_trip", "registrations_traveller"):
            column = "id" if table == "registrations_traveller" else "traveller_id"
            cursor.execute(f"DELETE FROM {table} WHERE {column} = %s", [traveller.pk])  # noqa: S608 - fixed names
    assert Delivery.objects.filter(traveller_id=traveller.pk).exists()
    assert run_batches(campaign) == 0
    assert not Delivery.objects.filter(traveller_id=traveller.pk).exists()
    assert Campaign.objects.get().status == "done"


def test_a_batch_out_of_time_hands_back_its_unsent_claims_and_continues_in_a_new_task(
    olivia, active_crisis, sms, settings
):
    from django_q.models import OrmQ

    settings.DELIVERY_TASK_BUDGET_SECONDS = 0.5
    sms.delay = 0.3  # each send slower than the budget allows for the whole claim
    for n in range(4):
        traveller_with_stay(lon=178.0 + n / 100, lat=-18.0)
    campaign = launch(olivia, active_crisis)
    OrmQ.objects.all().delete()  # the launch's own batches: only the continuation matters here
    sent = run_batches(campaign)
    assert 1 <= sent < 4
    unsent = Delivery.objects.exclude(status="sent")
    assert {(d.status, d.attempts, d.lease_until) for d in unsent} == {("pending", 0, None)}
    assert OrmQ.objects.count() == 1  # the continuation


def test_a_traveller_who_withdrew_consent_after_the_fan_out_is_not_messaged(olivia, active_crisis, sms):
    from registrations.models import Traveller

    traveller = traveller_with_stay(lon=178.0, lat=-18.0)
    campaign = launch(olivia, active_crisis)
    Traveller.objects.filter(pk=traveller.pk).update(consent_contact=False)  # as PATCH /me/profile does
    assert run_batches(campaign) == 0
    assert sms.requests == 0
    assert Delivery.objects.get().status == "cancelled"


def test_closing_a_campaign_cancels_what_it_has_not_sent(client_for, olivia, active_crisis, sms):
    traveller_with_stay(lon=178.0, lat=-18.0)
    campaign = launch(olivia, active_crisis)
    body = client_for(olivia).post(f"/api/v1/campaigns/{campaign.pk}/close").json()
    assert body["cancelled"] == 1 and body["queued"] == 0
    assert run_batches(campaign) == 0
    assert sms.requests == 0


def test_closing_the_crisis_closes_its_campaigns_and_their_check_ins(client_for, olivia, active_crisis, sms, api):
    from notifications import messages

    traveller = traveller_with_stay(lon=178.0, lat=-18.0)
    campaign = launch(olivia, active_crisis)
    from crises.services.lifecycle import crisis_transition

    crisis_transition(crisis=active_crisis, user=active_crisis.created_by, action="close")
    assert Campaign.objects.get().status == "closed"
    assert run_batches(campaign) == 0 and sms.requests == 0
    token = messages.checkin_token(campaign.pk, traveller.pk)
    assert api.post(f"/api/v1/checkins/{token}", {"status": "safe"}, format="json").status_code == 410


def test_a_key_rotation_retiring_a_version_mid_batch_loses_no_message(key_file, olivia, active_crisis, monkeypatch):
    # key_file first: every key, the staff's too, is then wrapped under the file's versions.
    import io

    from django.core.management import call_command

    from notifications import channels

    traveller_with_stay(lon=178.0, lat=-18.0)
    traveller_with_stay(lon=178.1, lat=-18.1)
    campaign = launch(olivia, active_crisis, channels=("email",))
    real_send = channels.CHANNELS["email"].send
    rotated: list[bool] = []

    def send_then_rotate(**kwargs):
        result = real_send(**kwargs)
        if not rotated:  # an operator rotates and retires while the worker is mid-batch
            rotated.append(True)
            call_command("rotate_keys", "--retire-old", "--wait-seconds", "5", stdout=io.StringIO())
        return result

    monkeypatch.setattr(channels.CHANNELS["email"], "send", send_then_rotate)
    run_batches(campaign)
    assert sorted(Delivery.objects.values_list("status", flat=True)) == ["sent", "sent"]
    assert len(mail.outbox) == 2
