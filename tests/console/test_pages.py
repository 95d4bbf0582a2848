"""The console's pages through Django's client: sign-in, roles, headers, and the same numbers as the API."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from accounts.models import Role
from consular.models import AuditEntry
from crises.models import Crisis, RevealRequest
from crises.services.lifecycle import crisis_transition
from notifications.models import Campaign
from tests.factories import StaffFactory, declared_crisis, square, traveller_with_stay

PASSWORD = "correct horse battery"
AREA = square(178.0, -18.5, 178.8, -17.8)


@pytest.fixture
def officer(pacific_post):
    return StaffFactory.create(email="otto@mfa.example", password=PASSWORD, role=Role.OFFICER, post=pacific_post)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user, backend="accounts.backends.EmailBlindIndexBackend")
    return client


def test_signing_in_opens_the_console_and_is_audited(officer):
    client = Client()
    response = client.post("/console/login/", {"email": "otto@mfa.example", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/console/"
    assert client.get("/console/").status_code == 200
    entry = AuditEntry.objects.filter(action="staff.login", actor_id=officer.pk).get()
    assert entry.details == {"via": "console"}


def test_a_wrong_password_is_refused_and_opens_nothing(officer):
    client = Client()
    response = client.post("/console/login/", {"email": "otto@mfa.example", "password": "wrong password!"})
    assert response.status_code == 401
    assert client.get("/console/")["Location"].startswith("/console/login/")


def test_a_citizen_cannot_sign_in_to_the_console():
    from tests.factories import UserFactory

    UserFactory.create(email="cit@example.test", password=PASSWORD)
    response = Client().post("/console/login/", {"email": "cit@example.test", "password": PASSWORD})
    assert response.status_code == 401 and b"incorrect" in response.content


def test_sign_in_goes_back_only_into_the_console(officer):
    response = Client().post(
        "/console/login/", {"email": "otto@mfa.example", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/console/"


def test_failed_sign_ins_are_throttled_as_the_api_throttles_them(officer, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 2
    client = Client()
    statuses = [
        client.post("/console/login/", {"email": "otto@mfa.example", "password": "nope nope nope"}).status_code
        for _ in range(3)
    ]
    assert statuses == [401, 401, 429]


def test_signing_out_ends_the_session_on_the_server(officer):
    client = signed_in(officer)
    cookie = client.cookies["console_session"].value
    assert client.post("/console/logout/").status_code == 302
    replay = Client()
    replay.cookies["console_session"] = cookie
    assert replay.get("/console/").status_code == 302


def test_signing_out_needs_a_post_with_the_csrf_token(officer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer, backend="accounts.backends.EmailBlindIndexBackend")
    assert client.post("/console/logout/").status_code == 403
    assert client.get("/console/").status_code == 200


def test_every_console_page_has_a_strict_csp_and_is_not_stored(officer):
    response = signed_in(officer).get("/console/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy and response["X-Frame-Options"] == "DENY"
    assert "no-store" in response["Cache-Control"]


def test_the_session_lasts_twelve_hours(officer, settings):
    assert settings.SESSION_COOKIE_AGE == 12 * 3600
    response = Client().post("/console/login/", {"email": "otto@mfa.example", "password": PASSWORD})
    cookie = response.cookies["console_session"]
    assert cookie["max-age"] == 12 * 3600 and cookie["httponly"] and cookie["samesite"] == "Strict"


def test_the_api_does_not_read_the_console_cookie(officer):
    client = signed_in(officer)
    assert client.get("/api/v1/crises").status_code == 401


def test_an_officer_of_another_post_cannot_open_the_crisis(olivia, oscar):
    crisis = declared_crisis(olivia, area=AREA)
    assert signed_in(oscar).get(f"/console/crises/{crisis.pk}/").status_code == 404
    assert signed_in(oscar).get(f"/console/crises/{crisis.pk}/progress.json").status_code == 404


def test_an_analyst_sees_suppressed_counts_and_no_reveal(ann, olivia):
    traveller_with_stay(lon=178.4, lat=-18.1)
    crisis = declared_crisis(olivia, area=AREA)
    crisis_transition(crisis=crisis, user=olivia, action="activate")
    page = signed_in(ann).get(f"/console/crises/{crisis.pk}/").content.decode()
    assert "&lt;10" in page and "Reveal who is there" not in page
    assert signed_in(ann).post(f"/console/crises/{crisis.pk}/reveal/", {"reason": "x" * 30}).status_code == 403


def test_the_preview_counts_what_the_saved_crisis_counts(olivia, api, client_for):
    for n in range(12):
        traveller_with_stay(lon=178.1 + n * 0.05, lat=-18.2)
    traveller_with_stay(country="FJ")  # country only
    body = {"area": AREA, "starts_at": "2026-11-10T00:00:00Z", "ends_at": None}
    preview = signed_in(olivia).post("/console/data/preview.json", body, content_type="application/json").json()
    crisis = client_for(olivia).post(
        "/api/v1/crises", {"title": "T", "severity": "severe", "starts_at": "2026-11-10T00:00:00Z", "area": AREA},
        format="json",
    ).json()  # fmt: skip
    affected = client_for(olivia).get(f"/api/v1/crises/{crisis['id']}/affected").json()
    assert preview["located"] == affected["located"]["total"] == 12
    assert preview["countries"] == crisis["countries"]


def test_a_small_preview_count_is_hidden_whoever_asks(olivia):
    traveller_with_stay(lon=178.4, lat=-18.1)
    body = {"area": AREA, "starts_at": "2026-11-10T00:00:00Z"}
    preview = signed_in(olivia).post("/console/data/preview.json", body, content_type="application/json").json()
    assert preview["located"] is None and preview["located_suppressed"] is True


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1]", json.dumps({"area": {"type": "Point", "coordinates": [1, 2]}}).encode(),
     json.dumps({"area": AREA, "starts_at": "yesterday"}).encode(),
     json.dumps({"area": AREA, "starts_at": "2026-02-30T10:00"}).encode()],
    ids=["not json", "not an object", "not an area", "bad date", "impossible date"],
)  # fmt: skip
def test_a_bad_preview_is_a_400(olivia, body):
    response = signed_in(olivia).post("/console/data/preview.json", body, content_type="application/json")
    assert response.status_code == 400 and "error" in response.json()


def test_declaring_from_the_form_saves_a_draft_and_audits_it(olivia):
    response = signed_in(olivia).post(
        "/console/crises/new/",
        {"title": "Floods", "severity": "severe", "starts_at": "2026-11-10T00:00", "area": json.dumps(AREA)},
    )
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action="crisis.declare", actor_id=olivia.pk).exists()


def test_declaring_without_an_area_says_so_and_saves_nothing(olivia):
    response = signed_in(olivia).post(
        "/console/crises/new/", {"title": "Floods", "severity": "severe", "starts_at": "2026-11-10T00:00"}
    )
    assert response.status_code == 400 and b"Draw the area" in response.content
    assert not AuditEntry.objects.filter(action="crisis.declare").exists()


def test_a_cap_file_gives_the_area_title_and_times(olivia):
    from django.core.files.uploadedfile import SimpleUploadedFile

    cap = b"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x-1</identifier><sender>met@example</sender>
<sent>2026-11-10T00:00:00+00:00</sent><status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
<info><language>en-US</language><category>Met</category><event>Cyclone</event><urgency>Immediate</urgency>
<severity>Extreme</severity><certainty>Observed</certainty><onset>2026-11-10T01:00:00+00:00</onset>
<headline>Cyclone warning for Viti Levu</headline>
<area><areaDesc>Viti Levu</areaDesc>
<polygon>-18.5,178.0 -18.5,178.8 -17.8,178.8 -17.8,178.0 -18.5,178.0</polygon></area>
</info></alert>"""
    response = signed_in(olivia).post(
        "/console/crises/new/",
        {"title": "", "severity": "extreme", "starts_at": "", "area_file": SimpleUploadedFile("a.xml", cap)},
    )
    assert response.status_code == 302
    crisis = Crisis.objects.get()
    assert crisis.title == "Cyclone warning for Viti Levu" and crisis.starts_at.hour == 1
    assert crisis.countries == ["FJ"]


