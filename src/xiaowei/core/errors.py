"""Errors every layer raises; the interfaces turn them into one clear line or an HTTP status."""

from __future__ import annotations


class XiaoweiError(Exception):
    """Base of every error the platform raises on purpose."""


class InvalidInput(XiaoweiError, ValueError):
    """Bad input: names the field so the user knows what to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class InvalidState(XiaoweiError):
    """The operation is not allowed in the object's current state (e.g. repaying a closed loan)."""


class NotFound(XiaoweiError, LookupError):
    """The object asked for does not exist."""


class ConcurrencyConflict(XiaoweiError):
    """Another writer changed the aggregate first (optimistic lock); retry with fresh state."""
