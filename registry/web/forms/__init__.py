"""Reading what people send into checked, typed values: query parameters and ids here, posted
forms through `read_form` (one size limit for every field), and a form shown again with its
problems through `form_page`. Each form's own fields have a module: `calls`, `proposals`.

Errors are InvalidInput with English msgids; web/errors.py translates them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie, MultiDict
from litestar.response import Template

from registry.domain.catalogue import Kind
from registry.domain.errors import Conflict, InvalidForm, InvalidInput, NotFound, RegistryError
from registry.domain.search import (
    FACETS,
    MAX_ID,
    MAX_SELECTED,
    SORTS,
    Filters,
    check_query,
    check_sort,
    check_text,
    has_words,
)
from registry.domain.text import whole_number
from registry.web.errors import status_of
from registry.web.i18n import translate

#: Parameters every page accepts besides its own.
COMMON_PARAMETERS = frozenset({"lang"})
SEARCH_PARAMETERS = frozenset({"q", "cursor", "sort", *FACETS}) | COMMON_PARAMETERS
#: /projects: the search of one kind without words.
PROJECT_PARAMETERS = SEARCH_PARAMETERS - {"q", "kind"}
#: Sorts of the list of projects (no words: no relevance).
PROJECT_SORTS = ("newest", "amount")
LIST_PARAMETERS = frozenset({"cursor"}) | COMMON_PARAMETERS
#: The longest text any form field takes (a call's description); longer values are cut here
#: and refused by the field's own limit where it has a shorter one.
FIELD_MAX = 10_000
#: What a form shows next to its fields instead of failing the request.
FORM_PROBLEMS = (InvalidInput, InvalidForm, Conflict)


async def read_form(request: Request, *multi: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Every single-valued field of the posted form (NUL bytes removed, cut at FIELD_MAX),
    and the lists of the fields named in `multi` (checkbox groups)."""
    form = await request.form()
    single = {
        str(name): str(value).replace("\x00", "")[:FIELD_MAX]
        for name, value in form.items()
        if isinstance(value, str) and name not in multi
    }
    lists = {
        name: [str(v).replace("\x00", "")[:FIELD_MAX] for v in form.getall(name, [])]
        for name in multi
    }
    return single, lists


async def read_fields(request: Request, *names: str) -> dict[str, str]:
    """The named fields of the posted form ("" for a missing one)."""
    values, _ = await read_form(request)
    return {name: values.get(name, "") for name in names}


def field_messages(error: RegistryError) -> dict[str, str]:
    """Field name -> translated message ("" for a message about the whole form)."""
    problems = error.problems if isinstance(error, InvalidForm) else [error]
    messages: dict[str, str] = {}
    for problem in problems:
        messages.setdefault(
            getattr(problem, "field", None) or "", translate(problem.message, problem.params)
        )
    return messages


def form_page(
    name: str, *, values: Mapping[str, Any] | None = None, error: RegistryError | None = None,
    status: int = 200, cookies: list[Cookie] | None = None, **context: Any,
) -> Template:  # fmt: skip
    """A form page, with each problem of `error` next to its field and the status it means."""
    if error is not None:
        status = status_of(error)
    return Template(
        template_name=name,
        context={
            "values": dict(values or {}),
            "errors": field_messages(error) if error else {},
            **context,
        },
        status_code=status,
        cookies=cookies or [],
    )


def reject_unknown(params: Mapping[str, str], allowed: frozenset[str]) -> None:
    for name in params:
        if name not in allowed:
            raise InvalidInput(
                "Unknown filter or parameter: %(name)s.",
                field=name,
                name=check_text(name, field="name", max_length=40),
            )


def _whole_number(value: str, field: str, *, low: int, high: int) -> int:
    number = whole_number(value.strip(), low=low, high=high)
    if number is None:
        raise InvalidInput(
            "%(name)s must be a whole number between %(low)s and %(high)s.",
            field=field,
            name=field,
            low=low,
            high=high,
        )
    return number


