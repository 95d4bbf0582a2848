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
