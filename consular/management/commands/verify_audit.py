from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from consular.audit import audit_verify


class Command(BaseCommand):
    help = "Check the audit log's hash chain from the first entry; name the first broken entry."

    def handle(self, *args: Any, **options: Any) -> None:
        report = audit_verify()
        if report.first_broken_id is not None:
            raise CommandError(
                f"audit chain broken at entry {report.first_broken_id}: {report.problem} "
                f"({report.checked} entries before it are intact)"
            )
        self.stdout.write(f"audit chain intact: {report.checked} entries")
