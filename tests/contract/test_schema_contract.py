"""The contract gate: schemathesis against the shipped server, as a citizen, an officer and an analyst.

Client generators trust /api/schema/. Every check schemathesis has runs on every
operation: no server error, every status and header documented, every answer as its
schema says, schema-violating requests refused and schema-valid ones accepted,
authentication not ignored. The run is seeded and bounded, so a failure reproduces.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from accounts.models import Role
from tests.factories import (
    PostFactory,
    StaffFactory,
    UserFactory,
    companion_payload,
    declared_crisis,
    profile_payload,
    residence_payload,
    trip_payload,
)
from tests.shipped import ROOT, shipped_server

HERE = Path(__file__).resolve().parent
PASSWORD = "contract gate password 7"
SEED = 20261204
# Examples per operation and phase: about a minute an identity on the reference machine.
MAX_EXAMPLES = 25
CHECKS = "all"


@pytest.fixture
def server(transactional_db, tmp_path):
    env = {
        # The fuzzer signs up and fails logins from one address thousands of times: with
        # the shipped limits it would meet nothing but 429s after the first minute.
        "SIGNUPS_PER_ADDRESS": "1000000",
        "LOGIN_FAILURES_PER_ADDRESS": "1000000",
        "LOGIN_FAILURES_PER_ACCOUNT": "1000000",
        # The fuzzer erases the citizen: the ledger of erasures is the run's own, not the checkout's.
        "ERASURE_LEDGER_FILE": str(tmp_path / "erasures.ledger"),
    }
    # The server's log, for a look at what a failing run did: CONTRACT_SERVER_LOG=/tmp/server.log
    log = Path(os.environ.get("CONTRACT_SERVER_LOG", tmp_path / "server.log"))
    with shipped_server(workers=3, log=log, env=env) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def objects(transactional_db) -> dict[str, str]:
    """The identities' accounts, and objects for them to act on: a post, a companion, a trip
    and a residence naming them, an active crisis the trip is in, a campaign asking for
    check-ins, and one traveller's check-in link."""
    from crises.services.lifecycle import crisis_transition
    from notifications.messages import checkin_token
    from registrations.services.companions import companion_create
    from registrations.services.profiles import profile_write
    from registrations.services.residences import residence_create
    from registrations.services.trips import trip_create
    from tests.factories import launched_campaign

    post = PostFactory.create(name="Contract Pacific", countries=["FJ", "TO", "WS"])
    citizen = UserFactory.create(email="citizen@contract.test", password=PASSWORD)
    traveller = profile_write(user=citizen, data=profile_payload(), partial=False)
    companion = companion_create(user=citizen, data=companion_payload())
    trip, _ = trip_create(user=citizen, data=trip_payload(companions=[str(companion.pk)]))
    residence, _ = residence_create(user=citizen, data=residence_payload(companions=[str(companion.pk)]))
    officer = StaffFactory.create(email="officer@contract.test", password=PASSWORD, role=Role.OFFICER, post=post)
    StaffFactory.create(email="analyst@contract.test", password=PASSWORD, role=Role.ANALYST, post=post)
    crisis = crisis_transition(crisis=declared_crisis(officer), user=officer, action="activate")
    campaign = launched_campaign(officer, crisis)
    return {
        "CONTRACT_CRISIS_ID": str(crisis.pk),
        "CONTRACT_TRIP_ID": str(trip.pk),
        "CONTRACT_COMPANION_ID": str(companion.pk),
        "CONTRACT_RESIDENCE_ID": str(residence.pk),
        "CONTRACT_CAMPAIGN_ID": str(campaign.pk),
        "CONTRACT_POST_ID": str(post.pk),
        "CONTRACT_CHECKIN_TOKEN": checkin_token(campaign.pk, traveller.pk),
    }


IDENTITIES = {
    "citizen": "citizen@contract.test",
    "officer": "officer@contract.test",
    "analyst": "analyst@contract.test",
}


# Operations that end what the others act on: the citizen's registration, trip,
# companion and residence, the crisis, the campaign. They run last, in a second pass, so that the first reaches the
# logic behind every other operation instead of a 404 or a 409 for most of its examples.
ENDINGS = [
    "DELETE /api/v1/me",
    "DELETE /api/v1/me/trips/{trip_id}",
    "DELETE /api/v1/me/companions/{companion_id}",
    "DELETE /api/v1/me/residences/{residence_id}",
    "POST /api/v1/crises/{crisis_id}/close",
    "POST /api/v1/campaigns/{campaign_id}/close",
]


def _run(base_url: str, email: str, objects: dict[str, str], *, sign_up_again: bool) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        **objects,
        "SCHEMATHESIS_HOOKS": "tests.contract.schemathesis_hooks",
        "CONTRACT_BASE_URL": base_url,
        "CONTRACT_EMAIL": email,
        "CONTRACT_PASSWORD": PASSWORD,
        "PYTHONPATH": str(ROOT),
    }
    if sign_up_again:
        env["CONTRACT_SIGN_UP_AGAIN"] = "1"
    # One worker: with two threads, Python 3.11's ast module (used by Hypothesis while it
    # describes a case) sometimes raised "AST constructor recursion depth mismatch".
    command = [
        str(ROOT / ".venv/bin/st"), "--config-file", str(HERE / "schemathesis.toml"), "run",
        f"{base_url}/api/schema/", "--checks", CHECKS, "--seed", str(SEED), "--max-examples", str(MAX_EXAMPLES),
        "--phases", "examples,coverage,fuzzing,stateful", "--workers", "1", "--no-color",
    ]  # fmt: skip
    first = [*command, *(option for name in ENDINGS for option in ("--exclude-name", name))]
    last = [*command, *(option for name in ENDINGS for option in ("--include-name", name))]
    for run in (first, last):
        result = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        # The whole report, for a look at a long one: CONTRACT_REPORT=/tmp/contract-report.txt
        if os.environ.get("CONTRACT_REPORT"):
            with open(os.environ["CONTRACT_REPORT"], "a") as report:
                report.write(result.stdout + result.stderr)
        if result.returncode != 0:
            break
    return result


@pytest.mark.slow
@pytest.mark.parametrize("identity", ["citizen", "officer", "analyst"])
def test_the_schema_tells_the_whole_truth_to_a_client(server, objects, identity):
    result = _run(server, IDENTITIES[identity], objects, sign_up_again=identity == "citizen")
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
