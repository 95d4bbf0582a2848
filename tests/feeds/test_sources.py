"""Feed sources: fetched safely, polled conditionally, managed by admins, scheduled by their rows."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db import connection
from django_q.models import Schedule

from crises.models import Crisis, Status
from feeds import fetch as fetch_module
from feeds.fetch import FetchError, fetch
from feeds.models import FeedItem, FeedSource
from feeds.services.sources import feed_source_create, feed_source_poll
from tests.factories import traveller_with_stay
from tests.feeds.feed_server import FeedServer
from tests.feeds.test_ingest import cap_alert

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def feeds():
    with FeedServer() as server:
        yield server


@pytest.fixture
def local_allowed(settings):
    settings.FEED_FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]


def test_a_feed_on_a_loopback_address_is_refused(feeds):
    with pytest.raises(FetchError, match="non-public address"):
        fetch(feeds.url + "/gdacs.xml")
    assert feeds.requests == []


def test_a_name_resolving_to_loopback_is_refused_too(feeds):
    port = urlsplit(feeds.url).port
    with pytest.raises(FetchError, match="non-public address"):
        fetch(f"http://localhost:{port}/gdacs.xml")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/feed.xml", "gopher://x/", "/relative"])
def test_only_http_and_https_are_fetched(url):
    with pytest.raises(FetchError, match="only http and https"):
        fetch(url)


def test_credentials_in_the_address_are_refused(local_allowed, feeds):
    with pytest.raises(FetchError, match="credentials"):
        fetch(feeds.url.replace("http://", "http://user:secret@") + "/gdacs.xml")


def test_a_redirect_to_the_inside_is_refused_at_its_hop(local_allowed, feeds):
    with pytest.raises(FetchError, match="non-public address"):
        fetch(feeds.url + "/to-inside")


def test_three_redirects_are_followed_and_a_fourth_is_refused(local_allowed, feeds):
    assert fetch(feeds.url + "/redirect/3").status == 200
    with pytest.raises(FetchError, match="more than 3 redirects"):
        fetch(feeds.url + "/redirect/4")


def test_a_body_over_the_cap_is_refused_by_counting_not_by_its_headers(local_allowed, feeds):
    with pytest.raises(FetchError, match="larger than 5 MB"):
        fetch(feeds.url + "/big")


def test_a_slow_body_is_cut_off_at_the_deadline(local_allowed, feeds, monkeypatch):
    monkeypatch.setattr(fetch_module, "TIMEOUT_SECONDS", 1.0)
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"took more than|no answer within"):
        fetch(feeds.url + "/slow")
    assert time.monotonic() - started < 2.5


def test_an_unchanged_feed_costs_one_request_and_no_write(local_allowed, feeds):
    source = feed_source_create(data={"name": "GDACS", "kind": "gdacs", "url": feeds.url + "/gdacs.xml"})
    first = feed_source_poll(source=source)
    assert first.summary is not None and first.summary.created == 4
    source.refresh_from_db()
    before = (source.updated_at, FeedItem.objects.count(), Crisis.objects.count())
    feeds.requests.clear()
    again = feed_source_poll(source=source)
    source.refresh_from_db()
    assert (again.changed, feeds.requests) == (False, ["/gdacs.xml"])
    assert (source.updated_at, FeedItem.objects.count(), Crisis.objects.count()) == before


def test_a_failed_poll_is_recorded_on_its_source_and_does_not_stop_another(local_allowed, feeds):
    broken = feed_source_create(data={"name": "Broken", "kind": "cap", "url": feeds.url + "/missing.xml"})
    working = feed_source_create(data={"name": "Working", "kind": "gdacs", "url": feeds.url + "/gdacs.xml"})
    assert feed_source_poll(source=broken).failure == "the server answered 404"
    assert feed_source_poll(source=working).summary is not None
    broken.refresh_from_db()
    working.refresh_from_db()
    assert (broken.last_failure_reason, broken.last_success_at) == ("the server answered 404", None)
    assert working.last_success_at is not None and working.last_run["created"] == 4


def test_an_index_feed_that_links_to_its_cap_messages_is_followed(local_allowed, feeds):
    message = feeds.serve("/cap/fj-1.xml", cap_alert("FJ-1", "2026-12-01T10:00:00+12:00"))
    index = f"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Index</title>
      <entry><id>x</id><title>Flood</title><link href="{message}"/></entry></feed>""".encode()
    source = feed_source_create(data={"name": "Index", "kind": "cap", "url": feeds.serve("/index.atom", index)})
    result = feed_source_poll(source=source)
    assert result.summary is not None and result.summary.created == 1
    assert Crisis.objects.get().source_external_id == "FJ-1"


def test_a_sources_rule_activates_an_event_with_people_inside(local_allowed, feeds):
    traveller_with_stay(lon=178.4, lat=-18.0, country="FJ", start="2026-11-25", end="2026-12-10")
    url = feeds.serve("/fj.xml", cap_alert("FJ-1", "2026-12-01T10:00:00+12:00"))
    source = feed_source_create(data={"name": "Fiji met", "kind": "cap", "url": url,
                                      "activate_min_severity": "severe", "activate_min_located": 1})  # fmt: skip
    result = feed_source_poll(source=source)
    assert result.summary is not None and result.summary.activated == 1
    crisis = Crisis.objects.get()
    assert (crisis.status, crisis.post_id) == (Status.ACTIVE, None)


