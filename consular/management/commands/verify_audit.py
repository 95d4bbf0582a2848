from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from consular.audit import anchors_missing, append_anchor, audit_verify, read_anchors


class Command(BaseCommand):
    help = (
        "Check the audit log's hash chain from the first entry and every anchor in AUDIT_ANCHOR_FILE; "
        "name the first broken entry. When intact, anchor the newest entry."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-anchor", action="store_true", help="check only; do not append a new anchor")

    def handle(self, *args: Any, no_anchor: bool, **options: Any) -> None:
        report = audit_verify()
        if report.first_broken_id is not None:
            raise CommandError(
                f"audit chain broken at entry {report.first_broken_id}: {report.problem} "
                f"({report.checked} entries before it are intact)"
            )
        path = settings.AUDIT_ANCHOR_FILE
        if not path:
            self.stdout.write(f"audit chain intact: {report.checked} entries (no AUDIT_ANCHOR_FILE: tail not checked)")
            return
        try:
            anchors = read_anchors(path)
        except ValueError as exc:
            raise CommandError(f"{path}: {exc}") from exc
        missing = anchors_missing(anchors)
        if missing is not None:
            raise CommandError(
                f"audit log cut short: entry {missing.id}, anchored at {missing.at}, is gone or changed "
                f"(the chain now ends after {report.checked} entries)"
            )
        if not no_anchor:
            append_anchor(path)
        self.stdout.write(f"audit chain intact: {report.checked} entries; {len(anchors)} anchors hold")
