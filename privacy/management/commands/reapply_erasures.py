from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from privacy.services.erasure import erasures_reapply
from privacy.services.ledger import read_ledger_file


class Command(BaseCommand):
    help = (
        "After restoring the database from a backup, erase again everyone in the erasure ledger "
        "(the database's own and the ledger file kept outside it)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--ledger", action="append", default=None,
            help="ledger file(s) to replay (default: ERASURE_LEDGER_FILE)",
        )  # fmt: skip

    def handle(self, *args: Any, ledger: list[str] | None, **options: Any) -> None:
        paths = ledger or ([settings.ERASURE_LEDGER_FILE] if settings.ERASURE_LEDGER_FILE else [])
        entries, skipped = [], 0
        for path in paths:
            try:
                read, bad = read_ledger_file(path)
            except FileNotFoundError:
                if ledger:
                    raise CommandError(f"No ledger file at {path}.") from None
                continue
            entries.extend(read)
            for number in bad:
                self.stderr.write(f"{path}: line {number} is not a ledger entry; skipped")
            skipped += len(bad)
        result = erasures_reapply(extra_entries=entries)
        self.stdout.write(
            "erased again: {travellers} travellers, {users} accounts, {data_keys} data keys; "
            "{ledger_entries_restored} ledger entries restored".format(**result)
        )
        if skipped:
            # Non-zero exit: someone must look at those lines, though the rest is applied.
            raise CommandError(
                f"{skipped} ledger lines could not be read (listed above); every other entry is applied."
            )