def test_a_rule_leaves_an_event_with_nobody_inside_as_a_proposal(local_allowed, feeds):
    url = feeds.serve("/fj.xml", cap_alert("FJ-1", "2026-12-01T10:00:00+12:00"))
    source = feed_source_create(data={"name": "Fiji met", "kind": "cap", "url": url,
                                      "activate_min_severity": "severe", "activate_min_located": 1})  # fmt: skip
    feed_source_poll(source=source)
    assert Crisis.objects.get().status == Status.DRAFT


SOURCE = {"name": "USGS day", "kind": "usgs", "url": "https://earthquake.usgs.gov/feed/all_day.geojson"}


def test_an_admin_adds_a_source_and_its_schedule_follows_the_row(client_for, ada):
    client = client_for(ada)
    created = client.post("/api/v1/feed-sources", {**SOURCE, "poll_minutes": 5}, format="json")
    assert created.status_code == 201
    source_id = created.json()["id"]
    schedule = Schedule.objects.get(name=f"feed-source-{source_id}")
    assert (schedule.func, schedule.minutes, schedule.args) == ("feeds.tasks.poll_feed_source", 5, repr(source_id))
    client.patch(f"/api/v1/feed-sources/{source_id}", {"poll_minutes": 15}, format="json")
    assert Schedule.objects.get(name=f"feed-source-{source_id}").minutes == 15
    client.patch(f"/api/v1/feed-sources/{source_id}", {"enabled": False}, format="json")
    assert not Schedule.objects.filter(name=f"feed-source-{source_id}").exists()
    client.patch(f"/api/v1/feed-sources/{source_id}", {"enabled": True}, format="json")
    assert client.delete(f"/api/v1/feed-sources/{source_id}").status_code == 204
    assert not Schedule.objects.filter(name__startswith="feed-source-").exists()


def test_the_source_shows_its_last_run(client_for, ada, local_allowed, feeds):
    source = feed_source_create(data={"name": "GDACS", "kind": "gdacs", "url": feeds.url + "/gdacs.xml"})
    polled = client_for(ada).post(f"/api/v1/feed-sources/{source.pk}/poll")
    assert polled.status_code == 200 and polled.json()["created"] == 4
    shown = client_for(ada).get(f"/api/v1/feed-sources/{source.pk}").json()
    assert shown["last_run"]["created"] == 4 and shown["last_success_at"] and shown["last_failure_reason"] == ""


@pytest.mark.parametrize(
    ("field", "value"),
    [("url", "file:///etc/passwd"), ("url", "http://user:pw@example.org/"), ("kind", "rss"), ("poll_minutes", 0),
     ("poll_minutes", "10"), ("activate_min_severity", "terrible"), ("name", "two\nlines"), ("surprise", 1)],
)  # fmt: skip
def test_a_bad_source_gets_400_naming_the_field_and_writes_nothing(client_for, ada, field, value):
    response = client_for(ada).post("/api/v1/feed-sources", {**SOURCE, field: value}, format="json")
    assert response.status_code == 400 and field in response.json()["error"]["fields"]
    assert not FeedSource.objects.exists() and not Schedule.objects.filter(name__startswith="feed-source-").exists()


def test_two_sources_cannot_share_a_name(client_for, ada):
    client_for(ada).post("/api/v1/feed-sources", SOURCE, format="json")
    assert client_for(ada).post("/api/v1/feed-sources", SOURCE, format="json").status_code == 409


def test_only_admins_manage_sources(client_for, olivia, alice):
    for user in (olivia, alice):
        assert client_for(user).get("/api/v1/feed-sources").status_code == 403
        assert client_for(user).post("/api/v1/feed-sources", SOURCE, format="json").status_code == 403
    assert not FeedSource.objects.exists()


def test_an_unknown_source_id_is_a_404(client_for, ada):
    missing = "00000000-0000-4000-8000-000000000000"
    assert client_for(ada).get(f"/api/v1/feed-sources/{missing}").status_code == 404
    assert client_for(ada).post(f"/api/v1/feed-sources/{missing}/poll").status_code == 404


@pytest.mark.slow
def test_a_real_worker_polls_a_local_feed_on_the_sources_schedule(transactional_db, feeds):
    source = feed_source_create(data={"name": "GDACS", "kind": "gdacs", "url": feeds.url + "/gdacs.xml"})
    parts = urlsplit(django_settings.DATABASE_URL)
    env = {
        **os.environ,
        "DATABASE_URL": urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"])),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "Q_WORKERS": "1",
        "FEED_FETCH_ALLOWED_NETWORKS": "127.0.0.1/32",
    }
    worker = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while not FeedSource.objects.filter(pk=source.pk, last_success_at__isnull=False).exists():
            assert worker.poll() is None, "the worker exited"
            assert time.monotonic() < deadline, "the schedule did not poll the feed within 90 s"
            time.sleep(0.5)
    finally:
        os.killpg(worker.pid, 9)
        worker.wait()
    assert Crisis.objects.filter(origin="feed").count() == 4
    assert feeds.requests[:1] == ["/gdacs.xml"]


def test_the_command_fetches_a_url_as_a_source_would(local_allowed, feeds):
    out = io.StringIO()
    call_command("ingest_feed", "--url", feeds.url + "/gdacs.xml", stdout=out)
    assert out.getvalue().startswith("gdacs: created 4")


def test_the_command_refuses_a_url_on_the_inside_with_one_line(feeds):
    with pytest.raises(CommandError, match="non-public address"):
        call_command("ingest_feed", "--url", feeds.url + "/gdacs.xml")
    assert not FeedItem.objects.exists()
