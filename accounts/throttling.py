"""Fixed-window rate counters in PostgreSQL, shared by every web process and host."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest

from accounts.models import RateCounter
from consular.crypto import blind_index

_HIT_SQL = """
INSERT INTO accounts_ratecounter AS c (key, window_started, hits) VALUES (%s, now(), 1)
ON CONFLICT (key) DO UPDATE SET
    hits = CASE WHEN c.window_started < now() - make_interval(secs => %s) THEN 1 ELSE c.hits + 1 END,
    window_started = CASE WHEN c.window_started < now() - make_interval(secs => %s)
                          THEN now() ELSE c.window_started END
RETURNING hits
"""

_READ_SQL = """
SELECT hits, GREATEST(0, EXTRACT(EPOCH FROM window_started + make_interval(secs => %s) - now()))::int
FROM accounts_ratecounter
WHERE key = %s AND window_started >= now() - make_interval(secs => %s)
"""


def client_address(request: HttpRequest) -> str:
    return client_address_of(request.META)


def client_address_of(meta: Mapping[str, Any]) -> str:
    """The client's address from a request's META (or a WSGI environment), trusting X-Forwarded-For
    only as far as configured proxies append to it."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return meta.get("REMOTE_ADDR", "")


def counter_key(kind: str, value: str) -> str:
    # Addresses and account identifiers are personal data: key by their HMAC.
    return f"{kind}:{blind_index(value, domain='rate:' + kind)}"


def hit(key: str, *, window_seconds: int) -> int:
    """Count one event in the key's current window; returns the count so far."""
    with connection.cursor() as cursor:
        cursor.execute(_HIT_SQL, [key, window_seconds, window_seconds])
        return cursor.fetchone()[0]


def take(key: str, *, limit: int, window_seconds: int) -> int:
    """Count an attempt, then decide: seconds until the key may try again, 0 if this one may go ahead.

    Counting before the (slow) work and deciding from the count the increment returns
    is what makes the limit hold for attempts running in parallel: checking first and
    counting after let every request in flight through.
    """
    if hit(key, window_seconds=window_seconds) <= limit:
        return 0
    return blocked_for(key, limit=limit, window_seconds=window_seconds) or 1


def give_back(key: str) -> None:
    """Un-count one attempt taken with ``take`` that turned out not to count (a successful login)."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_ratecounter SET hits = GREATEST(hits - 1, 0) WHERE key = %s", [key])


def blocked_for(key: str, *, limit: int, window_seconds: int) -> int:
    """Seconds until the key may try again, or 0 when it is under its limit."""
    with connection.cursor() as cursor:
        cursor.execute(_READ_SQL, [window_seconds, key, window_seconds])
        row = cursor.fetchone()
    if row is None or row[0] < limit:
        return 0
    return max(1, row[1])


def clear(key: str) -> None:
    RateCounter.objects.filter(key=key).delete()


def forget_expired() -> int:
    """Delete counters whose window ended; returns how many. Run hourly (accounts.tasks).

    Each row is keyed by the HMAC of an email or address that once tried: kept
    forever, the table would grow with every address and name ever typed in.
    """
    longest = max(settings.LOGIN_FAILURE_WINDOW_SECONDS, settings.SIGNUP_WINDOW_SECONDS)
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM accounts_ratecounter WHERE window_started < now() - make_interval(secs => %s)", [longest]
        )
        return cursor.rowcount
