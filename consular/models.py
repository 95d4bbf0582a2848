from __future__ import annotations

import uuid

from django.db import models

from consular import crypto


class DataKey(models.Model):
    """One person's data key, stored only wrapped by a master key.

    Deleting the row is crypto-shredding: every value encrypted under it becomes
    unreadable, including copies in backups taken before.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    master_version = models.PositiveIntegerField(db_index=True)
    wrapped = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(master_version__gte=1), name="datakey_version_positive")
        ]

    @classmethod
    def generate(cls) -> tuple[DataKey, crypto.Cipher]:
        """A new, unsaved data key and the cipher that uses it."""
        key_id = uuid.uuid4()
        plaintext_key = crypto.new_data_key()
        version, wrapped = crypto.wrap_data_key(plaintext_key, key_id=key_id)
        return cls(id=key_id, master_version=version, wrapped=wrapped), crypto.Cipher(
            key_id=key_id, data_key=plaintext_key
        )

    def cipher(self) -> crypto.Cipher:
        return crypto.Cipher(key_id=self.id, data_key=crypto.unwrap_data_key(self.wrapped, key_id=self.id))


class WorkerHeartbeat(models.Model):
    """Last time a django-q2 worker ran the heartbeat task; read by /readyz."""

    name = models.CharField(primary_key=True, max_length=64)
    seen_at = models.DateTimeField()