def search_params(
    params: MultiDict[str],
    *,
    sorts: tuple[str, ...] = SORTS,
    kind: Kind | None = None,
    export: bool = False,
) -> tuple[str, Filters, str, str | None]:
    """(query, filters, sort, cursor) from /search's parameters, or InvalidInput. A facet may
    repeat (`technology=3&technology=5`: either). With `kind`, the list of one kind
    (/projects): no words and no kind to choose. An `export` (CSV) has every match, no page."""
    allowed = PROJECT_PARAMETERS if kind else SEARCH_PARAMETERS
    reject_unknown(params, allowed - {"cursor"} if export else allowed)
    query = check_query(params.get("q", ""))

    def selected(name: str) -> list[str]:
        values = [v for v in params.getall(name, []) if v]
        if len(values) > MAX_SELECTED:
            raise InvalidInput(
                "At most %(limit)s values of %(name)s can be chosen at once.",
                field=name,
                name=name,
                limit=MAX_SELECTED,
            )
        return values

    for value in selected("kind"):
        if value not in set(Kind):
            raise InvalidInput(
                "Unknown kind of item: %(kind)s.",
                field="kind",
                kind=check_text(value, field="kind", max_length=40),
            )
    filters = Filters(
        kind=(kind,) if kind else tuple(Kind(v) for v in selected("kind")),
        technology=tuple(
            _whole_number(v, "technology", low=1, high=MAX_ID) for v in selected("technology")
        ),
        province=tuple(
            check_text(v, field="province", max_length=80) for v in selected("province")
        ),
        fund=tuple(_whole_number(v, "fund", low=1, high=MAX_ID) for v in selected("fund")),
        year=tuple(_whole_number(v, "year", low=1900, high=2100) for v in selected("year")),
    )
    sort = check_sort(params.get("sort") or None, query if has_words(query) else "", sorts)
    return query, filters, sort, cursor_param(params)


def cursor_param(params: Mapping[str, str]) -> str | None:
    cursor = params.get("cursor") or None
    if cursor is not None:
        check_text(cursor, field="cursor", max_length=400)
    return cursor


def list_params(params: Mapping[str, str]) -> str | None:
    reject_unknown(params, LIST_PARAMETERS)
    return cursor_param(params)


def page_params(params: Mapping[str, str]) -> None:
    reject_unknown(params, COMMON_PARAMETERS)


def chosen_id(value: str, *, field: str, message: str) -> int | None:
    """The id picked in a form's select: empty is None; anything but an ASCII whole number in
    PostgreSQL's integer range is `message` at `field`."""
    text = value.strip()
    if not text:
        return None
    number = whole_number(text, low=1, high=MAX_ID)
    if number is None:
        raise InvalidInput(message, field=field)
    return number


def item_id(value: int) -> int:
    """Ids outside PostgreSQL's integer range cannot exist: answer 404, not a driver error."""
    if not 1 <= value <= MAX_ID:
        raise NotFound()
    return value


def open_data_params(params: Mapping[str, str]) -> tuple[int | None, int | None]:
    """The fund and call the open data files are narrowed to, if any."""
    reject_unknown(params, frozenset({"fund", "call"}) | COMMON_PARAMETERS)
    fund, call = params.get("fund") or "", params.get("call") or ""
    return (
        _whole_number(fund, "fund", low=1, high=MAX_ID) if fund else None,
        _whole_number(call, "call", low=1, high=MAX_ID) if call else None,
    )


def audit_params(params: Mapping[str, str]) -> int | None:
    """The event number /audit is asked to look up, if any."""
    reject_unknown(params, frozenset({"seq"}) | COMMON_PARAMETERS)
    seq = (params.get("seq") or "").strip()
    return _whole_number(seq, "seq", low=1, high=2**63 - 1) if seq else None


def row_version(values: Mapping[str, str]) -> int:
    """The version of the object an edit form was filled in from (its hidden field)."""
    number = whole_number(values.get("row_version", "").strip(), low=1, high=MAX_ID)
    if number is None:
        raise InvalidInput("This form is out of date. Reload the page and try again.")
    return number
