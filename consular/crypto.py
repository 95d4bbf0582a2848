"""Envelope encryption and blind indexes.

Each person has a random data key (AES-256-GCM), stored only wrapped by a
versioned master key. Values are encrypted with the data key and bound by
associated data to (table, field, row id), so a ciphertext copied to another row
or column fails to decrypt. Destroying the wrapped data key makes every value of
that person unreadable, in backups too (crypto-shredding).

Decryption failures raise :class:`DecryptionError`; nothing here ever returns
ciphertext, an empty string or ``None`` in place of a plaintext.
"""

from __future__ import annotations

import hmac
import os
import struct
import unicodedata
import uuid
from typing import Any

import idna
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from consular.keys import KeyProvider, UnknownKeyVersion, blind_index_key, get_key_provider

NONCE_BYTES = 12
VALUE_FORMAT = 1
WRAP_FORMAT = 1
# value blob: format (1) | data-key id (16) | nonce (12) | ciphertext + tag
_VALUE_HEADER = struct.Struct(">B16s")
# wrapped key blob: format (1) | master-key version (4) | nonce (12) | ciphertext + tag
_WRAP_HEADER = struct.Struct(">BI")


class DecryptionError(Exception):
    """A value or key could not be decrypted: wrong key, wrong place, tampered or shredded."""


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def _wrap_aad(key_id: uuid.UUID, header: bytes) -> bytes:
    return b"consular/data-key|" + key_id.bytes + header


def wrap_data_key(data_key: bytes, *, key_id: uuid.UUID, provider: KeyProvider | None = None) -> tuple[int, bytes]:
    """Encrypt a data key under the current master key; returns (master version, blob)."""
    provider = provider or get_key_provider()
    version = provider.current_version()
    header = _WRAP_HEADER.pack(WRAP_FORMAT, version)
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(provider.master_key(version)).encrypt(nonce, data_key, _wrap_aad(key_id, header))
    return version, header + nonce + sealed


def wrapped_key_version(blob: bytes) -> int:
    fmt, version = _WRAP_HEADER.unpack_from(blob)
    if fmt != WRAP_FORMAT:
        raise DecryptionError("Unknown wrapped-key format.")
    return version


def unwrap_data_key(blob: bytes, *, key_id: uuid.UUID, provider: KeyProvider | None = None) -> bytes:
    provider = provider or get_key_provider()
    blob = bytes(blob)
    if len(blob) < _WRAP_HEADER.size + NONCE_BYTES + 16:
        raise DecryptionError("Wrapped key is truncated.")
    version = wrapped_key_version(blob)
    header = blob[: _WRAP_HEADER.size]
    nonce = blob[_WRAP_HEADER.size : _WRAP_HEADER.size + NONCE_BYTES]
    try:
        master = provider.master_key(version)
    except UnknownKeyVersion as exc:
        raise DecryptionError(f"Master key version {version} is not available.") from exc
    try:
        return AESGCM(master).decrypt(nonce, blob[_WRAP_HEADER.size + NONCE_BYTES :], _wrap_aad(key_id, header))
    except InvalidTag as exc:
        raise DecryptionError("Data key failed authentication.") from exc


def _value_aad(header: bytes, table: str, field: str, row_id: object) -> bytes:
    return header + f"|{table}|{field}|{row_id}".encode()


class Cipher:
    """Encrypts and decrypts one person's values with their data key."""

    def __init__(self, *, key_id: uuid.UUID, data_key: bytes) -> None:
        self.key_id = key_id
        self._aead = AESGCM(data_key)
        self._header = _VALUE_HEADER.pack(VALUE_FORMAT, key_id.bytes)

    def encrypt(self, plaintext: str, *, table: str, field: str, row_id: object) -> bytes:
        if not isinstance(plaintext, str):
            raise TypeError("Only text is encrypted; serialise other values first.")
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), _value_aad(self._header, table, field, row_id))
        return self._header + nonce + sealed

    def decrypt(self, blob: bytes, *, table: str, field: str, row_id: object) -> str:
        blob = bytes(blob)
        if len(blob) < _VALUE_HEADER.size + NONCE_BYTES + 16:
            raise DecryptionError("Encrypted value is truncated.")
        fmt, key_id = _VALUE_HEADER.unpack_from(blob)
        if fmt != VALUE_FORMAT:
            raise DecryptionError("Unknown encrypted-value format.")
        if key_id != self.key_id.bytes:
            raise DecryptionError("Value was encrypted under another data key.")
        header = blob[: _VALUE_HEADER.size]
        nonce = blob[_VALUE_HEADER.size : _VALUE_HEADER.size + NONCE_BYTES]
        try:
            plaintext = self._aead.decrypt(
                nonce, blob[_VALUE_HEADER.size + NONCE_BYTES :], _value_aad(header, table, field, row_id)
            )
        except InvalidTag as exc:
            raise DecryptionError(f"{table}.{field} failed authentication for this row.") from exc
        return plaintext.decode()


def seal(cipher: Cipher, instance: Any, field: str, value: str | None) -> None:
    """Encrypt ``value`` into ``instance.<field>_enc``, bound to the instance's table and primary key."""
    blob = (
        None if value is None else cipher.encrypt(value, table=instance._meta.db_table, field=field, row_id=instance.pk)
    )
    setattr(instance, f"{field}_enc", blob)


def unseal(cipher: Cipher, instance: Any, field: str) -> str | None:
    """Decrypt ``instance.<field>_enc``; ``None`` only where nothing was stored, never on failure."""
    blob = getattr(instance, f"{field}_enc")
    if blob is None:
        return None
    return cipher.decrypt(blob, table=instance._meta.db_table, field=field, row_id=instance.pk)


def normalise_email(value: str) -> str:
    """One form per mailbox, for the blind index, for storage and for sending.

    NFC, a lower-case local part, and the domain in ASCII: an internationalised one
    through IDNA 2008 with the UTS 46 mapping (``Bücher.example`` →
    ``xn--bcher-kva.example``), so one mailbox cannot hold two accounts or two
    registrations whichever way it is typed. ASCII, not Unicode: Django turns a Unicode
    domain into ASCII with the older IDNA 2003 rules when it sends, which maps ``faß.de``
    to ``fass.de``, someone else's domain. A domain IDNA 2008 refuses but IDNA 2003
    accepts (``☃.net``) takes IDNA 2003's ASCII form: the one mail to it would use.
    """
    text = unicodedata.normalize("NFC", value.strip())
    local, at, domain = text.rpartition("@")
    if not at:
        return text.lower()
    # Lower-casing the local part is technically lossy (RFC 5321), but no real
    # provider distinguishes case, and a blind index must be case-insensitive to
    # find duplicates at all.
    return f"{local.lower()}@{_ascii_domain(domain)}"


def _ascii_domain(domain: str) -> str:
    if domain.isascii():
        return domain.lower()  # punycode included: already in its one form
    # The domain's case is left to the IDNA mapping: str.lower() turns a final capital
    # sigma into final sigma where the mapping gives the medial one: two spellings of one domain.
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        pass
    try:
        return domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return domain.lower()  # no valid ASCII form: email validation decides


def blind_index(value: str, *, domain: str) -> str:
    """Keyed HMAC-SHA256 of an already normalised value, hex; ``domain`` separates fields."""
    message = domain.encode() + b"\x00" + value.encode()
    # The one-shot form skips building a Python HMAC object: the import computes two per traveller.
    return hmac.digest(blind_index_key(), message, "sha256").hex()


def email_blind_index(email: str) -> str:
    return blind_index(normalise_email(email), domain="email")
