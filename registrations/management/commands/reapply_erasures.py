from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from consular.errors import DomainError
from registrations.services import erasures_reapply, read_ledger_file


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
        entries = []
        for path in paths:
            try:
                entries.extend(read_ledger_file(path))
            except FileNotFoundError:
                if ledger:
                    raise CommandError(f"No ledger file at {path}.") from None
            except DomainError as exc:
                raise CommandError(f"{path}: {exc.message}") from exc
        result = erasures_reapply(extra_entries=entries)
        self.stdout.write(
            "erased again: {travellers} travellers, {users} accounts, {data_keys} data keys; "
            "{ledger_entries_restored} ledger entries restored".format(**result)
        )
