"""Errors the services raise; the API maps each to one HTTP status."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """Base class: ``message`` is safe to show to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(ServiceError):
    pass


class ForbiddenError(ServiceError):
    pass


class UnauthenticatedError(ServiceError):
    pass


class InvalidError(ServiceError):
    """Bad input; ``field`` names what was wrong (a request field, or a file and line)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ConflictError(ServiceError):
    """A stale write or a clash; ``current`` holds the current state for the client to reconcile."""

    def __init__(self, message: str, current: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.current = current or {}
