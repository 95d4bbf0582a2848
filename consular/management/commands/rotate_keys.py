from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from consular.keys import KeyConfigurationError, KeyProvider, get_key_provider
from consular.models import DataKey
from consular.rotation import (
    RotationNotSettled,
    RotationRunning,
    data_keys_rewrap,
    only_rotation,
    rotation_settled,
)


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
        parser.add_argument(
            "--wait-seconds",
            type=float,
            default=600,
            help="with --retire-old: how long to wait for older transactions and running imports to end",
        )

    def handle(
        self, *args: Any, rewrap_only: bool, retire_old: bool, batch_size: int, wait_seconds: float, **options: Any
    ) -> None:
        if not 1 <= batch_size <= 100_000:
            raise CommandError("--batch-size must be between 1 and 100000.")
        if not 0 <= wait_seconds <= 86_400:
            raise CommandError("--wait-seconds must be between 0 and 86400.")
        provider = get_key_provider()
        try:
            with only_rotation():
                self._rotate(provider, rewrap_only, retire_old, batch_size, wait_seconds)
        except RotationRunning as exc:
            raise CommandError("Another rotate_keys is running: run this again once it has finished.") from exc
        except KeyConfigurationError as exc:
            raise CommandError(str(exc)) from exc
        except OSError as exc:  # the key file or its directory: permissions, a full disk
            where = f" ({exc.filename})" if exc.filename else ""
            raise CommandError(f"Cannot change the master keys: {exc.strerror or exc}{where}.") from exc
        except RotationNotSettled as exc:
            raise CommandError(
                f"Not retiring any version: {exc} after {wait_seconds:g} s. The re-wrap is done; "
                "run `rotate_keys --rewrap-only --retire-old` again later."
            ) from exc

    def _rotate(
        self, provider: KeyProvider, rewrap_only: bool, retire_old: bool, batch_size: int, wait_seconds: float
    ) -> None:
        if not rewrap_only:
            version = provider.add_version()
            self.stdout.write(f"added master key version {version}")
        count = data_keys_rewrap(batch_size=batch_size)
        current = provider.current_version()
        self.stdout.write(f"re-wrapped {count} data keys under version {current}")
        if retire_old:
            # Keys wrapped before the rotation by a transaction or an import that
            # commits after the re-wrap would be left under an old version: wait for
            # those to end, re-wrap again, and only then retire.
            with rotation_settled(timeout_seconds=wait_seconds):
                data_keys_rewrap(batch_size=batch_size)
                in_use = set(DataKey.objects.values_list("master_version", flat=True).distinct())
                # Only older versions: a newer one (added by hand meanwhile) may be wrapping keys already.
                unused = [v for v in provider.versions() if v < current and v not in in_use]
                if unused:
                    provider.remove_versions(unused)
            self.stdout.write(f"retired versions: {', '.join(map(str, unused)) or 'none'}")
