"""Structured JSON logs that cannot carry what they must not.

A hand-written formatter rather than a JSON-logging library: it emits a fixed
allowlist of attributes, so ``extra=`` objects (a request, a serializer's data)
can never leak into a line, and exception *messages* — which for database errors
quote row values — are replaced by the exception's class; the stack stays.
"""

from __future__ import annotations

import contextvars
import json
import logging
import traceback
from datetime import UTC, datetime
from typing import Any

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

# Fields a caller may attach with ``extra=``; anything else is dropped.
ALLOWED_EXTRA = (
    "method",
    "route",
    "status",
    "duration_ms",
    "event",
    "count",
    "task",
    "check",
)


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


def _safe_stack(exc_info: Any) -> dict[str, Any]:
    exc_type, _, tb = exc_info
    frames = [f"{frame.filename}:{frame.lineno} in {frame.name}" for frame in traceback.extract_tb(tb)]
    return {"type": f"{exc_type.__module__}.{exc_type.__qualname__}", "stack": frames}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": self._message(record),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        for name in ALLOWED_EXTRA:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = _safe_stack(record.exc_info)
        return json.dumps(entry, default=str)

    @staticmethod
    def _message(record: logging.LogRecord) -> str:
        # Django's request logger formats the raw path (ids, check-in tokens) into
        # its message: keep only its fixed template.
        if record.name.startswith(("django.request", "django.server")):
            return f"{getattr(record, 'status_code', 'error')} response"
        # So do Django's security loggers ("Forbidden (CSRF cookie not set.): /checkin/<token>")
        # and gunicorn's warnings and errors ("Error handling request /checkin/<token>?…",
        # "Invalid request from ip=…"): their unformatted template says what happened.
        if record.name.startswith("django.security") or (
            record.name.startswith("gunicorn") and record.levelno >= logging.WARNING
        ):
            message = str(record.msg)
            # gunicorn formats the client's address and the refused request line into
            # this one before logging it: keep only what happened.
            if message.startswith("Invalid request from ip="):
                return "Invalid request refused by gunicorn"
            return message
        return record.getMessage()
