"""Domain refusals raised by services; views turn them into form errors, the API into JSON."""
from __future__ import annotations


class DomainError(Exception):
    """A rule refused the request. `field` names the input at fault, when there is one."""

    status = 422

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class Invalid(DomainError):
    status = 422


class Conflict(DomainError):
    status = 409


class Forbidden(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404
