"""The vi/en gettext catalogues, read from the .po files once at start.

Outside the layers: pages translate in the request's language (web/i18n.py), mail in the
recipient's (services/mail.py).
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Mapping
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from registry.domain.errors import N_

__all__ = ["N_", "catalogue", "translate_in"]

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
    """Translate a msgid that may carry %(name)s placeholders."""
    text = catalogue(language).gettext(message)
    return text % dict(params) if params else text
