"""What apps above crises plug into it: crises may not import them (docs/architecture.md),
yet a crisis that closes must end their work for it, and a reveal shows each person's
latest check-in. Each such app registers here in its AppConfig.ready(), so the hooks
are in place before any request, command or task runs; tests check that they are.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from crises.models import Crisis

# Called in the closing transaction, after the crisis is closed; returns what the
# audit entry of the close should say about it (e.g. {"campaigns_closed": [ids]}).
CloseHook = Callable[[Crisis], dict[str, Any]]
# The latest check-in answer ("safe", "need_help") of each person of these registrations about
# this crisis, by (registration, companion id or None for the registrant).
Person = tuple[uuid.UUID, uuid.UUID | None]
CheckInReader = Callable[[Crisis, list[uuid.UUID]], dict[Person, str]]

_close_hooks: list[CloseHook] = []
_checkin_readers: list[CheckInReader] = []


def on_crisis_close(hook: CloseHook) -> None:
    if hook not in _close_hooks:
        _close_hooks.append(hook)


def read_checkins_with(reader: CheckInReader) -> None:
    if reader not in _checkin_readers:
        _checkin_readers.append(reader)


def crisis_closed(crisis: Crisis) -> dict[str, Any]:
    details: dict[str, Any] = {}
    for hook in _close_hooks:
        details.update(hook(crisis))
    return details


def latest_checkins(crisis: Crisis, traveller_ids: list[uuid.UUID]) -> dict[Person, str]:
    answers: dict[Person, str] = {}
    for reader in _checkin_readers:
        answers.update(reader(crisis, traveller_ids))
    return answers
