"""Object look-ups shared by the API's views: through the caller's selector, so another
post's or person's id is a 404 by construction."""

from __future__ import annotations

import uuid

from rest_framework.exceptions import NotFound

from accounts.models import User
from crises import selectors as crisis_selectors
from crises.models import Crisis


def crisis_or_404(*, user: User, crisis_id: uuid.UUID) -> Crisis:
    crisis = crisis_selectors.crisis_for(user=user, crisis_id=crisis_id)
    if crisis is None:
        raise NotFound()
    return crisis
