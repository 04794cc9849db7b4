"""The pages' Jinja environment: the documents' base environment (templates, autoescape,
strict undefined names, gettext, formatting) plus links, search and highlighting."""

from __future__ import annotations

from urllib.parse import quote_plus, urlencode

from jinja2 import Environment
from markupsafe import Markup

from registry.documents.templates import base_environment
from registry.domain.catalogue import Kind
from registry.domain.search import FACETS, Results, mark_html
from registry.web import i18n
from registry.web.i18n import N_

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


def build_environment() -> Environment:
    """The documents' base environment, plus what pages need: links, search, highlighting."""
    env = base_environment()
    env.filters.update(highlight=highlighted)
    env.globals.update(
        item_url=item_url,
        query_url=query_url,
        kind_labels=kind_labels,
        search_url=search_url,
        facet_urls=facet_urls,
        quote_value=quote_plus,
    )
    return env
