"""Named personas, stated once:

- alice and bob are citizens; neither can see the other's data.
- olivia is an officer of the Pacific post (FJ, TO, WS); oscar an officer of the Andes post (PE, BO).
- sam is a supervisor and ann an analyst, both at the Pacific post; ada is an admin (no post).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator

import pytest
from rest_framework.test import APIClient

from accounts.models import Post, Role, User
from accounts.services import token_issue
from consular.logging import JsonFormatter, RequestContextFilter
from tests.factories import PostFactory, StaffFactory, UserFactory


@pytest.fixture(autouse=True)
def _database(db: None) -> None:
    """Every test runs against the real PostGIS test database, rolled back afterwards."""


@pytest.fixture(autouse=True)
def _advisory_index() -> Iterator[None]:
    """The public look-ups' in-process index rereads the database at most once a second: each test starts
    from its own database state, not from what an earlier test (rolled back since) had active."""
    from advisories import index
    from advisories.services import lookups

    index.INDEX.forget()
    lookups.LIMIT.reset()
    yield
    index.INDEX.forget()


@pytest.fixture(autouse=True)
def _erasure_ledger(settings, tmp_path) -> None:
    """Erasures append to a ledger file before they commit: each test gets its own, not the developer's."""
    settings.ERASURE_LEDGER_FILE = str(tmp_path / "erasure-ledger.jsonl")


@pytest.fixture
def key_file(tmp_path, settings):
    """Master keys in a file, as bootstrap sets up, so rotate_keys can add versions."""
    import base64
    import secrets

    from consular.keys import reset_key_cache

    path = tmp_path / "master-keys"
    path.write_text("1:" + base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    settings.MASTER_KEYS_FILE = str(path)
    settings.KEY_PROVIDER = "consular.keys.FileKeyProvider"
    reset_key_cache()
    yield path
    reset_key_cache()


@pytest.fixture
def log_lines():
    """Every log line written during the test, as the configured JSON formatter renders it."""
    lines: list[dict] = []

    class Capture(logging.Handler):
        def emit(self, record):
            lines.append(json.loads(self.format(record)))

    handler = Capture()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lines
    root.removeHandler(handler)


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for(api: APIClient) -> Callable[[User], APIClient]:
    def make(user: User) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=user).token}")
        return client

    return make


@pytest.fixture
def pacific_post() -> Post:
    return PostFactory.create(name="Pacific", countries=["FJ", "TO", "WS"])


@pytest.fixture
def andes_post() -> Post:
    return PostFactory.create(name="Andes", countries=["PE", "BO"])


@pytest.fixture
def alice() -> User:
    return UserFactory.create(email="alice@example.test")


@pytest.fixture
def bob() -> User:
    return UserFactory.create(email="bob@example.test")


@pytest.fixture
def olivia(pacific_post: Post) -> User:
    return StaffFactory.create(email="olivia@mfa.example", role=Role.OFFICER, post=pacific_post)


@pytest.fixture
def oscar(andes_post: Post) -> User:
    return StaffFactory.create(email="oscar@mfa.example", role=Role.OFFICER, post=andes_post)


@pytest.fixture
def sam(pacific_post: Post) -> User:
    return StaffFactory.create(email="sam@mfa.example", role=Role.SUPERVISOR, post=pacific_post)


@pytest.fixture
def ann(pacific_post: Post) -> User:
    return StaffFactory.create(email="ann@mfa.example", role=Role.ANALYST, post=pacific_post)


@pytest.fixture
def ada() -> User:
    return StaffFactory.create(email="ada@mfa.example", role=Role.ADMIN, post=None)
