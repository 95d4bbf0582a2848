"""Nothing lost, nothing twice: real django-q2 workers, a real database, a local fake SMS provider."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection

from crises.services.lifecycle import crisis_transition
from notifications.models import Delivery
from tests.factories import declared_crisis, launched_campaign, traveller_with_stay

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def start_worker(sms):
    processes = []

    def start(**env_overrides):
        url = urlunsplit(urlsplit(settings.DATABASE_URL)._replace(path="/" + connection.settings_dict["NAME"]))
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "SMS_PROVIDER_URL": sms.url,
            "SMS_PROVIDER_TOKEN": sms.token,
            "Q_WORKERS": "2",
            "DELIVERY_CLAIM_SIZE": "5",
            "DELIVERY_LEASE_SECONDS": "3",
            "Q_RETRY_SECONDS": "4",
            "LOG_LEVEL": "WARNING",
            **env_overrides,
        }
        process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        processes.append(process)
        return process

    yield start
    for process in processes:
        kill(process)


def kill(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def campaign_to(count, olivia, ada, django_capture_on_commit_callbacks=None):
    crisis = crisis_transition(crisis=declared_crisis(ada), user=ada, action="activate")
    for n in range(count):
        traveller_with_stay(lon=178.0, lat=-18.0, phone=f"+6421{n:07d}")
    # Outside any test transaction: on_commit queues the batches for real.
    return launched_campaign(
        olivia, crisis, message="Cyclone: {given_name}, are you safe?", channels=["sms"], ask_checkin=False
    )


def wait_until(condition, *, timeout, what):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def all_settled(campaign):
    return lambda: not Delivery.objects.filter(campaign=campaign, status__in=["pending", "sending"]).exists()


def assert_exactly_one_message_each(sms, count):
    for n in range(count):
        assert len(sms.messages_to(f"+6421{n:07d}")) == 1, f"recipient {n}"
    assert len(sms.delivered) == count


def test_a_worker_killed_mid_campaign_loses_nothing_and_sends_nothing_twice(start_worker, sms, olivia, ada):
    count = 40
    sms.delay = 0.05
    campaign = campaign_to(count, olivia, ada)
    first = start_worker()
    wait_until(lambda: len(sms.delivered) >= 8, timeout=60, what="the first messages")
    kill(first)  # SIGKILL: no chance to release claims or acknowledge its task
    assert len(sms.delivered) < count
    start_worker()
    wait_until(all_settled(campaign), timeout=90, what="every delivery to settle")
    assert set(Delivery.objects.filter(campaign=campaign).values_list("status", flat=True)) == {"sent"}
    assert_exactly_one_message_each(sms, count)
    # The killed worker's claims were taken over: their attempts count it.
    assert Delivery.objects.filter(campaign=campaign, attempts__gt=1).exists()


def test_a_send_slower_than_the_queues_retry_window_is_still_sent_once(start_worker, sms, olivia, ada):
    count = 12
    sms.delay = 0.8  # a claim of 5 takes 4 s, longer than the 2 s retry window: the task is redelivered
    campaign = campaign_to(count, olivia, ada)
    start_worker(Q_RETRY_SECONDS="2", DELIVERY_LEASE_SECONDS="30")
    wait_until(all_settled(campaign), timeout=90, what="every delivery to settle")
    assert_exactly_one_message_each(sms, count)


def test_two_worker_clusters_on_one_database_send_each_message_once(start_worker, sms, olivia, ada):
    count = 40
    sms.delay = 0.02
    campaign = campaign_to(count, olivia, ada)
    start_worker(Q_RETRY_SECONDS="2", DELIVERY_LEASE_SECONDS="30")
    start_worker(Q_RETRY_SECONDS="2", DELIVERY_LEASE_SECONDS="30")
    wait_until(all_settled(campaign), timeout=90, what="every delivery to settle")
    assert_exactly_one_message_each(sms, count)
