"""The one Jinja environment: autoescape on, undefined names are errors, gettext installed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote_plus, urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from registry.domain.catalogue import Kind
from registry.domain.search import FACETS, Results, mark_html
from registry.web import formatting, i18n
from registry.web.i18n import N_

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"

#: URL segment of each kind's list and detail pages.
KIND_PATHS = {
    Kind.TECHNOLOGY: "technologies",
    Kind.LABORATORY: "laboratories",
    Kind.EXCHANGE: "exchanges",
    Kind.FUND: "funds",
    Kind.ZONE: "zones",
    Kind.PROJECT: "projects",
}


KIND_LABELS = {
    Kind.TECHNOLOGY: N_("Technology"),
    Kind.LABORATORY: N_("Key laboratory"),
    Kind.EXCHANGE: N_("Technology exchange"),
    Kind.FUND: N_("Fund"),
    Kind.ZONE: N_("High-tech zone"),
    Kind.PROJECT: N_("Project"),
}


def highlighted(text: str, terms: frozenset[str]) -> Markup:
    """Text with the words that matched the query wrapped in <mark>, everything escaped."""
    return Markup(mark_html(str(text), terms))  # noqa: S704 (mark_html escapes the text)


def kind_labels() -> dict[str, str]:
    """Every kind's label in the current language, looked up once per page."""
    return {kind.value: i18n.gettext_(label) for kind, label in KIND_LABELS.items()}


def _search_params(results: Results) -> dict[str, object]:
    params: dict[str, object] = {"q": results.query}
    for name in FACETS:
        value = getattr(results.filters, name)
        params[name] = value.value if isinstance(value, Kind) else value
    return params


def search_url(results: Results, **changes: object) -> str:
    """The search page for `results` with some parameters changed (None removes one).

    Changing a filter starts again from the first page.
    """
    params = _search_params(results)
    params.update(changes)
    return query_url("/search", **params)


def facet_urls(results: Results) -> dict[str, str]:
    """Per facet, the search URL with that facet left out, ready for `&name=value`: a results
    page links up to 60 facet values, and each would otherwise re-encode every parameter."""
    params = _search_params(results)
    bases = {}
    for name in FACETS:
        others = {k: v for k, v in params.items() if k != name and v not in (None, "")}
        bases[name] = "/search?" + urlencode(others) + ("&" if others else "")
    return bases


def item_url(kind: Kind | str, item_id: int) -> str:
    return f"/{KIND_PATHS[Kind(kind)]}/{item_id}"


def query_url(path: str, **params: object) -> str:
    """`path` with the given query parameters, leaving out empty ones."""
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{path}?{urlencode(kept)}" if kept else path


def _names(msgids: dict[str, str]) -> Callable[[str], str]:
    """A function naming each code (an enum value) in the reader's language."""

    def name(code: str) -> str:
        return i18n.gettext_(msgids[str(code)])

    return name


role_name = _names(
    {
        "applicant": N_("Applicant"),
        "reviewer": N_("Expert reviewer"),
        "fund_manager": N_("Fund manager"),
        "admin": N_("Administrator"),
    }
)
attachment_kind_name = _names(
    {
        "description": N_("Project description"),
        "cvs": N_("CVs of the team"),
        "budget_justification": N_("Budget justification"),
        "endorsement": N_("Endorsement of the host organisation"),
        "other": N_("Other document"),
    }
)
budget_category_name = _names(
    {
        "personnel": N_("Personnel"),
        "equipment": N_("Equipment"),
        "materials": N_("Materials and supplies"),
        "travel": N_("Travel and conferences"),
        "subcontracting": N_("Subcontracting"),
        "other": N_("Other costs"),
    }
)


def build_environment() -> Environment:
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
    env.filters.update(
        vnd=formatting.vnd,
        vnd_compact=formatting.vnd_compact,
        number=formatting.number,
        date=formatting.date,
        local_datetime=formatting.local_datetime,
        l10n=formatting.localized,
        highlight=highlighted,
    )
    env.globals.update(
        item_url=item_url,
        query_url=query_url,
        current_language=i18n.current_language,
        kind_labels=kind_labels,
        search_url=search_url,
        facet_urls=facet_urls,
        quote_value=quote_plus,
        role_name=role_name,
        attachment_kind_name=attachment_kind_name,
        budget_category_name=budget_category_name,
    )
    return env
