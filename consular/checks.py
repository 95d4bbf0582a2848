"""System checks that `manage.py check --deploy` runs in production."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Warning, register


@register(deploy=True)
def erasure_ledger_outside_the_database(**kwargs: Any) -> list[Warning]:
    # Without the file copy, restoring an older backup brings erased people back and
    # nothing outside the database remembers that they asked to be erased.
    if settings.ERASURE_LEDGER_FILE:
        return []
    return [
        Warning(
            "ERASURE_LEDGER_FILE is not set: erasures could not be re-applied after restoring a backup.",
            hint="Point it at append-only storage that is not restored with the database.",
            id="consular.W001",
        )
    ]


@register(deploy=True)
def audit_anchors_outside_the_database(**kwargs: Any) -> list[Warning]:
    # Without anchors, deleting the newest audit entries (or all of them) leaves a
    # shorter chain that still verifies.
    if settings.AUDIT_ANCHOR_FILE:
        return []
    return [
        Warning(
            "AUDIT_ANCHOR_FILE is not set: removing the newest audit entries would go unnoticed.",
            hint="Point it at append-only storage the database's owner cannot rewrite.",
            id="consular.W002",
        )
    ]
