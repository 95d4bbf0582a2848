"""Factories that build through the services, so test data is stored exactly as real data is."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import factory

from accounts.models import Post, Role, User
from accounts.services import post_upsert, user_create

if TYPE_CHECKING:
    from consular.crypto import Cipher
    from crises.models import Crisis
    from notifications.models import Campaign
    from registrations.models import Stay, Traveller


class PostFactory(factory.Factory[Post]):
    class Meta:
        model = Post

    name = factory.Sequence(lambda n: f"Post {n}")
    countries = factory.LazyFunction(lambda: ["FJ", "TO"])

    @classmethod
    def _create(cls, model_class: type[Post], name: str, countries: list[str]) -> Post:
        return post_upsert(name=name, countries=countries)


class UserFactory(factory.Factory[User]):
    """Accounts without a usable password by default: Argon2 is slow on purpose, most tests never log in.

    Build accounts with ``UserFactory.create(...)``: it is what calling the factory does, and it is typed as a User.
    """

    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    password: str | None = None
    role: str = Role.CITIZEN
    post: Post | factory.SubFactory | None = None  # a post, or a declaration building one (StaffFactory)

    @classmethod
    def _create(
        cls, model_class: type[User], *, email: str, password: str | None, role: str, post: Post | None
    ) -> User:
        return user_create(email=email, password=password, role=role, post=post)


class StaffFactory(UserFactory):
    role = Role.OFFICER
    post = factory.SubFactory(PostFactory)


def profile_payload(**overrides: object) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "given_name": "Ana",
        "family_name": "Tuilagi",
        "date_of_birth": "1990-04-12",
        "nationality": "NZ",
        "passport_number": "LA123456",
        "phone": "+64 21 123 4567",
        "email": "ana@example.test",
        "language": "en",
        "emergency_contact": {"name": "Sione Tuilagi", "phone": "+64 9 377 1234", "relation": "brother"},
        "consent": {"contact": True, "share_with_partners": False},
    }
    payload.update(overrides)
    return payload


def trip_payload(**overrides: object) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "title": "Fiji field visit",
        "start_date": "2026-11-01",
        "end_date": "2026-11-30",
        "stays": [
            {
                "country": "FJ",
                "city": "Suva",
                "location": {"lat": -18.1416, "lon": 178.4419},
                "address": "12 Victoria Parade",
                "start_date": "2026-11-01",
                "end_date": "2026-11-10",
            },
            {"country": "FJ", "city": "Nadi", "start_date": "2026-11-10", "end_date": "2026-11-20"},
            {"country": "TO", "start_date": "2026-11-20", "end_date": "2026-11-30"},
        ],
    }
    payload.update(overrides)
    return payload


def companion_payload(**overrides: object) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "given_name": "Mele",
        "family_name": "Tuilagi",
        "date_of_birth": "2014-06-02",
        "nationality": "NZ",
        "relation": "daughter",
    }
    payload.update(overrides)
    return payload


def residence_payload(**overrides: object) -> dict[str, Any]:
    payload: dict[str, Any] = {"country": "FJ", "city": "Suva", "since": "2019-08-01"}
    payload.update(overrides)
    return payload


def registered_citizen(
    *, email: str | None = None, profile: dict[str, Any] | None = None, trips: list[dict[str, Any]] | None = None
) -> User:
    """A citizen with a profile and trips, written through the services as the API would."""
    from registrations.services.profiles import profile_write
    from registrations.services.trips import trip_create

    user = UserFactory.create(email=email) if email else UserFactory.create()
    profile_write(user=user, data=profile or profile_payload(), partial=False)
    for trip in trips if trips is not None else [trip_payload()]:
        trip_create(user=user, data=trip)
    return user


def household(
    *,
    companions: list[dict[str, Any]],
    trips: list[dict[str, Any]] | None = None,
    residences: list[dict[str, Any]] | None = None,
    profile: dict[str, Any] | None = None,
    email: str | None = None,
) -> tuple[User, list[str]]:
    """A citizen registered with companions, written through the services as the API would.

    Every trip and residence names all the companions unless it says otherwise. Returns the
    citizen and the companions' ids (as text, as the API gives them).
    """
    from registrations.services.companions import companion_create
    from registrations.services.residences import residence_create

    user = registered_citizen(email=email, profile=profile, trips=[])
    ids = [str(companion_create(user=user, data=companion).pk) for companion in companions]
    from registrations.services.trips import trip_create

    for trip in trips if trips is not None else [trip_payload()]:
        trip_create(user=user, data={"companions": ids, **trip})
    for residence in residences or []:
        residence_create(user=user, data={"companions": ids, **residence})
    return user, ids


_travellers = iter(range(10**9))


def traveller_with_stay(
    *,
    lon: float | None = None,
    lat: float | None = None,
    country: str = "FJ",
    start: str = "2026-11-01",
    end: str = "2026-11-30",
    city: str | None = None,
    given_name: str = "Ana",
    consent: bool = True,
    phone: str = "+64 21 123 4567",
) -> Traveller:
    """A registered traveller (no login, as if imported) with one trip and one stay.

    A point gives precision "point"; no point gives "country" (city only as a name).
    """
    from datetime import date

    from consular.models import DataKey
    from registrations.models import Traveller, Trip
    from registrations.services.profiles import apply_profile
    from registrations.validation import validate_profile

    n = next(_travellers)
    data_key, cipher = DataKey.generate()
    data_key.save()
    traveller = Traveller(data_key=data_key)
    profile = profile_payload(
        given_name=given_name,
        passport_number=f"TS{n:08d}",
        email=f"t{n}@example.test",
        phone=phone,
        consent={"contact": consent, "share_with_partners": False},
    )
    apply_profile(traveller, cipher, validate_profile(profile))
    traveller.save()
    Trip.objects.create(traveller=traveller, start_date=date.fromisoformat(start), end_date=date.fromisoformat(end))
    add_stay(traveller, cipher=cipher, country=country, lon=lon, lat=lat, city=city, start=start, end=end)
    return traveller


def add_stay(
    traveller: Traveller,
    *,
    cipher: Cipher | None = None,
    country: str,
    lon: float | None = None,
    lat: float | None = None,
    city: str | None = None,
    start: str = "2026-11-01",
    end: str = "2026-11-30",
    address: str | None = "1 Test Street",
) -> Stay:
    """Another stay on the traveller's (only) trip: a point gives "point", none gives "country"."""
    from datetime import date

    from shapely.geometry import Point

    from consular.crypto import seal
    from registrations.models import Precision, Stay

    if (lon is None) != (lat is None):
        raise ValueError("A stay's point needs both lon and lat, or neither.")
    point = Point(lon, lat) if lon is not None and lat is not None else None
    cipher = cipher or traveller.data_key.cipher()
    stay = Stay(
        trip=traveller.trips.get(),
        traveller=traveller,
        country=country,
        point=point,
        precision=Precision.POINT if point is not None else Precision.COUNTRY,
        start_date=date.fromisoformat(start),
        end_date=date.fromisoformat(end),
    )
    seal(cipher, stay, "city", city)
    seal(cipher, stay, "address", address)
    stay.save()
    return stay


