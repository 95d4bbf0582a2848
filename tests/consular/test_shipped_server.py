"""The server as shipped: gunicorn preloads the app, freezes it, then forks its workers."""

import gc
import http.client
import json
import socket

import pytest
from django.db import connection

from accounts.services import token_issue
from consular.prefork import prepare_to_fork
from registrations.models import Traveller
from registrations.selectors import profile_of
from tests.factories import UserFactory, profile_payload
from tests.shipped import shipped_server


@pytest.fixture
def server(transactional_db, tmp_path):
    """The port of the shipped server; its output goes to tmp_path / "server.log"."""
    with shipped_server(workers=2, log=tmp_path / "server.log") as port:
        yield port


def _request(port: int, method: str, path: str, body: dict | None = None, token: str | None = None) -> int:
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        client.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = client.getresponse()
        response.read()
        return response.status
    finally:
        client.close()


@pytest.mark.slow
def test_workers_forked_from_the_preloaded_app_each_reach_the_database(server):
    tokens = [token_issue(user=UserFactory.create()).token for _ in range(8)]
    # Several requests on fresh connections, so that both workers are likely to serve some.
    statuses = [_request(server, "PUT", "/api/v1/me/profile", profile_payload(), token) for token in tokens]
    assert statuses == [200] * len(tokens)
    assert Traveller.objects.filter(user__isnull=False).count() == len(tokens)


def test_prepare_to_fork_closes_the_database_connection_and_freezes_what_exists(transactional_db):
    connection.ensure_connection()
    frozen_before = gc.get_freeze_count()
    try:
        prepare_to_fork()
        assert connection.connection is None
        assert gc.get_freeze_count() > frozen_before
    finally:
        gc.unfreeze()


@pytest.mark.slow
def test_a_chunked_write_through_the_server_gets_411_and_changes_nothing(server):
    # The Django test client cannot send a chunked body; this checks what gunicorn hands
    # the app for one (Transfer-Encoding, no Content-Length) is refused as the tests assume.
    token = token_issue(user=UserFactory.create()).token
    assert _request(server, "PUT", "/api/v1/me/profile", profile_payload(), token) == 200
    client = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    try:
        client.request(
            "PATCH",
            "/api/v1/me/profile",
            body=iter([json.dumps({"given_name": "Changed"}).encode()]),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            encode_chunked=True,
        )
        response = client.getresponse()
        assert response.status == 411
        assert json.loads(response.read())["error"]["code"] == "length_required"
    finally:
        client.close()
    traveller = Traveller.objects.select_related("data_key").get()
    profile = profile_of(traveller=traveller, cipher=traveller.data_key.cipher())
    assert profile is not None
    assert profile["given_name"] == "Ana"


def _raw_answer(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


def _raw(port: int, request: bytes) -> tuple[int, str, dict]:
    head, _, body = _raw_answer(port, request).partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    content_type = next(
        (
            line.split(b":", 1)[1].strip().decode()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-type:")
        ),
        "",
    )
    return status, content_type, json.loads(body) if content_type == "application/json" else {}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        (b"GET /checkin/" + b"a" * 5000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n", 414, "uri_too_long"),
        (
            b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n",
            431,
            "header_fields_too_large",
        ),
        (b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Nul: a\x00b\r\n\r\n", 400, "bad_request"),
        (b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nExpect: coffee\r\n\r\n", 417, "expectation_failed"),
        (
            b"POST /api/v1/auth/token HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: aaaa\r\n\r\n",
            501,
            "not_implemented",
        ),
    ],
    ids=[
        "request line too long",
        "header too large",
        "NUL in a header",
        "an unknown expectation",
        "an unknown transfer coding",
    ],
)
def test_requests_gunicorn_refuses_get_the_error_shape_too(server, request_bytes, status, code):
    answered, content_type, body = _raw(server, request_bytes)
    assert (answered, content_type) == (status, "application/json")
    assert body["error"]["code"] == code
    assert "aaaa" not in body["error"]["message"]


@pytest.mark.slow
def test_gunicorns_refusals_name_their_status_and_forbid_sniffing(server):
    head = _raw_answer(server, b"POST /api/v1/auth/token HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: x\r\n\r\n")
    status_line, *headers = head.partition(b"\r\n\r\n")[0].split(b"\r\n")
    assert status_line == b"HTTP/1.1 501 Not Implemented"
    assert b"X-Content-Type-Options: nosniff" in headers


@pytest.mark.slow
def test_a_refused_request_leaves_neither_its_line_nor_its_address_in_the_servers_log(server, tmp_path):
    _raw(server, b"GET /checkin/secret-capability-token HTTP/9.9\r\nHost: localhost\r\n\r\n")
    _raw(server, b"GET /checkin/" + b"s" * 5000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n")
    log = (tmp_path / "server.log").read_text()
    assert "refused by gunicorn" in log
    assert "secret-capability-token" not in log and "ssss" not in log
    # The one line naming the loopback address is the server's own "Listening at".
    assert [line for line in log.splitlines() if "127.0.0.1" in line and "Listening at" not in line] == []
