from __future__ import annotations

import functools
import uuid
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import AccessToken, Post, Role, User
from consular.models import AuditEntry
from consular.rows import RowShape, fetch_one


@functools.cache
def _token_shapes() -> tuple[RowShape, RowShape, RowShape, str]:
    token, user, post = RowShape(AccessToken, "t"), RowShape(User, "u"), RowShape(Post, "p")
    sql = f"""
        SELECT {token.columns}, {user.columns}, {post.columns}
        FROM accounts_accesstoken t
        JOIN accounts_user u ON u.id = t.user_id
        LEFT JOIN accounts_post p ON p.id = u.post_id
        WHERE t.key_hash = %s AND t.revoked_at IS NULL AND t.expires_at > %s AND u.is_active
    """  # noqa: S608 - column lists from the models, no outside text
    return token, user, post, sql


def active_token(*, key_hash: str) -> AccessToken | None:
    """The live token with this hash, with its user and the user's post (every request runs this)."""
    token_shape, user_shape, post_shape, sql = _token_shapes()
    row = fetch_one(sql, [key_hash, timezone.now()])
    if row is None:
        return None
    token = token_shape.instance(row)
    user = user_shape.instance(row, token_shape.width)
    post_start = token_shape.width + user_shape.width
    user.post = post_shape.instance(row, post_start) if row[post_start] is not None else None
    token.user = user
    return token


def posts_visible_to(*, user: User) -> QuerySet[Post]:
    """Admins see every post; other staff only their own."""
    if user.role == Role.ADMIN:
        return Post.objects.all()
    if user.post_id is None:
        return Post.objects.none()
    return Post.objects.filter(pk=user.post_id)


def post_for(*, user: User, post_id: uuid.UUID) -> Post | None:
    return posts_visible_to(user=user).filter(pk=post_id).first()


def account_export(*, user: User) -> dict[str, str]:
    """The account's part of its person's export (privacy.services.export)."""
    return {
        "id": str(user.pk),
        "email": user.email,
        "role": user.role,
        "created_at": user.date_joined.isoformat(),
    }


def audit_entries_visible_to(*, user: User, since: datetime | None = None) -> QuerySet[AuditEntry]:
    """Oldest first: admins read every entry, supervisors their own post's; anyone else none."""
    entries = AuditEntry.objects.order_by("id")
    if user.role == Role.SUPERVISOR and user.post_id is not None:
        entries = entries.filter(post_id=user.post_id)
    elif user.role != Role.ADMIN:
        return entries.none()
    return entries if since is None else entries.filter(at__gte=since)
