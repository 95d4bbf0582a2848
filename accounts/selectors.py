from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import AccessToken, Post, Role, User


def active_token(*, key_hash: str) -> AccessToken | None:
    return (
        AccessToken.objects.select_related("user", "user__post")
        .filter(key_hash=key_hash, revoked_at__isnull=True, expires_at__gt=timezone.now(), user__is_active=True)
        .first()
    )


def posts_visible_to(*, user: User) -> QuerySet[Post]:
    """Admins see every post; other staff only their own."""
    if user.role == Role.ADMIN:
        return Post.objects.all()
    if user.post_id is None:
        return Post.objects.none()
    return Post.objects.filter(pk=user.post_id)


def post_for(*, user: User, post_id: uuid.UUID) -> Post | None:
    return posts_visible_to(user=user).filter(pk=post_id).first()
