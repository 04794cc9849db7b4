"""The pages' Jinja environment: the documents' base environment (templates, autoescape,
strict undefined names, gettext, formatting) plus links, search and highlighting."""

from __future__ import annotations

import collections
import functools
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import NamedTuple
from urllib.parse import quote_plus, urlencode

from jinja2 import Environment
from markupsafe import Markup

from registry import formatting
from registry.documents.templates import base_environment
from registry.domain.catalogue import Kind
from registry.domain.search import (
    EXPORT_LIMIT,
    FACETS,
    FacetValue,
    Hit,
    Results,
    default_sort,
    mark_html,
)
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


@functools.lru_cache(maxsize=8192)
def highlighted(text: str, terms: frozenset[str]) -> Markup:
    """Text with the words that matched the query wrapped in <mark>, everything escaped.

    Kept per text and query: a query's first page shows every reader the same titles and
    summaries, and marking them (about 5 µs each, 40 a page) was half the hits' rendering.
    """
    return Markup(mark_html(str(text), terms))  # noqa: S704 (mark_html escapes the text)


def kind_labels() -> Mapping[str, str]:
    """Every kind's label in the current language (made once per language)."""
    return _kind_labels(i18n.current_language())


@functools.cache
def _kind_labels(language: str) -> Mapping[str, str]:
    catalogue = i18n.catalogue(language)
    return MappingProxyType(
        {kind.value: catalogue.gettext(label) for kind, label in KIND_LABELS.items()}
    )


#: The list pages served by the search: a path, and whether it takes words and kinds.
PROJECTS_PATH = "/projects"


def _search_params(results: Results, path: str) -> dict[str, object]:
    """The parameters that give `results` again on `path` (no cursor: the first page)."""
    params: dict[str, object] = {} if path == PROJECTS_PATH else {"q": results.query}
    for name in FACETS:
        if name == "kind" and path == PROJECTS_PATH:
            continue
        values = getattr(results.filters, name)
        params[name] = [v.value if isinstance(v, Kind) else v for v in values]
    if results.sort != default_sort(results.query):
        params["sort"] = results.sort
    return params


def search_url(results: Results, path: str = "/search", **changes: object) -> str:
    """The page at `path` for `results` with some parameters changed (None removes one).

    Changing a filter or the sort starts again from the first page.
    """
    params = _search_params(results, path)
    params.update(changes)
    return query_url(path, **params)


def export_url(results: Results, path: str = "/search") -> str:
    """The CSV of every match of `results` (/search.csv, /projects.csv)."""
    return query_url(f"{path}.csv", **_search_params(results, path))


#: A facet value as a query string writes it, kept: the same provinces, years and ids are
#: linked on every results page, and quote_plus encodes them byte by byte in Python.
_quoted = functools.lru_cache(maxsize=4096)(quote_plus)


class FacetRow(NamedTuple):
    """One facet value's line: its toggle link, label and count, and whether it is chosen."""

    href: str
    label: str
    count: str
    on: bool


