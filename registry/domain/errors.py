"""Errors services raise; web/errors.py is the one place that turns them into HTTP answers.

Messages are English msgids: the web layer translates them (vi/en) before showing them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def N_(message: str) -> str:
    """Mark a message for the catalogues without translating it (the caller's layer does)."""
    return message


class RegistryError(Exception):
    """Base of every error the application expects and explains to people."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


#: The one answer for anything missing or not the caller's to see: existence is not revealed.
NOT_FOUND = "Nothing is published at this address."


class NotFound(RegistryError):
    """The object does not exist (or the caller may not know that it does)."""

    def __init__(self, message: str = NOT_FOUND, **params: object) -> None:
        super().__init__(message, **params)


class InvalidInput(RegistryError):
    """A parameter or field a person sent cannot be used; the message says why."""

    def __init__(self, message: str, *, field: str | None = None, **params: object) -> None:
        super().__init__(message, **params)
        self.field = field


class InvalidReferenceData(RegistryError):
    """A fixture file breaks a rule (unknown code, bad identifier...)."""


class Unavailable(RegistryError):
    """A dependency (the database) cannot answer right now."""


class InvalidForm(RegistryError):
    """Several fields of one form are wrong at once; each problem names its field."""

    def __init__(self, problems: list[InvalidInput]) -> None:
        super().__init__(problems[0].message, **problems[0].params)
        self.problems = problems


class Problems:
    """Collects every field's problem while a form is read, so it shows them all at once."""

    def __init__(self) -> None:
        self.found: list[InvalidInput] = []

    def read(self, parse: Callable[[], T], default: T | None = None) -> T | None:
        """`parse()`, or `default` with its problem noted."""
        try:
            return parse()
        except InvalidInput as problem:
            self.found.append(problem)
            return default

    def add(self, problem: InvalidInput | None) -> None:
        if problem is not None:
            self.found.append(problem)

    def raise_any(self) -> None:
        if self.found:
            raise InvalidForm(self.found)


class Conflict(RegistryError):
    """The action clashes with the current state (already verified, token used...)."""


class StaleEdit(Conflict):
    """The form was filled in from a version that has since changed (another tab, another
    person): saving it would silently overwrite that change."""


class ConflictOfInterestFound(Conflict):
    """Assigning this reviewer to this proposal would break a conflict-of-interest rule (409).
    `reasons` are (msgid, params) pairs, one per rule broken, for the page to list."""

    def __init__(
        self,
        message: str,
        *,
        reasons: tuple[tuple[str, dict[str, object]], ...] = (),
        **params: object,
    ) -> None:
        super().__init__(message, **params)
        self.reasons = reasons


class NotAllowed(RegistryError):
    """The caller is known but may not do this (shown as 403, never for object lookups)."""


class TooManyAttempts(RegistryError):
    """Throttled: too many failed attempts; try again later."""
