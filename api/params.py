"""Query parameters the API reads: each given at most once."""

from __future__ import annotations

from typing import Any

from consular.errors import DomainError


def query_value(request: Any, name: str) -> str | None:
    """The parameter's value, None if absent or empty (`?status=`, as filter forms send it); given twice a 400.

    ``?page_size=1&page_size=500`` means one thing to Django (the last) and another to a
    proxy or a log reader that keeps the first, as a JSON body with a key twice does.
    """
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise DomainError("malformed_request", f"The query parameter {name} is given twice.")
    return values[0] if values and values[0] != "" else None
