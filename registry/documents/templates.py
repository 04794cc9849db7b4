"""The Jinja environment every page and document starts from: the templates folder,
autoescape, strict undefined names, gettext in the language being spoken, and the formatting
filters. The web layer adds its own globals (links, search) on top (web/templating.py)."""

from __future__ import annotations

from functools import cache, lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from registry import formatting, i18n
from registry.domain.scoring import format_mark, format_weight

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"


def _translated(message: str, **variables: object) -> Markup:
    """`_()` in templates, as Jinja's new-style gettext has it in an autoescaped template (the
    translation is markup; the values filling its %(name)s are escaped), in one call where
    Jinja's alias makes three through the template context (a results page says 50 things)."""
    if not variables:
        return _markup(i18n.current_language(), message)
    return Markup(i18n.gettext_(message)) % variables  # noqa: S704 (our own catalogues)


@lru_cache(maxsize=4096)
def _markup(language: str, message: str) -> Markup:
    """A message without placeholders as markup, kept: the same few dozen are said by every
    page (the header, the footer, the forms' labels). Formatted all the same, as Jinja's
    gettext formats every message: a literal percent sign is written `%%` ("3%% of")."""
    return Markup(i18n.catalogue(language).gettext(message)) % {}  # noqa: S704 (our catalogues)


def base_environment() -> Environment:
    """A new environment (the web layer extends its own)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(("html", "svg", "xml")),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.install_gettext_callables(i18n.gettext_, i18n.ngettext_, newstyle=True)  # type: ignore[attr-defined]
    env.globals["_"] = _translated
    env.filters.update(
        vnd=formatting.vnd,
        vnd_compact=formatting.vnd_compact,
        number=formatting.number,
        date=formatting.date,
        local_datetime=formatting.local_datetime,
        l10n=formatting.localized,
    )
    env.globals.update(
        current_language=i18n.current_language,
        role_name=formatting.role_name,
        attachment_kind_name=formatting.attachment_kind_name,
        budget_category_name=formatting.budget_category_name,
        draft_field_name=formatting.draft_field_name,
        form_field_name=formatting.form_field_name,
        row_column_name=formatting.row_column_name,
        format_mark=format_mark,
        format_weight=format_weight,
        format_permille=formatting.percent,
        shown_mark=formatting.mark,
        shown_weight=formatting.weight,
        limits=formatting.LIMITS,
    )
    return env


@cache
def environment() -> Environment:
    """The documents' own environment, built once."""
    return base_environment()
