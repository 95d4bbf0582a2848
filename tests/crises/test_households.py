"""Counting people, not accounts: registrants and the companions on their matching trips and residences."""

from datetime import date, timedelta

from django.utils import timezone

from crises.selectors import affected_counts
from registrations.models import Residence, Traveller
from registrations.selectors import age_on
from tests.factories import companion_payload, declared_crisis, household, residence_payload, trip_payload

# The default crisis: a box over Viti Levu from 2026-11-10, open-ended. Minors are born
# after November 2008.
FAMILY = [
    companion_payload(given_name="Losa", date_of_birth="1988-02-11", relation="wife"),
    companion_payload(given_name="Mele", date_of_birth="2014-06-02", relation="daughter"),
    companion_payload(given_name="Tevita", date_of_birth="2018-09-20", relation="son"),
]
SUVA = {"country": "FJ", "city": "Suva", "start_date": "2026-11-01", "end_date": "2026-11-30"}


def located(client, crisis):
    return client.get(f"/api/v1/crises/{crisis.pk}/affected").json()["located"]


def test_a_family_of_four_on_a_trip_counts_one_registration_four_persons_two_minors(client_for, olivia, ada):
    crisis = declared_crisis(ada)
    household(companions=FAMILY, trips=[trip_payload(stays=[SUVA])])
    section = located(client_for(olivia), crisis)
    assert (section["total"], section["persons"], section["minors"]) == (1, 4, 2)
    assert (section["travelling"], section["resident"], section["unconfirmed"]) == (4, 0, 0)
    assert section["by_country"] == [
        {"country": "FJ", "count": 1, "persons": 4, "minors": 2, "travelling": 4, "resident": 0, "unconfirmed": 0}
    ]


def test_a_companion_on_two_overlapping_trips_counts_once(ada):
    crisis = declared_crisis(ada)
    household(companions=FAMILY[:1], trips=[trip_payload(stays=[SUVA]), trip_payload(stays=[SUVA])])
    counts = affected_counts(crisis=crisis, user=ada)
    assert sum(counts.located.values()) == 1
    assert counts.located_persons["FJ"].persons == 2


def test_a_companion_left_at_home_is_not_counted(ada):
    crisis = declared_crisis(ada)
    household(companions=FAMILY, trips=[{**trip_payload(stays=[SUVA]), "companions": []}])
    assert affected_counts(crisis=crisis, user=ada).located_persons["FJ"].persons == 1


def test_an_open_ended_residence_is_located_years_later(ada):
    crisis = declared_crisis(ada, starts_at="2034-03-01T00:00:00Z")
    household(companions=FAMILY[:1], trips=[], residences=[residence_payload(since="2019-08-01")])
    cell = affected_counts(crisis=crisis, user=ada).located_persons["FJ"]
    assert (cell.persons, cell.resident, cell.travelling) == (2, 2, 0)


def test_a_residence_that_ended_before_the_crisis_is_not_counted(ada):
    crisis = declared_crisis(ada)
    household(companions=[], trips=[], residences=[residence_payload(since="2019-08-01", until="2025-12-31")])
    assert affected_counts(crisis=crisis, user=ada).located_persons == {}


def test_an_unconfirmed_residence_counts_as_unconfirmed_never_dropped(ada, settings):
    crisis = declared_crisis(ada)
    user, _ = household(companions=FAMILY[:1], trips=[], residences=[residence_payload()])
    Residence.objects.filter(traveller__user=user).update(confirmed_at=timezone.now() - timedelta(days=400))
    counts = affected_counts(crisis=crisis, user=ada)
    cell = counts.located_persons["FJ"]
    assert (cell.persons, cell.unconfirmed, cell.resident) == (2, 2, 0)
    assert sum(counts.located.values()) == 1


def test_a_person_both_travelling_and_resident_there_counts_once_as_travelling(ada):
    crisis = declared_crisis(ada)
    household(companions=FAMILY[:1], trips=[trip_payload(stays=[SUVA])], residences=[residence_payload()])
    cell = affected_counts(crisis=crisis, user=ada).located_persons["FJ"]
    assert (cell.persons, cell.travelling, cell.resident) == (2, 2, 0)


