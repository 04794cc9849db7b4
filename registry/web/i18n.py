"""Language choice (vi first, en second) and gettext catalogues read from .po files at start.

The language of a request is chosen by `?lang=`, then the `lang` cookie, then Accept-Language,
then Vietnamese; it lives in a context variable so templates and error pages can use it.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
COOKIE = "lang"

_current: ContextVar[str] = ContextVar("language", default=DEFAULT_LANGUAGE)
_explicit: ContextVar[bool] = ContextVar("language_explicit", default=False)


def _load(language: str) -> gettext.NullTranslations:
    path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po_file:
        catalog = read_po(po_file, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


_TRANSLATIONS: dict[str, gettext.NullTranslations] = {lang: _load(lang) for lang in LANGUAGES}


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
    _current.set(choose_language(query, cookies, accept_language))
    _explicit.set(query.get("lang") in LANGUAGES)


def was_chosen_explicitly() -> bool:
    return _explicit.get()


def current_language() -> str:
    return _current.get()


def gettext_(message: str) -> str:
    return _TRANSLATIONS[_current.get()].gettext(message)


def ngettext_(singular: str, plural: str, count: int) -> str:
    return _TRANSLATIONS[_current.get()].ngettext(singular, plural, count)


def translate(message: str, params: Mapping[str, object] | None = None) -> str:
    """Translate a msgid that may carry %(name)s placeholders (domain error messages)."""
    text = gettext_(message)
    return text % dict(params) if params else text


def N_(message: str) -> str:
    """Mark a message for the catalogues without translating it yet."""
    return message
