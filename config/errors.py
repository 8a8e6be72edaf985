"""Domain errors raised by the apps' services and access functions (screening, referrals, ...).

Web views and the API map them to responses in one place:
- `NotFound` (and its subclasses) -> 404. It subclasses Django's `Http404`, so a view that lets
  it through gets a 404 for free. "Missing" and "forbidden" raise the same error.
- `ActionNotAllowed` -> 403: the user may see the object but their role may not do this. It
  subclasses Django's `PermissionDenied`.
- `ValidationError` -> 400 with `field_errors`; nothing was saved.
- `ConflictError` -> 409 (stale `expected_version`), `InvalidState` -> 409.
- `SafetyStop`, `ConsentRequired` -> 400/409 with the message shown to the worker.

Messages never contain case data (names, answers): they may end up in logs.
"""

from collections.abc import Iterable, Mapping

from django.core.exceptions import PermissionDenied
from django.http import Http404


class ApplicationError(Exception):
    """Base of every domain error; `message` is safe to show and to log."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ApplicationError, Http404):
    """No such object, or the user may not see it: deliberately the same error."""


class CaseNotFound(NotFound):
    def __init__(self, message: str = "No such case.") -> None:
        super().__init__(message)


class ScreeningNotFound(NotFound):
    def __init__(self, message: str = "No such screening.") -> None:
        super().__init__(message)


class ConsentNotFound(NotFound):
    def __init__(self, message: str = "No such consent.") -> None:
        super().__init__(message)


class ActionNotAllowed(ApplicationError, PermissionDenied):
    """The user can see the case but their role or relation to it does not allow the action."""


class ValidationError(ApplicationError):
    """Bad input. `field_errors` maps each offending field (or answer item key) to messages."""

    def __init__(self, message: str, field_errors: Mapping[str, Iterable[str]] | None = None):
        super().__init__(message)
        self.field_errors: dict[str, list[str]] = {
            field: list(messages) for field, messages in (field_errors or {}).items()
        }

    def __str__(self) -> str:
        if not self.field_errors:
            return self.message
        details = "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in self.field_errors.items()
        )
        return f"{self.message} ({details})"


class ConflictError(ApplicationError):
    """Someone else saved first: the caller's `expected_version` is stale."""

    def __init__(self, message: str, *, current_version: int) -> None:
        super().__init__(message)
        self.current_version = current_version


class InvalidState(ApplicationError):
    """The object is not in a state that allows this (e.g. editing a submitted screening)."""


class ConsentRequired(ApplicationError):
    """No active consent covers what was asked."""


class SafetyStop(ApplicationError):
    """The safety gate says stop: nothing was started or recorded."""