def test_a_file_that_is_neither_geojson_nor_cap_is_refused(olivia):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = signed_in(olivia).post(
        "/console/crises/new/",
        {"title": "T", "severity": "severe", "starts_at": "2026-11-10T00:00",
         "area_file": SimpleUploadedFile("a.txt", b"hello")},
    )  # fmt: skip
    assert response.status_code == 400 and b"neither GeoJSON nor a CAP" in response.content
    assert not Crisis.objects.exists()


def active_crisis_with_people(officer, count=3):
    for n in range(count):
        traveller_with_stay(lon=178.2 + 0.05 * n, lat=-18.1)
    crisis = declared_crisis(officer, area=AREA)
    crisis_transition(crisis=crisis, user=officer, action="activate")
    return crisis


def test_a_crisis_across_the_antimeridian_is_drawn_whole(olivia):
    from crises.selectors import crisis_outlines

    crisis = declared_crisis(olivia, area=square(178.0, -19.0, 182.0, -17.0))
    assert crisis.area.bounds[0] == -180  # stored cut at ±180°
    drawn = json.loads(crisis_outlines([crisis.pk], pixels=2000)[crisis.pk])
    longitudes = [x for polygon in drawn["coordinates"] for ring in polygon for x, _ in ring]
    assert min(longitudes) >= 178.0 and max(longitudes) == pytest.approx(182.0)


