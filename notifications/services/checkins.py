"""Check-ins: the answers to "are you safe?" behind the signed link in a message."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.db import connection, transaction

from consular.crypto import seal
from consular.errors import DomainError
from notifications import messages as templates
from notifications.models import Campaign, CampaignStatus, CheckIn, CheckInStatus
from registrations.models import Traveller
from registrations.services.removal import registration_lock


class CheckInGone(DomainError):
    def __init__(self, message: str) -> None:
        super().__init__("gone", message, status=410)


def checkin_context(token: str) -> tuple[Campaign, Traveller]:
    """The campaign and traveller behind a check-in token: 404 when forged, 410 when expired or closed."""
    try:
        campaign_id, traveller_id = templates.read_checkin_token(
            token, max_age_seconds=settings.CHECKIN_TOKEN_MAX_AGE_SECONDS
        )
    except signing.SignatureExpired as exc:
        raise CheckInGone("This check-in link has expired.") from exc
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise DomainError("not_found", "Not found.", status=404) from exc
    campaign = Campaign.objects.select_related("crisis").filter(pk=campaign_id, ask_checkin=True).first()
    traveller = Traveller.objects.select_related("data_key").filter(pk=traveller_id).first()
    if campaign is None or traveller is None:
        raise DomainError("not_found", "Not found.", status=404)
    if campaign.status == CampaignStatus.CLOSED:
        raise CheckInGone("Check-ins for this message are closed.")
    return campaign, traveller


def current_checkin(campaign: Campaign, traveller: Traveller) -> CheckIn | None:
    return CheckIn.objects.filter(campaign=campaign, traveller=traveller).first()


@transaction.atomic
def checkin_record(*, token: str, status: str, message: str | None) -> CheckIn:
    campaign, traveller = checkin_context(token)
    if status not in CheckInStatus.values:
        raise DomainError("invalid", "Invalid input.", fields={"status": ["Either safe or need_help."]})
    if message is not None and (not isinstance(message, str) or len(message) > 500):
        raise DomainError("invalid", "Invalid input.", fields={"message": ["At most 500 characters."]})
    # The erasure or purge of this traveller (which deletes the row) waits for this
    # answer, or has removed the traveller already: then the link leads nowhere. And
    # a close of the campaign (FOR UPDATE) either waits for it or is seen here.
    if not registration_lock(traveller.pk, for_="answer"):
        raise DomainError("not_found", "Not found.", status=404)
    with connection.cursor() as cursor:
        cursor.execute("SELECT status FROM notifications_campaign WHERE id = %s FOR SHARE", [campaign.pk])
        if cursor.fetchone()[0] == CampaignStatus.CLOSED:
            raise CheckInGone("Check-ins for this message are closed.")
    checkin, _ = CheckIn.objects.select_for_update().get_or_create(
        campaign=campaign, traveller=traveller, defaults={"status": status}
    )
    checkin.status = status
    seal(traveller.data_key.cipher(), checkin, "message", message.strip() if message and message.strip() else None)
    checkin.save()
    return checkin
