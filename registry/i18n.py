"""The vi/en gettext catalogues, read from the .po files once at start, and the language
being spoken now.

Outside the layers: pages speak the request's language (web/i18n.py chooses it), documents the
language they are rendered in (`speaking`), mail the recipient's (`translate_in`).
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from registry.domain.errors import N_

__all__ = [
    "N_",
    "catalogue",
    "current_language",
    "gettext_",
    "ngettext_",
    "speaking",
    "translate",
    "translate_in",
]

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


def _load(language: str) -> gettext.NullTranslations:
    path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po_file:
        catalog = read_po(po_file, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


_TRANSLATIONS: dict[str, gettext.NullTranslations] = {lang: _load(lang) for lang in LANGUAGES}


def catalogue(language: str) -> gettext.NullTranslations:
    return _TRANSLATIONS.get(language, _TRANSLATIONS[DEFAULT_LANGUAGE])


def translate_in(language: str, message: str, params: Mapping[str, object] | None = None) -> str:
    """Translate a msgid that may carry %(name)s placeholders. Decimal parameters (marks,
    weights) are written the language's way: `0,5` in Vietnamese, `0.5` in English."""
    text = catalogue(language).gettext(message)
    if not params:
        return text
    return text % {
        name: format_decimal(value, locale=language) if isinstance(value, Decimal) else value
        for name, value in params.items()
    }


_current: ContextVar[str] = ContextVar("language", default=DEFAULT_LANGUAGE)


def current_language() -> str:
    return _current.get()


def use_language(language: str) -> None:
    """Speak `language` for the rest of this context (a request, a job)."""
    _current.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """Speak `language` inside the block only (rendering a document for someone)."""
    token = _current.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _current.reset(token)


def gettext_(message: str) -> str:
    return catalogue(_current.get()).gettext(message)


def ngettext_(singular: str, plural: str, count: int) -> str:
    return catalogue(_current.get()).ngettext(singular, plural, count)


def translate(message: str, params: Mapping[str, object] | None = None) -> str:
    """Translate a msgid that may carry %(name)s placeholders (domain error messages)."""
    return translate_in(_current.get(), message, params)
