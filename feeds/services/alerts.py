"""The early warning: a post learns at once that a feed crisis holds its citizens.

When a feed crisis arrives or its area changes, its exposure is computed (the join of
/affected, over every country, including stays that start later inside the event's
window) and each post whose countries hold located registrations gets an inbox entry,
counts only. A crisis raises a post's entry again only when that post's located count
grows beyond its last entry's.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Post, Role, User
from consular.errors import DomainError
from crises.models import Crisis
from crises.services.proposals import crisis_exposure_store
from feeds.models import Alert


def alerts_raise(*, crisis: Crisis) -> list[Alert]:
    """Store the crisis's exposure and raise the entries it calls for; the new entries."""
    by_country = crisis_exposure_store(crisis=crisis)
    raised = []
    for post in Post.objects.filter(countries__overlap=crisis.countries):
        cells = [by_country[country] for country in post.countries if country in by_country]
        located = sum(cell["located"] for cell in cells)
        if not located:
            continue
        last = Alert.objects.filter(post=post, crisis=crisis).order_by("-located").first()
        if last is not None and last.located >= located:
            continue
        persons = sum(cell["persons"] for cell in cells)
        raised.append(Alert.objects.create(post=post, crisis=crisis, located=located, persons=persons))
    return raised


def alerts_for(*, user: User) -> QuerySet[Alert]:
    """A post's staff see their post's entries; admins every post's."""
    alerts = Alert.objects.select_related("crisis")
    if user.post_id is None:
        return alerts if user.role == Role.ADMIN else alerts.none()
    return alerts.filter(post_id=user.post_id)


@transaction.atomic
def alert_acknowledge(*, alert: Alert, user: User) -> Alert:
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    if alert.acknowledged_at is not None:
        raise DomainError("conflict", "This alert was already acknowledged.", status=409)
    alert.acknowledged_at, alert.acknowledged_by = timezone.now(), user
    alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
    return alert
