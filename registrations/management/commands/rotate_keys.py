from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from consular.keys import KeyConfigurationError, get_key_provider
from consular.models import DataKey
from registrations.services import data_keys_rewrap


class Command(BaseCommand):
    help = (
        "Add a new master-key version and re-wrap every data key under it, in batches, online. "
        "With --retire-old, then remove the versions no data key uses any more."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--rewrap-only", action="store_true", help="do not add a version; re-wrap to the current one"
        )
        parser.add_argument("--retire-old", action="store_true", help="afterwards remove master versions left unused")
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args: Any, rewrap_only: bool, retire_old: bool, batch_size: int, **options: Any) -> None:
        provider = get_key_provider()
        try:
            if not rewrap_only:
                version = provider.add_version()
                self.stdout.write(f"added master key version {version}")
            count = data_keys_rewrap(batch_size=batch_size)
            current = provider.current_version()
            self.stdout.write(f"re-wrapped {count} data keys under version {current}")
            if retire_old:
                in_use = set(DataKey.objects.values_list("master_version", flat=True).distinct())
                unused = [v for v in provider.versions() if v != current and v not in in_use]
                if unused:
                    provider.remove_versions(unused)
                self.stdout.write(f"retired versions: {', '.join(map(str, unused)) or 'none'}")
        except KeyConfigurationError as exc:
            raise CommandError(str(exc)) from exc
