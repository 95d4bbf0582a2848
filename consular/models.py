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
        # Unwrapped once per loaded row: a request that writes then renders a
        # person's data unwraps their key once, and a deleted row takes it along.
        if getattr(self, "_cipher", None) is None:
            try:
                data_key = crypto.unwrap_data_key(bytes(self.wrapped), key_id=self.id)
            except crypto.DecryptionError:
                # Read before a rotation re-wrapped it and retired the old version (a send
                # batch loads its keys up front, and may run a minute): the row as it is
                # now decrypts. A key that is really gone (shredded) still raises.
                current = type(self).objects.filter(pk=self.pk).values_list("master_version", "wrapped").first()
                if current is None or bytes(current[1]) == bytes(self.wrapped):
                    raise
                self.master_version, self.wrapped = current
                data_key = crypto.unwrap_data_key(bytes(self.wrapped), key_id=self.id)
            self._cipher = crypto.Cipher(key_id=self.id, data_key=data_key)
        return self._cipher


class WorkerHeartbeat(models.Model):
    """Last time a django-q2 worker ran the heartbeat task; read by /readyz."""

    name = models.CharField(primary_key=True, max_length=64)
    seen_at = models.DateTimeField()


class AuditEntry(models.Model):
    """Append-only, hash-chained audit log.

    Each entry's hash covers its content and the previous entry's hash, so
    editing or removing a row breaks the chain from there on (`verify_audit`).
    Triggers in the migration make PostgreSQL itself refuse UPDATE and DELETE.
    Details hold references and counts, never names or contact data.
    """

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField()
    actor_id = models.UUIDField(null=True)
    actor_role = models.CharField(max_length=16, blank=True)
    post_id = models.UUIDField(null=True, db_index=True)
    action = models.CharField(max_length=40)
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["at"], name="audit_at")]
