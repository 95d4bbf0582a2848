from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import BaseBackend
from django.http import HttpRequest

from accounts.models import User
from consular.crypto import email_blind_index


class EmailBlindIndexBackend(BaseBackend):
    """Authenticates by email without the email being stored in clear."""

    def authenticate(
        self, request: HttpRequest | None, email: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        if email is None or password is None:
            return None
        user = User.objects.filter(email_bidx=email_blind_index(email)).first()
        if user is None:
            # Spend the same hashing time as a real check, so timing does not
            # reveal whether an address is registered.
            User().set_password(password)
            return None
        if user.check_password(password) and user.is_active:
            return user
        return None

    def get_user(self, user_id: Any) -> User | None:
        return User.objects.filter(pk=user_id, is_active=True).first()
