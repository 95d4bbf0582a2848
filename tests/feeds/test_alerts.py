"""The early warning: a feed crisis's exposure is computed as it arrives, and the posts it holds citizens of learn."""

from __future__ import annotations

from feeds.models import Alert
from feeds.parsers import parse
from feeds.services.ingest import ingest
from tests.factories import traveller_with_stay
from tests.feeds.test_ingest import cap_alert

WIDER = "-19.5,176.5 -19.5,180.0 -16.0,180.0 -16.0,176.5 -19.5,176.5"


def in_suva(start: str = "2026-11-25", end: str = "2026-12-10") -> None:
    traveller_with_stay(lon=178.44, lat=-18.14, country="FJ", start=start, end=end)


def in_labasa() -> None:
    traveller_with_stay(lon=179.39, lat=-16.43, country="FJ", start="2026-11-25", end="2026-12-10")


def arrive(identifier: str = "FJ-1", sent: str = "2026-12-01T10:00:00+12:00", **kwargs):
    return ingest(parse(cap_alert(identifier, sent, **kwargs)))


def test_a_feed_crisis_over_citizens_raises_an_entry_for_their_post_only(client_for, olivia, oscar):
    in_suva()
    arrive()
    inbox = client_for(olivia).get("/api/v1/alerts").json()["results"]
    assert [(entry["located"], entry["persons"], entry["acknowledged_at"]) for entry in inbox] == [(1, 1, None)]
    assert client_for(oscar).get("/api/v1/alerts").json()["results"] == []


def test_a_crisis_over_nobody_raises_nothing(pacific_post):
    arrive()
    assert not Alert.objects.exists()


def test_the_same_crisis_raises_again_only_when_its_exposure_grows(pacific_post):
    in_suva()
    arrive()
    arrive("FJ-2", "2026-12-01T11:00:00+12:00", msg_type="Update", references="FJ-1", headline="Still one person")
    assert Alert.objects.count() == 1
    in_labasa()
    arrive("FJ-3", "2026-12-01T12:00:00+12:00", msg_type="Update", references="FJ-2", polygon=WIDER)
    assert sorted(Alert.objects.values_list("located", flat=True)) == [1, 2]


def test_people_whose_stays_start_later_inside_the_events_window_count(pacific_post):
    in_suva(start="2026-12-05", end="2026-12-20")  # arrives after the onset
    arrive()
    assert Alert.objects.get().located == 1


def test_analysts_see_small_exposures_suppressed(client_for, ann):
    in_suva()
    arrive()
    entry = client_for(ann).get("/api/v1/alerts").json()["results"][0]
    assert (entry["located"], entry["located_suppressed"], entry["persons"]) == (None, True, None)


def test_an_officer_acknowledges_an_entry_once(client_for, olivia):
    in_suva()
    arrive()
    alert = Alert.objects.get()
    acknowledged = client_for(olivia).post(f"/api/v1/alerts/{alert.pk}/ack")
    assert acknowledged.status_code == 200 and acknowledged.json()["acknowledged_at"]
    assert client_for(olivia).post(f"/api/v1/alerts/{alert.pk}/ack").status_code == 409
    assert client_for(olivia).get("/api/v1/alerts?acknowledged=false").json()["results"] == []


def test_another_posts_entry_is_a_404_and_analysts_cannot_acknowledge(client_for, oscar, ann):
    in_suva()
    arrive()
    alert = Alert.objects.get()
    assert client_for(oscar).post(f"/api/v1/alerts/{alert.pk}/ack").status_code == 404
    assert client_for(ann).post(f"/api/v1/alerts/{alert.pk}/ack").status_code == 403
    assert Alert.objects.get().acknowledged_at is None


def test_a_bad_acknowledged_filter_is_a_400(client_for, olivia):
    assert client_for(olivia).get("/api/v1/alerts?acknowledged=maybe").status_code == 400


def test_proposals_are_ordered_by_the_posts_exposure(client_for, olivia):
    in_suva()
    in_labasa()
    arrive("SMALL", polygon="-18.3,178.3 -18.3,178.6 -18.0,178.6 -18.0,178.3 -18.3,178.3")
    arrive("EMPTY", polygon="-21.3,-175.3 -21.3,-175.0 -21.0,-175.0 -21.0,-175.3 -21.3,-175.3")
    arrive("WIDE", polygon=WIDER)
    listed = client_for(olivia).get("/api/v1/crises?origin=feed&order=-exposure").json()["results"]
    assert [(c["source"]["external_id"], c["exposure"]["located"]) for c in listed] == [
        ("WIDE", 2), ("SMALL", 1), ("EMPTY", 0),
    ]  # fmt: skip


def test_an_unknown_order_is_a_400(client_for, olivia):
    assert client_for(olivia).get("/api/v1/crises?order=title").status_code == 400
