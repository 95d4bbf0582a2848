"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from consular.models import WorkerHeartbeat


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _check_database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"ok": True}


def _check_postgis() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT postgis_lib_version()")
        (version,) = cursor.fetchone()
    return {"ok": True, "version": version}


def _check_worker() -> dict[str, Any]:
    latest = WorkerHeartbeat.objects.order_by("-seen_at").values_list("seen_at", flat=True).first()
    max_age = settings.WORKER_HEARTBEAT_MAX_AGE_SECONDS
    if latest is None:
        return {"ok": False, "detail": "no worker heartbeat recorded yet"}
    age = timezone.now() - latest
    if age > timedelta(seconds=max_age):
        return {"ok": False, "detail": f"last heartbeat {int(age.total_seconds())} s ago (limit {max_age} s)"}
    return {"ok": True, "last_seen_seconds": int(age.total_seconds())}


CHECKS = (("database", _check_database), ("postgis", _check_postgis), ("worker", _check_worker))


class NotReadyResponse(JsonResponse):
    # A probe's 503 is a state (a service starting, a worker not there yet), not a
    # failure of the request: the access line records it, and django.request, which
    # would log every probe as an ERROR, skips responses already marked as logged.
    _has_been_logged = True


@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    results: dict[str, Any] = {}
    for name, check in CHECKS:
        try:
            results[name] = check()
        except DatabaseError as exc:
            # The exception's text may quote connection details; its class names the failure.
            results[name] = {"ok": False, "detail": type(exc).__name__}
            if name == "database":
                results.update({later: {"ok": False, "detail": "database unreachable"} for later, _ in CHECKS[1:]})
                break
    failing = [name for name, result in results.items() if not result["ok"]]
    if failing:
        body = {
            "error": {
                "code": "not_ready",
                "message": f"Not ready: {', '.join(failing)}.",
                "fields": {name: [results[name]["detail"]] for name in failing},
            },
            "checks": results,
        }
        return NotReadyResponse(body, status=503)
    return JsonResponse({"status": "ready", "checks": results})