def test_a_companion_placed_only_by_country_is_counted_apart_from_the_located(ada):
    crisis = declared_crisis(ada)
    country_only = {"country": "FJ", "start_date": "2026-11-01", "end_date": "2026-11-30"}
    user, (wife, *_) = household(companions=FAMILY[:1], trips=[trip_payload(stays=[SUVA])])
    from registrations.services.trips import trip_create

    trip_create(user=user, data=trip_payload(stays=[country_only], companions=[wife]))
    Traveller.objects.get(user=user)  # one registration
    counts = affected_counts(crisis=crisis, user=ada)
    # The wife is on both trips: the located one places her, once.
    assert counts.located_persons["FJ"].persons == 2
    assert "FJ" not in counts.country_only_persons


def test_analysts_see_small_person_counts_suppressed_with_their_complement(client_for, ann, ada, settings):
    settings.SUPPRESS_BELOW = 10
    crisis = declared_crisis(ada)
    for _ in range(4):
        household(companions=FAMILY, trips=[trip_payload(stays=[SUVA])])
    section = located(client_for(ann), crisis)
    # 4 registrations and 8 minors are hidden; 16 persons, all travelling, are not.
    assert section["total"] is None and section["total_suppressed"] is True
    assert section["minors"] is None and section["minors_suppressed"] is True
    assert section["persons"] == 16 and section["travelling"] == 16
    (fiji,) = section["by_country"]
    assert fiji["persons"] == 16 and fiji["minors"] is None


def test_a_lone_small_kind_of_people_is_hidden_with_the_next_smallest(client_for, ann, ada, settings):
    settings.SUPPRESS_BELOW = 10
    crisis = declared_crisis(ada)
    for _ in range(3):
        household(companions=FAMILY, trips=[trip_payload(stays=[SUVA])])  # 12 travelling
    household(companions=FAMILY[:1], trips=[], residences=[residence_payload()])  # 2 resident
    section = located(client_for(ann), crisis)
    assert section["persons"] == 14
    # Resident (2) is hidden; 14 - 12 would give it away, so travelling is hidden too.
    assert section["resident"] is None and section["travelling"] is None
    assert section["unconfirmed"] == 0


REASON = "Evacuation flight seats for the families in Suva."


def _reveal(client, crisis, **body):
    return client.post(f"/api/v1/crises/{crisis.pk}/affected/reveal", {"reason": REASON, **body}, format="json")


def _active(ada):
    from crises.services.lifecycle import crisis_transition

    return crisis_transition(crisis=declared_crisis(ada), user=ada, action="activate")


def test_a_reveal_lists_the_companions_on_the_matching_trip_without_birth_date_or_passport(client_for, olivia, ada):
    crisis = _active(ada)
    wife = {**FAMILY[0], "phone": "+64 21 765 4321", "passport_number": "LA765432"}
    household(companions=[wife, FAMILY[1]], trips=[trip_payload(stays=[SUVA])])
    response = _reveal(client_for(olivia), crisis)
    assert response.status_code == 200, response.content
    (record,) = response.json()["travellers"]
    losa, mele = record["companions"]
    assert (losa["given_name"], losa["relation"], losa["phone"]) == ("Losa", "wife", "+64217654321")
    assert mele["age"] == age_on(date(2014, 6, 2), timezone.localdate())
    assert mele["phone"] is None and mele["checkin"] is None
    assert record["disclosure"] == {"tell": "emergency_contact", "relatives": []}
    text = response.content.decode()
    for forbidden in ("1988-02-11", "2014-06-02", "LA765432", "date_of_birth", "passport"):
        assert forbidden not in text


def test_a_reveal_shows_the_matching_residence(client_for, olivia, ada):
    crisis = _active(ada)
    household(companions=[], trips=[], residences=[residence_payload(address="4 Cakobau Road")])
    (record,) = _reveal(client_for(olivia), crisis).json()["travellers"]
    assert record["residences"] == [
        {"country": "FJ", "city": "Suva", "since": "2019-08-01", "until": None, "unconfirmed": False}
    ]
    assert "Cakobau" not in str(record)


def test_the_approval_threshold_counts_persons_not_registrations(client_for, olivia, ada, settings):
    settings.REVEAL_APPROVAL_ABOVE = 3
    crisis = _active(ada)
    household(companions=FAMILY, trips=[trip_payload(stays=[SUVA])])  # one registration, four people
    response = _reveal(client_for(olivia), crisis)
    assert response.status_code == 202
    assert response.json()["status"] == "pending_approval"
