"""Keeping the vi/en gettext catalogues in step with the code: `registry translations`.

Messages are found in Python (`_`, `gettext_`, `ngettext_`, `N_` and the domain errors people
see) and in templates (`_()`, `ngettext()`); the .po files keep what translators wrote.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from registry.domain import errors
from registry.i18n import LANGUAGES, LOCALE_DIR

ROOT = Path(__file__).resolve().parent.parent.parent


def _error_classes(base: type) -> set[str]:
    found = set()
    for subclass in base.__subclasses__():
        found |= {subclass.__name__} | _error_classes(subclass)
    return found


KEYWORDS = {
    "_": None,
    "gettext_": None,
    "ngettext_": (1, 2),
    "ngettext": (1, 2),
    "N_": None,
    # Every error people see carries an English msgid (its first argument) that web/errors.py
    # translates: all of them, so a new error class can never hide its messages.
    **{name: None for name in _error_classes(errors.RegistryError)},
}
SOURCES = (
    (ROOT / "registry", [("**.py", "python")]),
    (ROOT / "templates", [("**.html", "jinja2.ext:babel_extract")]),
)


def extract() -> Catalog:
    catalog = Catalog(project="registry", charset="utf-8")
    for directory, method_map in SOURCES:
        for filename, lineno, message, comments, _context in extract_from_dir(
            directory,
            method_map,
            keywords=KEYWORDS,
            options_map={"**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}},
        ):
            location = (str((directory / filename).relative_to(ROOT)), lineno)
            catalog.add(message, None, [location], auto_comments=comments)
    return catalog


def catalogue_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"


def read_catalogue(language: str) -> Catalog:
    with catalogue_path(language).open("rb") as po_file:
        return read_po(po_file, locale=language)


def update() -> int:
    """Add new messages to each catalogue, drop ones the code no longer uses.

    Returns the number of untranslated Vietnamese messages (msgids are English, so an empty
    en entry simply shows the msgid).
    """
    template = extract()
    missing = 0
    for language in LANGUAGES:
        catalogue = read_catalogue(language)
        catalogue.update(template, no_fuzzy_matching=True)
        catalogue.obsolete.clear()
        with catalogue_path(language).open("wb") as po_file:
            write_po(po_file, catalogue, omit_header=False, sort_output=True, width=100)
        if language == "vi":
            missing = sum(1 for m in catalogue if m.id and not all(_strings(m)))
    return missing


def _strings(message: object) -> tuple[str, ...]:
    string = message.string  # type: ignore[attr-defined]
    return string if isinstance(string, tuple) else (string,)
