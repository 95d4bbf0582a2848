from __future__ import annotations

import os
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from registrations.importer import Report, import_file


class Command(BaseCommand):
    help = "Import a legacy register from a JSON Lines file (one traveller per line), encrypting on the way."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help='JSON Lines file: {"profile": {...}, "trips": [...]} per line')
        parser.add_argument(
            "--batch-size", type=int, default=2000, help="travellers loaded per transaction, 1 to 50000 (default: 2000)"
        )
        parser.add_argument(
            "--workers", type=int, default=None, help="validating/encrypting processes, 1 to 4 per CPU (default: CPUs)"
        )

    def handle(self, *args: Any, path: str, batch_size: int, workers: int | None, **options: Any) -> None:
        if not 1 <= batch_size <= 50_000:
            raise CommandError("--batch-size must be between 1 and 50000.")
        most_workers = 4 * (os.cpu_count() or 1)
        if workers is not None and not 1 <= workers <= most_workers:
            raise CommandError(f"--workers must be between 1 and {most_workers} (four per CPU).")
        started = time.perf_counter()
        report = Report()
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed below, kept apart from the import's own errors
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
        try:
            with handle:
                import_file(handle, batch_size=batch_size, workers=workers, report=report)
        except Exception as exc:
            # What was done so far is committed (each batch is), so the lines already
            # reported stay true; the error's own text is not shown: a database error's
            # detail can quote a row.
            self._print(report, time.perf_counter() - started)
            cause = exc.__cause__ if exc.__cause__ is not None else exc
            code = getattr(cause, "sqlstate", None)
            raise CommandError(
                f"The import stopped: {type(exc).__name__}{f' (SQLSTATE {code})' if code else ''}. "
                f"The {report.imported} travellers above are imported; running the same file again skips them."
            ) from None
        self._print(report, time.perf_counter() - started)

    def _print(self, report: Report, elapsed: float) -> None:
        for line_no, reason in report.rejected:
            self.stderr.write(f"line {line_no}: rejected: {reason}")
        for line_no in report.duplicates:
            self.stderr.write(f"line {line_no}: skipped: already registered (same passport number or email)")
        for line_no, warning in report.warnings:
            self.stderr.write(f"line {line_no}: imported with a warning: {warning}")
        rate = report.imported / elapsed if elapsed else 0
        people_rate = report.persons / elapsed if elapsed else 0
        self.stdout.write(
            f"imported {report.imported}, rejected {len(report.rejected)}, duplicates {len(report.duplicates)} "
            f"in {elapsed:.1f} s ({rate:,.{0 if rate >= 10 else 1}f} travellers/s); "
            f"{report.persons} people with their companions ({people_rate:,.{0 if people_rate >= 10 else 1}f}/s)"
        )
