"""Crypto-shredding: destroying the data keys that could decrypt a person's values.

Every app encrypts under keys it does not own (consular.models.DataKey); which keys
belong to whom is the apps' business, destroying them is the core's.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable

from consular.models import DataKey


def data_keys_shred(key_ids: Iterable[uuid.UUID | str]) -> None:
    """Overwrite the wrapped keys in place, before anything else of an erasure.

    Even an erasure that fails half-way then leaves nothing decryptable behind; the
    rows themselves go last (data_keys_delete), once nothing refers to them.
    """
    for key_id in key_ids:
        DataKey.objects.filter(pk=key_id).update(wrapped=os.urandom(60))


def data_keys_delete(key_ids: Iterable[uuid.UUID | str]) -> int:
    return DataKey.objects.filter(pk__in=list(key_ids)).delete()[0]
