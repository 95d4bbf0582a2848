"""Running calls at the same moment, each thread on its own database connection."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connections


def run_together(*calls: Callable[[], Any]) -> tuple[list[Any], list[Exception]]:
    """Start every call at once (a barrier); returns their results and the exceptions raised."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = []
    errors: list[Exception] = []

    def run(call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results.append(call())
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def run_named(**calls: Callable[[], Any]) -> dict[str, Exception]:
    """Run each call in its own thread, named by its keyword (which a patched service can
    check to slow down one side only); returns the exceptions raised, by name."""
    errors: dict[str, Exception] = {}

    def run(name: str, call: Callable[[], Any]) -> None:
        try:
            call()
        except Exception as exc:
            errors[name] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(name, call), name=name) for name, call in calls.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
