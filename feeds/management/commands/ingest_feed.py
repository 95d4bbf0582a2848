"""One feed run by hand: `manage.py ingest_feed (--file PATH | --url URL) [--kind KIND] [--json]`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from feeds.events import FeedError, Kind
from feeds.fetch import FetchError, fetch
from feeds.parsers import parse
from feeds.parsers.common import MAX_FEED_BYTES
from feeds.services.ingest import ingest
from feeds.services.sources import follow_links


class Command(BaseCommand):
    help = (
        "Read one feed file or address (GDACS, USGS, CAP, NWS, MeteoAlarm) and turn its events into proposed crises. "
        "Exits 0 when the file was read, even if items were skipped; non-zero with one line when it could not be."
    )

    def add_arguments(self, parser: Any) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--file", help="the feed file")
        source.add_argument("--url", help="the feed's address, fetched as a source's is (feeds/fetch.py)")
        parser.add_argument("--kind", choices=Kind.ALL, help="the format; guessed from the content when omitted")
        parser.add_argument("--json", action="store_true", help="print the run's summary as one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["url"]:
            where = options["url"]
            try:
                data = fetch(where).body
            except FetchError as exc:
                raise CommandError(f"cannot fetch {where}: {exc}") from exc
        else:
            where = options["file"]
            data = self._read(Path(where))
        try:
            parsed = parse(data, options["kind"])
            if options["url"]:
                follow_links(parsed)
        except FeedError as exc:
            raise CommandError(f"{where}: {exc}") from exc
        summary = ingest(parsed)
        if options["json"]:
            self.stdout.write(json.dumps(summary.as_dict(), ensure_ascii=False))
            return
        self.stdout.write(
            f"{parsed.kind}: created {summary.created}, updated {summary.updated}, cancelled {summary.cancelled}, "
            f"unchanged {summary.unchanged}, skipped {len(summary.skipped)}, flagged {len(summary.flagged)}, "
            f"errors {len(summary.errors)}"
        )
        for skipped in summary.skipped:
            self.stderr.write(f"skipped {skipped.item}: {skipped.reason}")
        for flagged in summary.flagged:
            self.stderr.write(f"flagged {flagged.item}: {flagged.reason}")
        for error in summary.errors:
            self.stderr.write(f"error {error}")

    @staticmethod
    def _read(path: Path) -> bytes:
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_FEED_BYTES + 1)
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from exc
        if len(data) > MAX_FEED_BYTES:
            raise CommandError(f"{path} is larger than {MAX_FEED_BYTES // (1024 * 1024)} MB, the feed size cap")
        return data
