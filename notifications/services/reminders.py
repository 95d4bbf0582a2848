"""Reminders to confirm a residence abroad, a month before it would count as unconfirmed.

Sent to the registrant by their own channel (email, else SMS), with no more personal
data than the message needs: no name, no place, only the date and what to do.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from consular.crypto import DecryptionError
from notifications.channels import CHANNELS, SendError
from registrations.selectors import ResidenceDue, contact_of, residences_due_for_reminder
from registrations.services.residences import residences_mark_reminded

log = logging.getLogger(__name__)

REMINDER_LEAD_DAYS = 30
REMINDERS_PER_RUN = 5000  # a day's worth for a large register; the rest go the next day

TEXT = {
    "en": (
        "Registration abroad",
        "The embassy keeps your residence abroad on record for crises. Please confirm that you still live "
        "there, or update it, in the app before {date}.",
    ),
    "fr": (
        "Inscription à l'étranger",
        "L'ambassade garde votre résidence à l'étranger pour les crises. Merci de confirmer que vous y vivez "
        "toujours, ou de la mettre à jour, dans l'application avant le {date}.",
    ),
    "es": (
        "Inscripción en el extranjero",
        "La embajada conserva su residencia en el extranjero para las crisis. Confirme que sigue viviendo allí, "
        "o actualícela, en la aplicación antes del {date}.",
    ),
}


def _send(due: ResidenceDue) -> bool:
    """True once the reminder is sent, or cannot ever be (no channel, no address)."""
    try:
        contact = contact_of(traveller=due.traveller)
    except DecryptionError:
        log.error("residence %s: contact data cannot be decrypted; no reminder", due.residence_id)
        return True
    subject, text = TEXT.get(contact.language.split("-")[0].lower(), TEXT["en"])
    for name, to in (("email", contact.email), ("sms", contact.phone)):
        channel = CHANNELS[name]
        if not to or not channel.configured():
            continue
        try:
            channel.send(
                to=to,
                subject=subject,
                text=text.format(date=due.confirm_by.isoformat()),
                idempotency_key=f"residence-{due.residence_id}-{due.confirm_by.isoformat()}",
            )
        except SendError as error:
            # Ids only: the error may quote the address. Tried again at the next run.
            log.warning(
                "residence %s: reminder not sent (%s)", due.residence_id, "transient" if error.transient else "refused"
            )
            return not error.transient
        return True
    return True


def residence_reminders_send(*, limit: int = REMINDERS_PER_RUN) -> int:
    """Remind the holders of residences nearing their confirmation deadline; returns how many were sent."""
    due = residences_due_for_reminder(today=timezone.localdate(), lead_days=REMINDER_LEAD_DAYS, limit=limit)
    done = [item.residence_id for item in due if _send(item)]
    residences_mark_reminded(residence_ids=done)
    return len(done)
