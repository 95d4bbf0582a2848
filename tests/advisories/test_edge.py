"""The look-up answered at the WSGI edge: Django's answer, headers included, without Django's cycle."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from advisories.services import lookups
from api.advisories.edge import LookupEdge

SUVA = b'{"lat": -17.8, "lon": 178.0}'


@pytest.fixture
def edge() -> Iterator[LookupEdge]:
    # As Django's test client does: a request must not close the test's connection (and its transaction).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield LookupEdge(WSGIHandler())
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def call(app, body: bytes = SUVA, *, method: str = "POST", path: str = "/api/v1/advisories/lookup", **extra: str):
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "SERVER_NAME": "testserver", "SERVER_PORT": "80",
               "HTTP_HOST": "testserver", "wsgi.url_scheme": "http", "REMOTE_ADDR": "192.0.2.7",
               "wsgi.input": io.BytesIO(body), "wsgi.errors": io.StringIO(), "SERVER_PROTOCOL": "HTTP/1.1",
               "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)), **extra}  # fmt: skip
    answer: dict = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = int(status.split()[0]), dict(headers)

    chunks = app(environ, start_response)
    answer["body"] = b"".join(chunks)
    getattr(chunks, "close", lambda: None)()
    return answer


def test_the_edge_answers_what_django_answers_with_the_same_headers(edge):
    through_django = call(edge)
    assert edge.templates, "the first look-up goes through Django and gives the template"
    at_the_edge = call(edge)
    assert at_the_edge["status"] == through_django["status"] == 200
    assert at_the_edge["body"] == through_django["body"]
    same = {k: v for k, v in through_django["headers"].items() if k not in ("X-Request-ID", "Content-Length")}
    assert {k: at_the_edge["headers"][k] for k in same} == same
    assert at_the_edge["headers"]["Cache-Control"] == "no-store"
    assert json.loads(at_the_edge["body"])["country"]["code"] == "FJ"


def test_a_bad_body_at_the_edge_is_django_s_400(edge):
    call(edge)
    refused = call(edge, b'{"lat": 91, "lon": 0}')
    assert refused["status"] == 400 and json.loads(refused["body"])["error"]["code"] == "invalid"


def test_a_key_given_twice_at_the_edge_is_a_400(edge):
    call(edge)
    assert call(edge, b'{"lat": 1, "lat": 2, "lon": 0}')["status"] == 400


def test_a_form_body_at_the_edge_is_django_s_415(edge):
    call(edge)
    assert call(edge, b"lat=1&lon=2", CONTENT_TYPE="application/x-www-form-urlencoded")["status"] == 415


def test_the_rate_limit_holds_at_the_edge_with_retry_after(edge, monkeypatch):
    monkeypatch.setattr(lookups.LIMIT, "limit", 3)
    statuses = [call(edge)["status"] for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert int(call(edge)["headers"]["Retry-After"]) >= 1


def test_an_unknown_host_is_refused_at_the_edge_as_by_django(edge):
    call(edge)
    assert call(edge, HTTP_HOST="evil.example")["status"] == 400


def test_where_https_is_required_a_plain_look_up_is_redirected(edge, settings):
    settings.SECURE_SSL_REDIRECT = True
    app = LookupEdge(WSGIHandler())  # Django's middleware reads the setting when it is built
    https = {"wsgi.url_scheme": "https"}
    call(app, SUVA, **https)
    assert call(app, SUVA, **https)["status"] == 200
    assert call(app)["status"] == 301


def test_the_edge_writes_the_access_line_without_coordinates(edge, caplog):
    call(edge)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="consular.access"):
        call(edge, b'{"lat": -17.81234, "lon": 178.04321}')
    records = [r for r in caplog.records if r.name == "consular.access"]
    assert [(r.route, r.status) for r in records] == [("/api/v1/advisories/lookup", 200)]
    assert "17.81234" not in caplog.text and "178.04321" not in caplog.text


def test_other_paths_and_methods_pass_through_to_django(edge):
    assert call(edge, method="GET")["status"] == 405
    assert call(edge, b"", method="GET", path="/healthz")["status"] == 200


def test_the_edge_sends_django_s_request_signals_so_stale_connections_are_closed(edge):
    call(edge)  # through Django: the template
    seen = []

    def started(**_):
        seen.append("started")

    def finished(**_):
        seen.append("finished")

    request_started.connect(started)
    request_finished.connect(finished)
    try:
        assert call(edge)["status"] == 200
    finally:
        request_started.disconnect(started)
        request_finished.disconnect(finished)
    assert seen == ["started", "finished"]


def test_a_failure_at_the_edge_is_answered_by_django(edge, monkeypatch):
    call(edge)
    from api.advisories import edge as module

    def broken(*_args):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(module, "lookup_body", broken)
    answered = call(edge)
    # Django's view answers (its own path through the view does not use the edge's function).
    assert answered["status"] == 200 and json.loads(answered["body"])["country"]["code"] == "FJ"
