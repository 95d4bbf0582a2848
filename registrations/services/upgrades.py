"""One-off upgrades of stored registrations, run once after the release that needs them (docs/upgrades.md)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from shapely.geometry import Point

from accounts.services import EmailReindex
from consular import crypto
from consular.rows import in_id_order
from registrations import gazetteer
from registrations.models import Precision, Stay, Traveller
from registrations.services.profiles import contact_email_blind_index
from registrations.validation import first_of_month


def reindex_traveller_emails(*, batch_size: int = 500) -> EmailReindex:
    """Rewrite each registration's contact email in normalise_email's form, with its blind index.

    The registrations' half of accounts.services.reindex_account_emails (run once
    after normalise_email changed): without it, an import would not recognise a
    traveller registered with the other form of the same address, and mail to a
    Unicode domain stored before would go through Django's IDNA 2003 conversion.
    """
    result = EmailReindex()
    travellers = Traveller.objects.select_related("data_key").exclude(email_enc=None)
    for traveller in in_id_order(travellers.only("id", "email_enc", "email_bidx", "data_key"), batch_size=batch_size):
        try:
            cipher = traveller.data_key.cipher()
            stored = crypto.unseal(cipher, traveller, "email")
        except crypto.DecryptionError:
            result.unreadable.append(traveller.id)
            continue
        if stored is None:  # emptied since the query began
            continue
        canonical = crypto.normalise_email(stored)
        changes: dict[str, str | bytes] = {"email_bidx": contact_email_blind_index(canonical)}
        if canonical != stored:
            changes["email_enc"] = cipher.encrypt(
                canonical, table=Traveller._meta.db_table, field="email", row_id=traveller.pk
            )
        elif changes["email_bidx"] == traveller.email_bidx:
            continue
        result.updated += Traveller.objects.filter(id=traveller.id, email_bidx=traveller.email_bidx).update(**changes)
    return result


@dataclass
class StaysPlacedAgain:
    """What placing stays again changed; ids only, never a city name."""

    placed: int = 0  # now at a (different) city's point
    coarsened: int = 0  # now at country precision: the name is ambiguous or no longer found
    unreadable: list[uuid.UUID] = field(default_factory=list)  # the stored city would not decrypt


def place_city_stays_again(*, batch_size: int = 500) -> StaysPlacedAgain:
    """Place every stay that has a city and no point of its own again, with the current gazetteer.

    Run once after upgrading past the gazetteer change that stopped placing names shared
    by cities far apart (a stay in Portland, Maine had been put in Portland, Oregon) and
    let a city's own name win over other cities' alternate names. A stay whose client
    gave a point is left alone. Safe to re-run, and to run while the service serves: a
    stay is never edited in place (a trip's update replaces its stays), so a row read
    here is either unchanged or gone.
    """
    result = StaysPlacedAgain()
    stays = (
        Stay.objects.select_related("traveller__data_key")
        .exclude(city_enc=None)
        .exclude(precision=Precision.POINT)
        .only("id", "country", "city_enc", "point", "precision", "traveller__data_key")
    )
    for stay in in_id_order(stays, batch_size=batch_size):
        try:
            city = crypto.unseal(stay.traveller.data_key.cipher(), stay, "city")
        except crypto.DecryptionError:
            result.unreadable.append(stay.id)
            continue
        if city is None:  # the stay was replaced since the query began
            continue
        found = gazetteer.find_city(stay.country, city)
        if isinstance(found, gazetteer.Place):
            precision, point = Precision.CITY, Point(found.longitude, found.latitude)
        else:
            precision, point = Precision.COUNTRY, None
        if precision == stay.precision and _same_point(point, stay.point):
            continue
        if Stay.objects.filter(id=stay.id).update(precision=precision, point=point):
            if precision == Precision.CITY:
                result.placed += 1
            else:
                result.coarsened += 1
    return result


def _same_point(a: Point | None, b: Point | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and a.equals(b))


@dataclass
class BirthMonthsFilled:
    filled: int = 0
    unreadable: list[uuid.UUID] = field(default_factory=list)  # the date of birth would not decrypt


def fill_birth_months(*, batch_size: int = 500) -> BirthMonthsFilled:
    """Give every registration written before months of birth were kept in clear its month.

    Run once after migrating past households (December 2026): until then the join counts
    such a registrant as an adult. Safe to re-run and to run while the service serves: a
    profile written meanwhile sets its own month, and only rows still without one are
    touched.
    """
    result = BirthMonthsFilled()
    travellers = (
        Traveller.objects.select_related("data_key")
        .filter(birth_month=None)
        .exclude(date_of_birth_enc=None)
        .only("id", "date_of_birth_enc", "data_key")
    )
    for traveller in in_id_order(travellers, batch_size=batch_size):
        try:
            born = crypto.unseal(traveller.data_key.cipher(), traveller, "date_of_birth")
        except crypto.DecryptionError:
            result.unreadable.append(traveller.id)
            continue
        if born is None:
            continue
        month = first_of_month(date.fromisoformat(born))
        result.filled += Traveller.objects.filter(id=traveller.id, birth_month=None).update(birth_month=month)
    return result
