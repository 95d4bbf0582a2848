"""Schemathesis hooks for the contract gate: a bearer token for the identity a run speaks as.

Loaded by `st run` through SCHEMATHESIS_HOOKS (tests/contract/test_schema_contract.py).
The token is fetched the way a client does, by logging in, and fetched again whenever
an answer is a 401: the fuzzer itself logs the token out (POST /auth/logout), and as
the citizen it erases the account (DELETE /me), after which the citizen signs up again.
"""

from __future__ import annotations

import os
from typing import Any

import requests
import schemathesis


def _post(path: str, body: dict[str, str]) -> requests.Response:
    return requests.post(os.environ["CONTRACT_BASE_URL"] + path, json=body, timeout=30)


@schemathesis.auth(retry_on=[401])
class AccountToken:
    def get(self, case: Any, context: Any) -> str | None:
        credentials = {"email": os.environ["CONTRACT_EMAIL"], "password": os.environ["CONTRACT_PASSWORD"]}
        answer = _post("/api/v1/auth/token", credentials)
        if answer.status_code == 401 and os.environ.get("CONTRACT_SIGN_UP_AGAIN"):
            _post("/api/v1/auth/register", credentials)
            answer = _post("/api/v1/auth/token", credentials)
        answer.raise_for_status()
        return str(answer.json()["token"])

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