def launched_campaign(user: User, crisis: Crisis, *, message: str = "Are you safe? {checkin_url}",
                      channels: Iterable[str] = ("email",), ask_checkin: bool = True) -> Campaign:  # fmt: skip
    """A campaign launched through the service, as the API would (batches queue on commit)."""
    from notifications.services import campaigns

    request = campaigns.campaign_validate(
        {"messages": {"en": message}, "default_language": "en", "channels": list(channels),
         "ask_checkin": ask_checkin, "include_country_only": False},
        crisis=crisis,
    )  # fmt: skip
    return campaigns.campaign_launch(crisis=crisis, user=user, request=request)


def square(lon0: float, lat0: float, lon1: float, lat1: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]]}


def crisis_payload(**overrides: object) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "title": "Cyclone over Viti Levu",
        "description": "Category 4 cyclone.",
        "severity": "severe",
        "starts_at": "2026-11-10T00:00:00Z",
        "ends_at": None,
        "public": False,
        "area": square(177.0, -19.0, 179.0, -17.0),
    }
    payload.update(overrides)
    return payload


def declared_crisis(user: User, **overrides: object) -> Crisis:
    from crises.services.lifecycle import crisis_declare

    payload = crisis_payload(**overrides)
    return crisis_declare(
        user=user,
        title=payload["title"],
        severity=payload["severity"],
        starts_at=datetime.fromisoformat(payload["starts_at"]),
        ends_at=datetime.fromisoformat(payload["ends_at"]) if payload["ends_at"] else None,
        area=payload["area"],
        public=payload["public"],
    )
