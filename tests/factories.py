"""Factories that build through the services, so test data is stored exactly as real data is."""

from __future__ import annotations

import factory

from accounts.models import Post, Role, User
from accounts.services import post_upsert, user_create


class PostFactory(factory.Factory):
    class Meta:
        model = Post

    name = factory.Sequence(lambda n: f"Post {n}")
    countries = factory.LazyFunction(lambda: ["FJ", "TO"])

    @classmethod
    def _create(cls, model_class: type[Post], name: str, countries: list[str]) -> Post:
        return post_upsert(name=name, countries=countries)


class UserFactory(factory.Factory):
    """Accounts without a usable password by default: Argon2 is slow on purpose, most tests never log in."""

    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    password = None
    role = Role.CITIZEN
    post = None

    @classmethod
    def _create(cls, model_class: type[User], **kwargs: object) -> User:
        return user_create(**kwargs)


class StaffFactory(UserFactory):
    role = Role.OFFICER
    post = factory.SubFactory(PostFactory)


def profile_payload(**overrides: object) -> dict:
    payload = {
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


def trip_payload(**overrides: object) -> dict:
    payload = {
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


def registered_citizen(
    *, email: str | None = None, profile: dict | None = None, trips: list[dict] | None = None
) -> User:
    """A citizen with a profile and trips, written through the services as the API would."""
    from registrations.services import profile_write, trip_create

    user = UserFactory(**({"email": email} if email else {}))
    profile_write(user=user, data=profile or profile_payload(), partial=False)
    for trip in trips if trips is not None else [trip_payload()]:
        trip_create(user=user, data=trip)
    return user
