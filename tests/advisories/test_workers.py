"""Every worker process of the shipped server sees an activated or closed crisis within about a second."""

from __future__ import annotations

import http.client
import json
import time

import pytest

from crises.services.lifecycle import crisis_transition
from tests.factories import declared_crisis
from tests.shipped import shipped_server

POINT = {"lat": -17.8, "lon": 178.0}


def crises_seen(port: int) -> list[str]:
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        client.request("POST", "/api/v1/advisories/lookup", body=json.dumps(POINT),
                       headers={"Content-Type": "application/json"})  # fmt: skip
        response = client.getresponse()
        body = json.loads(response.read())
        assert response.status == 200, body
        return [crisis["id"] for crisis in body["crises"]]
    finally:
        client.close()  # a new connection each time: the requests spread over the workers


def every_worker_agrees(port: int, expected: list[str], *, within: float) -> float:
    """Seconds until 30 look-ups in a row (new connections, so every worker) all answer `expected`."""
    started = time.monotonic()
    streak = 0
    while streak < 30:
        assert time.monotonic() - started < within, f"not every worker answered {expected} within {within} s"
        streak = streak + 1 if crises_seen(port) == expected else 0
    return time.monotonic() - started


@pytest.mark.slow
def test_an_activated_then_closed_crisis_shows_in_every_worker_within_a_second(transactional_db, tmp_path, olivia):
    crisis = declared_crisis(olivia, public=True, area={"type": "Circle", "center": [178.0, -17.8], "radius_km": 50})
    with shipped_server(workers=3, log=tmp_path / "server.log", env={"ADVISORY_LOOKUPS_PER_MINUTE": "1000000"}) as port:
        for _ in range(30):
            assert crises_seen(port) == []  # every worker has loaded its index, without the draft
        crisis_transition(crisis=crisis, user=olivia, action="activate")
        every_worker_agrees(port, [str(crisis.pk)], within=2.5)
        crisis_transition(crisis=crisis, user=olivia, action="close")
        every_worker_agrees(port, [], within=2.5)
