"""Master-key providers.

The rest of the code asks one small interface for master keys by version, so a
KMS or Vault adapter can replace the environment one without touching callers.
"""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

KEY_BYTES = 32


class KeyConfigurationError(Exception):
    """The configured key material is malformed."""


class UnknownKeyVersion(KeyError):
    """A master-key version is not (or no longer) available."""


class KeyProvider(Protocol):
    def current_version(self) -> int: ...

    def master_key(self, version: int) -> bytes: ...

    def versions(self) -> list[int]: ...


def decode_key(text: str, *, name: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyConfigurationError(f"{name} is not valid base64.") from exc
    if len(key) != KEY_BYTES:
        raise KeyConfigurationError(f"{name} must decode to {KEY_BYTES} bytes, not {len(key)}.")
    return key


def parse_master_keys(text: str) -> dict[int, bytes]:
    """Parse ``"1:<base64>,2:<base64>"``; the highest version is the current one."""
    keys: dict[int, bytes] = {}
    for item in text.replace("\n", ",").split(","):
        item = item.strip()
        if not item:
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


class EnvironmentKeyProvider(StaticKeyProvider):
    """Reads ``MASTER_KEYS`` (or the file named by ``MASTER_KEYS_FILE``) via settings."""

    def __init__(self) -> None:
        super().__init__(parse_master_keys(settings.MASTER_KEYS))


@lru_cache(maxsize=1)
def get_key_provider() -> KeyProvider:
    return import_string(settings.KEY_PROVIDER)()


@lru_cache(maxsize=1)
def blind_index_key() -> bytes:
    return decode_key(settings.BLIND_INDEX_KEY, name="BLIND_INDEX_KEY")


def reset_key_cache() -> None:
    """Forget cached keys (after settings change, e.g. in tests or rotation)."""
    get_key_provider.cache_clear()
    blind_index_key.cache_clear()
