from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from consular.audit import audit_verify, audit_verify_anchored


class Command(BaseCommand):
    help = (
        "Check the audit log's hash chain from the first entry and every anchor in AUDIT_ANCHOR_FILE; "
        "name the first broken entry. When intact, anchor the newest entry."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-anchor", action="store_true", help="check only; do not append a new anchor")

    def handle(self, *args: Any, no_anchor: bool, **options: Any) -> None:
        path = settings.AUDIT_ANCHOR_FILE
        try:
            report = audit_verify_anchored(path, anchor=not no_anchor) if path else None
        except ValueError as exc:
            raise CommandError(f"{path}: {exc}") from exc
        chain = report.chain if report else audit_verify()
        if chain.first_broken_id is not None:
            raise CommandError(
                f"audit chain broken at entry {chain.first_broken_id}: {chain.problem} "
                f"({chain.checked} entries before it are intact)"
            )
        if report is None:
            self.stdout.write(f"audit chain intact: {chain.checked} entries (no AUDIT_ANCHOR_FILE: tail not checked)")
            return
        if report.missing is not None:
            raise CommandError(
                f"audit log cut short: entry {report.missing.id}, anchored at {report.missing.at}, is gone or changed "
                f"(the chain now ends after {chain.checked} entries)"
            )
        self.stdout.write(f"audit chain intact: {chain.checked} entries; {report.anchors} anchors hold")
