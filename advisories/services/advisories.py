"""Country advisories, written by the staff of the posts covering the country (admins: any), audited."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import Role, User
from advisories.models import CountryAdvisory
from consular.audit import audit_record
from consular.errors import DomainError


def may_edit(user: User, country: str) -> bool:
    if user.role == Role.ADMIN:
        return True
    countries = user.jurisdiction()
    return user.role in (Role.OFFICER, Role.SUPERVISOR) and bool(countries and country in countries)


@transaction.atomic
def advisory_put(
    *, user: User, country: str, level: int, texts: dict[str, Any], regional_notes: dict[str, str]
) -> CountryAdvisory:
    if not may_edit(user, country):
        raise DomainError(
            "forbidden", "Only the posts covering this country, or an admin, change its advisory.", status=403
        )
    advisory = CountryAdvisory.objects.select_for_update().filter(country_id=country).first()
    old_level = advisory.level if advisory is not None else None
    if advisory is None:
        advisory = CountryAdvisory(country_id=country)
    advisory.level, advisory.texts, advisory.regional_notes, advisory.updated_by = level, texts, regional_notes, user
    advisory.save()
    audit_record(
        actor=user,
        action="advisory.update",
        object_type="country",
        object_id=country,
        details={"old_level": old_level, "new_level": level, "languages": sorted(texts)},
    )
    return advisory