def test_the_situation_lists_the_posts_crises_with_their_exposure(olivia, oscar):
    crisis = active_crisis_with_people(olivia, count=11)
    mine = signed_in(olivia).get("/console/data/crises.json").json()["features"]
    assert [f["properties"]["id"] for f in mine] == [str(crisis.pk)]
    page = signed_in(olivia).get("/console/")
    assert [(c.pk, exposure["located"]) for c, exposure in page.context["rows"]] == [(crisis.pk, 11)]
    assert signed_in(oscar).get("/console/data/crises.json").json()["features"] == []


def test_a_campaign_without_a_message_is_refused_and_sends_nothing(olivia):
    crisis = active_crisis_with_people(olivia)
    response = signed_in(olivia).post(
        f"/console/crises/{crisis.pk}/campaign/", {"default_language": "en", "channels": ["email"], "confirm": "launch"}
    )
    assert response.status_code == 400
    assert not Campaign.objects.exists()


def test_the_dry_run_sends_nothing_and_the_launch_launches_once(olivia):
    crisis = active_crisis_with_people(olivia)
    client = signed_in(olivia)
    form = {"message_en": "Are you safe? {checkin_url}", "default_language": "en", "channels": ["email"],
            "ask_checkin": "on"}  # fmt: skip
    dry_run = client.post(f"/console/crises/{crisis.pk}/campaign/", {**form, "confirm": "dry-run"})
    assert dry_run.status_code == 200 and not Campaign.objects.exists()
    key = dry_run.context["form"]["idempotency_key"].value()
    for _ in range(2):  # a double click
        client.post(f"/console/crises/{crisis.pk}/campaign/", {**form, "idempotency_key": key, "confirm": "launch"})
    assert Campaign.objects.count() == 1


def test_a_reveal_needs_a_reason_of_twenty_characters_and_writes_nothing_without(olivia):
    crisis = active_crisis_with_people(olivia)
    client = signed_in(olivia)
    response = client.post(f"/console/crises/{crisis.pk}/reveal/", reveal_form(client, crisis, "too short"))
    assert response.status_code == 400
    assert not AuditEntry.objects.filter(action="reveal").exists()


def reveal_form(client, crisis, reason="Cyclone: calling everyone in the area"):
    nonce = client.get(f"/console/crises/{crisis.pk}/").context["reveal_nonce"]
    return {"reason": reason, "nonce": nonce}


def test_a_reveal_is_audited_once_and_its_csv_is_in_the_page(olivia):
    crisis = active_crisis_with_people(olivia)
    client = signed_in(olivia)
    response = client.post(f"/console/crises/{crisis.pk}/reveal/", reveal_form(client, crisis))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert AuditEntry.objects.filter(action="reveal").count() == 1
    assert b"data:text/csv;charset=utf-8;base64," in response.content


def test_a_supervisor_approves_a_request_and_the_officer_fetches_it(olivia, sam, settings):
    settings.REVEAL_APPROVAL_ABOVE = 1
    crisis = active_crisis_with_people(olivia)
    client = signed_in(olivia)
    pending = client.post(f"/console/crises/{crisis.pk}/reveal/", reveal_form(client, crisis))
    assert b"Waiting for a supervisor" in pending.content
    request = RevealRequest.objects.get()
    signed_in(sam).post(f"/console/reveals/{request.pk}/", {"action": "approve"})
    fetched = signed_in(olivia).post(f"/console/reveals/{request.pk}/", {"action": "fetch"})
    assert fetched.status_code == 200 and b"Download as CSV" in fetched.content


def test_an_officer_cannot_approve_a_request(olivia, settings):
    settings.REVEAL_APPROVAL_ABOVE = 1
    crisis = active_crisis_with_people(olivia)
    client = signed_in(olivia)
    client.post(f"/console/crises/{crisis.pk}/reveal/", reveal_form(client, crisis))
    request = RevealRequest.objects.get()
    assert signed_in(olivia).post(f"/console/reveals/{request.pk}/", {"action": "approve"}).status_code == 400
    request.refresh_from_db()
    assert request.status == "pending"


