"""Master-key providers.

The rest of the code asks one small interface for master keys by version, so a
KMS or Vault adapter can replace these without touching callers.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import logging
import os
import secrets
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

KEY_BYTES = 32


log = logging.getLogger(__name__)


class KeyConfigurationError(Exception):
    """The configured key material is malformed or cannot be changed this way."""


class UnknownKeyVersion(KeyError):
    """A master-key version is not (or no longer) available."""


class KeyProvider(Protocol):
    def current_version(self) -> int: ...

    def master_key(self, version: int) -> bytes: ...

    def versions(self) -> list[int]: ...

    def add_version(self) -> int:
        """Create a new, current master-key version; returns its number."""
        ...

    def remove_versions(self, versions: list[int]) -> None: ...


def decode_key(text: str, *, name: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyConfigurationError(f"{name} is not valid base64.") from exc
    if len(key) != KEY_BYTES:
        raise KeyConfigurationError(f"{name} must decode to {KEY_BYTES} bytes, not {len(key)}.")
    return key


def parse_master_keys(text: str) -> dict[int, bytes]:
    """Parse ``"1:<base64>,2:<base64>"`` (commas or newlines); the highest version is current."""
    keys: dict[int, bytes] = {}
    for item in text.replace("\n", ",").split(","):
        item = item.strip()
        if not item or item.startswith("#"):
            continue
        version_text, sep, material = item.partition(":")
        if not sep or not version_text.strip().isdigit():
            raise KeyConfigurationError("MASTER_KEYS entries must look like '<version>:<base64 key>'.")
        version = int(version_text)
        if not 1 <= version <= 2**31 - 1 or version in keys:
            raise KeyConfigurationError(f"MASTER_KEYS has an invalid or repeated version {version}.")
        keys[version] = decode_key(material, name=f"MASTER_KEYS version {version}")
    if not keys:
        raise KeyConfigurationError("MASTER_KEYS holds no key.")
    return keys


def format_master_keys(keys: dict[int, bytes]) -> str:
    return "".join(f"{version}:{base64.b64encode(keys[version]).decode()}\n" for version in sorted(keys))


class StaticKeyProvider:
    """Keys held in memory; the current version is the highest one."""

    def __init__(self, keys: dict[int, bytes]) -> None:
        if not keys:
            raise KeyConfigurationError("A key provider needs at least one key.")
        self._keys = dict(keys)

    def current_version(self) -> int:
        return max(self._keys)

    def master_key(self, version: int) -> bytes:
        try:
            return self._keys[version]
        except KeyError:
            raise UnknownKeyVersion(version) from None

    def versions(self) -> list[int]:
        return sorted(self._keys)

    def add_version(self) -> int:
        raise KeyConfigurationError(
            f"This key provider cannot add versions. Add '{self.current_version() + 1}:<base64 key>' to "
            "MASTER_KEYS on every process, restart them, then run `manage.py rotate_keys --rewrap-only`."
        )

    def remove_versions(self, versions: list[int]) -> None:
        raise KeyConfigurationError("Remove the versions from MASTER_KEYS and restart every process.")


class EnvironmentKeyProvider(StaticKeyProvider):
    """Reads ``MASTER_KEYS`` (or the file named by ``MASTER_KEYS_FILE``) once, via settings."""

    def __init__(self) -> None:
        super().__init__(parse_master_keys(settings.MASTER_KEYS))


class FileKeyProvider:
    """Keys in the file named by ``MASTER_KEYS_FILE``, re-read whenever the file changes.

    Re-reading matters during rotation: once `rotate_keys` appends a version,
    every process wraps new data keys under it from its next call on, so no key
    is left behind under the version about to be retired.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path or settings.MASTER_KEYS_FILE)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._keys: dict[int, bytes] = {}
        self._refresh()

    def _refresh(self) -> dict[int, bytes]:
        stat = self.path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            with self._lock:
                self._keys = parse_master_keys(self.path.read_text())
                self._stamp = stamp
        return self._keys

    def current_version(self) -> int:
        return max(self._refresh())

    def master_key(self, version: int) -> bytes:
        try:
            return self._refresh()[version]
        except KeyError:
            raise UnknownKeyVersion(version) from None

    def versions(self) -> list[int]:
        return sorted(self._refresh())

    def _write(self, keys: dict[int, bytes]) -> None:
        current = self.path.stat()
        temporary = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as handle:
                # The new file keeps the old one's owner, group and (owner and group) mode:
                # an operator rotating as root must not leave the service unable to read it.
                mode = stat.S_IMODE(current.st_mode) & 0o660
                created = os.fstat(handle.fileno())
                if (created.st_uid, created.st_gid) != (current.st_uid, current.st_gid):
                    try:
                        os.fchown(handle.fileno(), current.st_uid, current.st_gid)
                    except PermissionError:
                        if created.st_uid != current.st_uid:
                            raise KeyConfigurationError(
                                f"Cannot give the new {self.path.name} the old one's owner: "
                                "run this as the file's owner or as root."
                            ) from None
                        # The file's owner, not in its group: the file stays theirs, and the
                        # group it gets (the owner's own) is given no access.
                        mode &= 0o600
                        log.warning(
                            "%s could not keep its group; group access removed, restore it by hand",
                            self.path.name,
                        )
                os.fchmod(handle.fileno(), mode)
                handle.write(format_master_keys(keys))
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        os.replace(temporary, self.path)  # atomic: readers see the old or the new file, never half
        self._stamp = None

    def add_version(self) -> int:
        with self._changing() as keys:
            version = max(keys) + 1
            keys[version] = secrets.token_bytes(KEY_BYTES)
            self._write(keys)
        return version

    def remove_versions(self, versions: list[int]) -> None:
        with self._changing() as keys:
            kept = {v: k for v, k in keys.items() if v not in versions}
            if not kept:
                raise KeyConfigurationError("Refusing to remove every master key.")
            self._write(kept)

    @contextmanager
    def _changing(self) -> Iterator[dict[int, bytes]]:
        """The file's keys, read afresh under an exclusive lock held until the change is written.

        Two changes at once would otherwise both read the same versions: both would add
        "version 2", and the second write would destroy the first's key and every data
        key already wrapped under it. The lock is on the file's directory, opened read
        only: the key file itself is replaced by rename, so a lock on it would not hold,
        and a lock file left by one user (root) could not be opened by the next.
        """
        descriptor = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield parse_master_keys(self.path.read_text())
        finally:
            os.close(descriptor)


@lru_cache(maxsize=1)
def get_key_provider() -> KeyProvider:
    return import_string(settings.KEY_PROVIDER)()


@lru_cache(maxsize=1)
def blind_index_key() -> bytes:
    return decode_key(settings.BLIND_INDEX_KEY, name="BLIND_INDEX_KEY")


def reset_key_cache() -> None:
    """Forget cached providers and keys (after settings change, e.g. in tests)."""
    get_key_provider.cache_clear()
    blind_index_key.cache_clear()
