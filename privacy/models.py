from __future__ import annotations

from django.db import models
from django.utils import timezone


class Erasure(models.Model):
    """Ledger of erasures: ids only, so they can be re-applied after restoring an older backup.

    Kept twice: here, and appended to ERASURE_LEDGER_FILE outside the database
    (privacy.services.ledger), since a restored backup brings back this table's old state too.
    """

    id = models.BigAutoField(primary_key=True)
    traveller_id = models.UUIDField(null=True)
    user_id = models.UUIDField(null=True)
    data_key_ids = models.JSONField(default=list)
    reason = models.CharField(max_length=16)  # "request" (the person asked) or "retention"
    erased_at = models.DateTimeField(default=timezone.now)