def test_the_audit_log_is_for_supervisors_and_verifies_its_chain(olivia, sam):
    active_crisis_with_people(olivia)
    assert signed_in(olivia).get("/console/audit/").status_code == 403
    page = signed_in(sam).get("/console/audit/?action=crisis.")
    assert b"crisis.declare" in page.content and b"crisis.activate" in page.content
    verified = signed_in(sam).post("/console/audit/verify/")
    assert b"Intact" in verified.content


def test_feed_sources_are_shown_to_admins_only(ada, olivia):
    from feeds.models import FeedSource

    FeedSource.objects.create(name="GDACS", kind="gdacs", url="https://www.gdacs.org/xml/rss.xml")
    assert b"GDACS" in signed_in(ada).get("/console/feeds/").content
    assert signed_in(olivia).get("/console/feeds/").status_code == 403


def test_each_preview_is_audited_with_its_area_but_not_its_counts(olivia):
    body = {"area": AREA, "starts_at": "2026-11-10T00:00:00Z"}
    signed_in(olivia).post("/console/data/preview.json", body, content_type="application/json")
    entry = AuditEntry.objects.get(action="crisis.preview", actor_id=olivia.pk)
    assert set(entry.details) == {"countries", "vertex_count", "bounds", "area_sha256"}


def test_previews_are_rate_limited_per_user(olivia, settings):
    settings.AREA_PREVIEWS_PER_MINUTE = 2
    client = signed_in(olivia)
    body = {"area": AREA, "starts_at": "2026-11-10T00:00:00Z"}
    statuses = [client.post("/console/data/preview.json", body, content_type="application/json") for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429] and int(statuses[-1]["Retry-After"]) >= 1


def test_an_analyst_cannot_preview_areas(ann):
    body = {"area": AREA, "starts_at": "2026-11-10T00:00:00Z"}
    response = signed_in(ann).post("/console/data/preview.json", body, content_type="application/json")
    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="crisis.preview").exists()


def test_a_reveal_sent_again_from_a_reload_is_refused_and_reveals_nothing(olivia):
    crisis = active_crisis_with_people(olivia)
    client = signed_in(olivia)
    page = client.get(f"/console/crises/{crisis.pk}/")
    form = {"reason": "Cyclone: calling everyone in the area", "nonce": page.context["reveal_nonce"]}
    assert client.post(f"/console/crises/{crisis.pk}/reveal/", form).status_code == 200
    assert client.post(f"/console/crises/{crisis.pk}/reveal/", form).status_code == 409
    assert AuditEntry.objects.filter(action="reveal").count() == 1


def test_hidden_counts_read_as_fewer_than_k_in_the_page(ann, olivia):
    crisis = active_crisis_with_people(olivia, count=3)
    html = signed_in(ann).get(f"/console/crises/{crisis.pk}/").content.decode()
    assert "<k<" not in html and "&lt;k" in html


def test_a_csv_cell_that_a_spreadsheet_would_run_is_written_as_text():
    import base64

    from console.views.people import _csv_link

    record = {"ref": "R1", "given_name": "=cmd()", "family_name": "\t=1+1", "phone": "", "email": "",
              "language": "en", "stays": [], "residences": []}  # fmt: skip
    text = base64.b64decode(_csv_link([record]).split(",", 1)[1]).decode()
    assert "'=cmd()" in text and "'\t=1+1" in text


def test_the_progress_refresh_does_not_run_the_join_again(olivia, monkeypatch):
    crisis = active_crisis_with_people(olivia)
    from crises import selectors

    def refuse(**_):
        raise AssertionError("the refresh ran the affected-citizen join")

    monkeypatch.setattr(selectors, "affected_counts", refuse)
    monkeypatch.setattr("console.views.crises.affected_counts", refuse)
    progress = signed_in(olivia).get(f"/console/crises/{crisis.pk}/progress.json").json()
    assert progress["checkins"] is None and progress["campaigns"] == []


def test_a_preview_body_over_the_limit_is_a_413_in_the_error_shape(olivia):
    body = b'{"area": "' + b"x" * (1024 * 1024) + b'"}'
    response = signed_in(olivia).post("/console/data/preview.json", body, content_type="application/json")
    assert response.status_code == 413 and response.json()["error"]["code"] == "payload_too_large"
    assert not AuditEntry.objects.filter(action="crisis.preview").exists()
