"""manage.py place_city_stays_again: stays stored before the gazetteer stopped guessing between far-apart cities."""

import io

from django.core.management import call_command
from shapely.geometry import Point

from registrations.models import Stay
from tests.factories import registered_citizen, trip_payload

OREGON = Point(-122.676, 45.523)  # where "US, Portland" used to be placed


def registered_with_stays(*stays):
    return registered_citizen(trips=[trip_payload(start_date="2026-11-01", end_date="2026-11-30", stays=list(stays))])


def stay(country, city=None, location=None):
    body = {"country": country, "start_date": "2026-11-01", "end_date": "2026-11-02"}
    if city:
        body["city"] = city
    if location:
        body["location"] = location
    return body


def point_wkt(stay: Stay) -> str:
    assert stay.point is not None, f"stay {stay.id} has no point"
    return stay.point.wkt


def place_again():
    out, err = io.StringIO(), io.StringIO()
    call_command("place_city_stays_again", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_stay_placed_by_an_ambiguous_name_before_goes_to_country_precision():
    registered_with_stays(stay("US", "Portland"))
    Stay.objects.update(precision="city", point=OREGON)  # as the gazetteer stored it before the change
    out, _ = place_again()
    assert "stays now at country precision (ambiguous or unknown name): 1" in out
    (portland,) = Stay.objects.all()
    assert (portland.precision, portland.point) == ("country", None)


def test_a_stay_placed_at_another_citys_alternate_name_moves_to_its_own_city():
    registered_with_stays(stay("BR", "Rocinha"))
    rocinha = Stay.objects.get().point
    Stay.objects.update(point=Point(-46.98, -23.03))  # Vinhedo, whose alternate name it matched before
    out, _ = place_again()
    assert "stays placed at another city: 1" in out
    moved = Stay.objects.get().point
    assert moved is not None
    assert moved.equals(rocinha)


def test_stays_already_right_and_stays_with_their_own_point_are_left_alone():
    registered_with_stays(stay("FJ", "Suva"), stay("US", "Portland", location={"lat": 43.66, "lon": -70.26}))
    before = {s.id: (s.precision, point_wkt(s)) for s in Stay.objects.all()}
    out, _ = place_again()
    assert "placed at another city: 0; stays now at country precision (ambiguous or unknown name): 0" in out
    assert {s.id: (s.precision, point_wkt(s)) for s in Stay.objects.all()} == before


def test_a_stay_whose_city_does_not_decrypt_is_listed_by_id_and_left_unchanged():
    registered_with_stays(stay("US", "Portland"))
    Stay.objects.update(precision="city", point=OREGON)
    broken = Stay.objects.get()
    assert broken.city_enc is not None
    sealed = bytes(broken.city_enc)
    Stay.objects.update(city_enc=sealed[:-1] + bytes([sealed[-1] ^ 1]))  # one bit of the tag flipped
    _, err = place_again()
    assert err.strip() == f"stay {broken.id}: city does not decrypt; left unchanged"
    assert Stay.objects.get().precision == "city"
