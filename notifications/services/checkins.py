"""Check-ins: the answers to "are you safe?" behind the signed link in a message.

A registrant's link answers for them and for the companions of their registration the
campaign counted with them (Delivery.covers): all at once (``"all": "safe"``) or person
by person. A companion's own link answers for that companion.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import connection, transaction

from consular.crypto import seal, unseal
from consular.errors import DomainError
from notifications import messages as templates
from notifications.models import Campaign, CampaignStatus, CheckIn, CheckInStatus, Delivery
from registrations.models import Companion, Traveller
from registrations.services.removal import registration_lock

SELF = "self"  # the link holder, among the people a check-in names
MAX_MESSAGE_LENGTH = 500


class CheckInGone(DomainError):
    def __init__(self, message: str) -> None:
        super().__init__("gone", message, status=410)


@dataclass(frozen=True)
class CheckInLink:
    """Whose link a token is, and for whom else it answers."""

    campaign: Campaign
    traveller: Traveller
    companion: Companion | None = None  # a companion's own link
    covers: list[uuid.UUID] = field(default_factory=list)  # the companions a registrant's link answers for


def _not_found() -> DomainError:
    return DomainError("not_found", "Not found.", status=404)


def checkin_context(token: str) -> CheckInLink:
    """The campaign and person behind a check-in token: 404 when forged, 410 when expired or closed."""
    try:
        campaign_id, traveller_id, companion_id = templates.read_checkin_token(
            token, max_age_seconds=settings.CHECKIN_TOKEN_MAX_AGE_SECONDS
        )
    except signing.SignatureExpired as exc:
        raise CheckInGone("This check-in link has expired.") from exc
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise _not_found() from exc
    campaign = Campaign.objects.select_related("crisis").filter(pk=campaign_id, ask_checkin=True).first()
    traveller = Traveller.objects.select_related("data_key").filter(pk=traveller_id).first()
    if campaign is None or traveller is None:
        raise _not_found()
    companion = None
    if companion_id is not None:
        companion = Companion.objects.filter(pk=companion_id, traveller=traveller).first()
        if companion is None:  # removed from the registration since
            raise _not_found()
    if campaign.status == CampaignStatus.CLOSED:
        raise CheckInGone("Check-ins for this message are closed.")
    covers: list[uuid.UUID] = []
    if companion is None:
        lead = (
            Delivery.objects.filter(campaign=campaign, traveller=traveller, companion_id=None, persons__gt=0)
            .values_list("covers", flat=True)
            .first()
        )
        covers = list(lead or [])
    return CheckInLink(campaign, traveller, companion, covers)


def _answers_wanted(link: CheckInLink, data: dict[str, Any]) -> dict[uuid.UUID | None, str]:
    """The new answer of each person (None: the registrant) from status, all or persons; 400 naming the field."""
    status, everyone, persons = data.get("status"), data.get("all"), data.get("persons")
    problems: dict[str, list[str]] = {}
    for name, value in (("status", status), ("all", everyone)):
        if value is not None and value not in CheckInStatus.values:
            problems[name] = ["Either safe or need_help."]
    if everyone is not None and (status is not None or persons):
        problems["all"] = ["Answers for everyone: send it alone."]
    if status is None and everyone is None and not persons:
        problems["status"] = ["Give an answer: status, all, or persons."]
    holder = link.companion.pk if link.companion is not None else None
    own_ids = {SELF: holder, **({str(holder): holder} if holder else {})}
    others = {str(companion_id): companion_id for companion_id in link.covers}
    wanted: dict[uuid.UUID | None, str] = {}
    if isinstance(persons, dict):
        for key, answer in persons.items():
            if key not in own_ids and key not in others:
                problems[f"persons.{key}"] = ["Not someone this link answers for."]
            elif answer not in CheckInStatus.values:
                problems[f"persons.{key}"] = ["Either safe or need_help."]
            else:
                wanted[own_ids.get(key, others.get(key))] = answer
    elif persons is not None:
        problems["persons"] = ["Expected an object: person id (or self) to safe or need_help."]
    if problems:
        raise DomainError("invalid", "Invalid input.", fields=problems)
    if everyone is not None:
        return {holder: everyone, **dict.fromkeys(others.values(), everyone)}
    if status is not None:
        wanted[holder] = status
    return wanted


@transaction.atomic
def checkin_record(*, token: str, message: str | None = None, **answers: Any) -> CheckInLink:
    """Record the answers of a check-in; ``answers``: ``status`` (the link holder's own), ``all``, or ``persons``."""
    link = checkin_context(token)
    wanted = _answers_wanted(link, answers)
    holder = link.companion.pk if link.companion is not None else None
    if message is not None and (not isinstance(message, str) or len(message) > MAX_MESSAGE_LENGTH):
        raise DomainError(
            "invalid", "Invalid input.", fields={"message": [f"At most {MAX_MESSAGE_LENGTH} characters."]}
        )
    # The erasure or purge of this registration (which deletes the row) waits for this
    # answer, or has removed it already: then the link leads nowhere. And a close of the
    # campaign (FOR UPDATE) either waits for it or is seen here.
    if not registration_lock(link.traveller.pk, for_="answer"):
        raise _not_found()
    with connection.cursor() as cursor:
        cursor.execute("SELECT status FROM notifications_campaign WHERE id = %s FOR SHARE", [link.campaign.pk])
        if cursor.fetchone()[0] == CampaignStatus.CLOSED:
            raise CheckInGone("Check-ins for this message are closed.")
    cipher = link.traveller.data_key.cipher()
    text = message.strip() if message and message.strip() else None
    for companion_id, status in wanted.items():
        checkin, _ = CheckIn.objects.select_for_update().get_or_create(
            campaign=link.campaign, traveller=link.traveller, companion_id=companion_id, defaults={"status": status}
        )
        checkin.status = status
        if companion_id == holder:
            # The message is the link holder's own, beside their own answer.
            seal(cipher, checkin, "message", text)
        checkin.save()
    return link


def checkin_answers(link: CheckInLink) -> dict[str, Any]:
    """The link holder's answer, and each person's their link answers for (given name and answer only)."""
    holder = link.companion.pk if link.companion is not None else None
    people = [holder, *link.covers]
    # The registration's answers to this campaign: a handful of rows.
    current = dict(
        CheckIn.objects.filter(campaign=link.campaign, traveller=link.traveller).values_list("companion_id", "status")
    )
    cipher = link.traveller.data_key.cipher()
    names: dict[uuid.UUID | None, str | None] = {
        c.pk: unseal(cipher, c, "given_name") for c in Companion.objects.filter(pk__in=link.covers)
    }
    if link.companion is not None:
        names[link.companion.pk] = unseal(cipher, link.companion, "given_name")
    else:
        names[None] = unseal(cipher, link.traveller, "given_name")
    return {
        "status": current.get(holder),
        "persons": [
            {
                "id": SELF if person == holder else str(person),
                "given_name": names.get(person),
                "status": current.get(person),
            }
            for person in people
            if person == holder or person in names  # a companion removed since is left out
        ],
    }
