"""A person's export: everything held about them, decrypted, in one consistent state."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import User
from accounts.selectors import account_export
from accounts.services import account_lock_or_404
from consular.audit import audit_record
from notifications.selectors import traveller_checkins, traveller_deliveries
from registrations.selectors import registration_export, traveller_of


@transaction.atomic
def export_for(*, user: User) -> dict[str, Any]:
    """Everything held about the caller, decrypted; the export itself is audited (without its content)."""
    # FOR SHARE on the account: the person's erasure, writes and retention purge (which
    # lock it for update) wait for the export to end, so it reads one consistent state;
    # an erasure that committed after the request authenticated makes it a 404 instead
    # of a failed decryption with the destroyed key.
    account_lock_or_404(user.pk, for_="read")
    audit_record(actor=user, action="export", object_type="user", object_id=user.pk)
    document: dict[str, Any] = {"account": account_export(user=user), "registration": None}
    traveller = traveller_of(user=user)
    if traveller is not None:
        cipher = traveller.data_key.cipher()
        document["registration"] = {
            **registration_export(user=user, traveller=traveller),
            "checkins": traveller_checkins(traveller_id=traveller.pk, cipher=cipher),
            "deliveries": traveller_deliveries(traveller_id=traveller.pk),
        }
    return document
