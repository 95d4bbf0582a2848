"""The one domain-error type; the API maps it to its error shape in one place."""

from __future__ import annotations


class DomainError(Exception):
    status = 400

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        fields: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields
        self.headers = headers or {}  # sent with the answer (Retry-After on a 429)
        if status is not None:
            self.status = status
