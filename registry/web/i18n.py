"""Language choice (vi first, en second) and gettext catalogues read from .po files at start.

The language of a request is chosen by `?lang=`, then the `lang` cookie, then Accept-Language,
then Vietnamese; it lives in a context variable so templates and error pages can use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar

from registry.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    LOCALE_DIR,
    N_,
    catalogue,
    current_language,
    gettext_,
    ngettext_,
    translate,
    use_language,
)

__all__ = [
    "LANGUAGES",
    "LOCALE_DIR",
    "N_",
    "catalogue",
    "current_language",
    "gettext_",
    "ngettext_",
    "translate",
]
COOKIE = "lang"

_explicit: ContextVar[bool] = ContextVar("language_explicit", default=False)


def choose_language(
    query: Mapping[str, str], cookies: Mapping[str, str], accept_language: str | None
) -> str:
    for candidate in (query.get("lang"), cookies.get(COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        primary = tag.split("-")[0]
        if primary in LANGUAGES:
            return primary
    return DEFAULT_LANGUAGE


def use_request_language(
    query: Mapping[str, str], cookies: Mapping[str, str], accept_language: str | None
) -> None:
    """Pick the request's language; remember whether `?lang=` chose it (to set the cookie)."""
    use_language(choose_language(query, cookies, accept_language))
    _explicit.set(query.get("lang") in LANGUAGES)


def was_chosen_explicitly() -> bool:
    return _explicit.get()
