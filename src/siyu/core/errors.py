"""Errors that services raise and the web and API layers translate.

A service never returns half an answer: it validates first and raises one of
these with the field and the reason, so the API can answer
``{"error": code, "fields": {name: reason}}`` and a page can show the reason
next to the field.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.functional import Promise


class DomainError(Exception):
    """Base class. ``code`` is stable and machine-readable; ``status`` is the HTTP status."""

    code = "error"
    status = 400

    def __init__(
        self,
        message: str | Promise = "",
        *,
        fields: Mapping[str, str | Promise] | None = None,
        code: str | None = None,
    ) -> None:
        self.message = str(message)
        self.fields = {name: str(reason) for name, reason in (fields or {}).items()}
        if code:
            self.code = code
        super().__init__(self.message or self.code)


class InvalidInput(DomainError):
    """The input breaks a business rule (HTTP 422)."""

    code = "invalid"
    status = 422


class NotFound(DomainError):
    """The row does not exist for this merchant (HTTP 404, never 403)."""

    code = "not_found"
    status = 404


class Conflict(DomainError):
    """The change collides with the current state (HTTP 409)."""

    code = "conflict"
    status = 409


class Forbidden(DomainError):
    """The actor's role does not allow this (HTTP 403)."""

    code = "forbidden"
    status = 403
