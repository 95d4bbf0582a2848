"""System checks that `manage.py check --deploy` runs in production."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Warning, register

# Files that must live outside the database and its backups: (setting, what is lost without it, id).
_OUTSIDE_FILES = (
    (
        "ERASURE_LEDGER_FILE",
        # Restoring an older backup brings erased people back, and nothing outside the
        # database remembers that they asked to be erased.
        "erasures could not be re-applied after restoring a backup.",
        "consular.W001",
    ),
    (
        "AUDIT_ANCHOR_FILE",
        # Deleting the newest audit entries (or all of them) leaves a shorter chain that verifies.
        "removing the newest audit entries would go unnoticed.",
        "consular.W002",
    ),
)


@register(deploy=True)
def files_outside_the_database(**kwargs: Any) -> list[Warning]:
    return [
        Warning(
            f"{setting} is not set: {consequence}",
            hint="Point it at append-only storage that is not restored with, nor writable by, the database's owner.",
            id=check_id,
        )
        for setting, consequence, check_id in _OUTSIDE_FILES
        if not getattr(settings, setting)
    ]
