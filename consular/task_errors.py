"""What a failed django-q2 task leaves behind: the type of the error, never its message.

django-q2 stores a failed task's ``str(exception)`` and traceback in its task table
and logs them. Exception messages can quote personal data (a database error quotes
row values; Django's BadHeaderError quotes the header), so every task entry point
is wrapped: the real error is logged through our JSON formatter (type and stack,
no message) and django-q2 only ever sees :class:`TaskFailed` naming the type.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

log = logging.getLogger("consular.tasks")

P = ParamSpec("P")
R = TypeVar("R")


class TaskFailed(Exception):
    """A task failed with an error of this type; the message was left out on purpose."""


def without_error_details(func: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except Exception as error:
            log.error("task %s failed", func.__name__, exc_info=True, extra={"task": func.__name__})
            raise TaskFailed(type(error).__name__) from None

    return wrapper