class FacetLinks:
    """Links that add a facet value to the current selection or take it out (checkbox-like,
    without JavaScript), and one that clears a facet; each starts again from page one.

    A results page links up to 60 facet values: the other parameters are encoded once per
    facet, not once per link.
    """

    def __init__(self, results: Results, path: str = "/search") -> None:
        params = _search_params(results, path)
        self._path = path
        self._selected: dict[str, list[str]] = {}
        self._others: dict[str, str] = {}
        for name in FACETS:
            chosen = params.get(name)
            self._selected[name] = [str(v) for v in chosen] if isinstance(chosen, list) else []
            others = {k: v for k, v in params.items() if k != name and v not in (None, "", [])}
            self._others[name] = urlencode(others, doseq=True)

    def is_selected(self, name: str, value: object) -> bool:
        return str(value) in self._selected[name]

    def selected(self, name: str) -> list[str]:
        return self._selected[name]

    def toggle(self, name: str, value: object) -> str:
        value = str(value)
        chosen = self._selected[name]
        values = [v for v in chosen if v != value] if value in chosen else [*chosen, value]
        return self._link(name, values)

    def clear(self, name: str) -> str:
        return self._link(name, [])

    def rows(self, name: str, values: Iterable[FacetValue]) -> list[FacetRow]:
        """Each value of facet `name` as its line shows it: built here in one call, where the
        template's four calls a value (of up to 60 a page) cost more than the building."""
        labels = kind_labels() if name == "kind" else None
        return [
            FacetRow(
                href=self.toggle(name, facet.value),
                label=labels[facet.value] if labels else formatting.localized(facet.label),
                count=formatting.number(facet.count),
                on=self.is_selected(name, facet.value),
            )
            for facet in values
        ]

    def _link(self, name: str, values: list[str]) -> str:
        # What urlencode writes for these pairs, without its type checks on every value.
        parts = [self._others[name]] if self._others[name] else []
        parts += (f"{name}={_quoted(v)}" for v in values)
        return f"{self._path}?{'&'.join(parts)}" if parts else self._path


class FacetPanels:
    """The facet panels of recent results pages, each rendered once per language, selection
    and counts (a third of a results page's rendering: some 60 links and counts).

    Kept counts hand every request that reuses them the very same facet tuples
    (services.search keeps them parsed), so a panel is found by those objects' identity,
    held here so that no other object can take their ids, with everything else the panel
    shows: the language, the path, the words, the filters and sort its links carry.
    """

    SIZE = 512

    def __init__(self, env: Environment) -> None:
        self._env = env
        self._panels: collections.OrderedDict[
            tuple[object, ...], tuple[tuple[object, ...], Markup]
        ] = collections.OrderedDict()

    def __call__(self, results: Results, path: str) -> Markup:
        counts = (*results.facets.values(), *results.choices.values())
        key = (
            i18n.current_language(),
            path,
            results.query,
            results.filters,
            results.sort,
            results.is_estimate,
            tuple(results.facets),
            tuple(results.choices),
            *map(id, counts),
        )
        found = self._panels.get(key)
        if found is not None:  # its facet tuples are alive (held below): the ids are theirs
            self._panels.move_to_end(key)
            return found[1]
        template = self._env.get_template("partials/_facets.html")
        panel = Markup(template.render(results=results, path=path))  # noqa: S704 (autoescaped)
        self._panels[key] = (counts, panel)
        if len(self._panels) > self.SIZE:
            self._panels.popitem(last=False)
        return panel


def hit_meta(hit: Hit) -> str:
    """The line under a hit, with the parts it has: who, where, from when, how much
    (`Viện … · Cần Thơ · từ 02/01/2026 · 1.020.000.000 ₫`). One call where the template's
    conditions were a dozen steps a hit."""
    when = formatting.started(hit.starts_on) if hit.starts_on else str(hit.year or "")
    parts = (
        formatting.localized(hit.organisation),
        hit.province or "",
        when,
        formatting.vnd(hit.amount_vnd),
    )
    return " · ".join(part for part in parts if part)


def item_url(kind: Kind | str, item_id: int) -> str:
    return f"/{KIND_PATHS[Kind(kind)]}/{item_id}"


def query_url(path: str, **params: object) -> str:
    """`path` with the given query parameters, leaving out empty ones."""
    kept = {k: v for k, v in params.items() if v not in (None, "", [], ())}
    return f"{path}?{urlencode(kept, doseq=True)}" if kept else path


def build_environment() -> Environment:
    """The documents' base environment, plus what pages need: links, search, highlighting."""
    env = base_environment()
    env.filters.update(highlight=highlighted)
    env.globals.update(
        item_url=item_url,
        query_url=query_url,
        kind_labels=kind_labels,
        search_url=search_url,
        export_url=export_url,
        export_limit=EXPORT_LIMIT,
        default_sort=default_sort,
        facet_links=FacetLinks,
        facet_panel=FacetPanels(env),
        hit_meta=hit_meta,
    )
    return env
