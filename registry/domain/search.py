"""Search rules that need no database: what a valid query is, cursors, highlighting."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import itertools
import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import NamedTuple

from registry.domain.catalogue import Kind, Localized
from registry.domain.errors import InvalidInput
from registry.domain.terms import parse_query
from registry.domain.text import clean, fold, nfc

MAX_QUERY_LENGTH = 200
#: The largest id: PostgreSQL's integer (int32), the type of every id a cursor or form names.
MAX_ID = 2**31 - 1
PAGE_SIZE = 20
FACETS = ("kind", "technology", "province", "fund", "year")
#: Orders a result can be read in: the ranking rule, the newest first (year), the largest
#: amount first; items with no year or amount come last.
SORTS = ("relevance", "newest", "amount")
#: The most rows a CSV of search results holds (the rest are left out, and it says so).
EXPORT_LIMIT = 10_000
#: The most values one facet may select (a link cannot carry many more anyway).
MAX_SELECTED = 50
_WORD = re.compile(r"\w+")


def check_text(value: str, *, field: str, max_length: int) -> str:
    """NFC, trimmed text without control characters, or InvalidInput naming the field."""
    if any(unicodedata.category(char) == "Cc" and char not in "\t\n\r" for char in value):
        raise InvalidInput("The text contains invisible control characters.", field=field)
    text = clean(value)
    if len(text) > max_length:
        raise InvalidInput(
            "The text is too long: at most %(limit)s characters.", field=field, limit=max_length
        )
    return text


def check_query(value: str) -> str:
    return check_text(value, field="q", max_length=MAX_QUERY_LENGTH)


def has_words(query: str) -> bool:
    return bool(_WORD.search(query))


def default_sort(text: str) -> str:
    """Words are read best match first; browsing without words, newest first."""
    return "relevance" if has_words(text) else "newest"


def check_sort(value: str | None, text: str, allowed: tuple[str, ...] = SORTS) -> str:
    """The sort asked for (the default for `text` when none), or InvalidInput naming it."""
    if not value:
        return default_sort(text) if default_sort(text) in allowed else allowed[0]
    if value not in allowed:
        raise InvalidInput(
            "Unknown sort order: %(sort)s. Choose one of: %(choices)s.",
            field="sort",
            sort=check_text(value, field="sort", max_length=40),
            choices=", ".join(allowed),
        )
    return value


def estimate(value: float) -> int:
    """An estimated count as shown: three significant figures (106,000, not 105,872)."""
    number = round(value)
    return round(number, -max(0, len(str(number)) - 3))


def highlight_terms(query: str) -> frozenset[str]:
    """Folded words of a query worth marking in results (not negated, not operators): the
    positive words the search itself reads out of the query (domain.terms.parse_query)."""
    parsed = parse_query(query)
    return frozenset(parsed.folded_words) if parsed else frozenset()


class Segment(NamedTuple):
    """A run of text, marked when its words matched the query (a tuple: pages build many)."""

    text: str
    is_match: bool


@functools.cache
def _letter_classes() -> dict[str, str]:
    """For each folded letter, a regex class of every precomposed letter that folds to it:
    `d` -> `[DdĎďĐđ…]`, `a` -> `[AaÀÁÂÃ…ặ]`. Stored text is NFC, so one class is one letter."""
    variants: dict[str, set[str]] = {}
    for code in itertools.chain(range(0x41, 0x250), range(0x1E00, 0x1F00)):
        char = chr(code)
        folded = fold(char)
        if len(folded) == 1 and folded.isascii() and folded.isalpha():
            variants.setdefault(folded, {folded}).add(char)
    return {base: "[" + "".join(sorted(chars)) + "]" for base, chars in variants.items()}


@functools.lru_cache(maxsize=1024)
def _match_pattern(terms: frozenset[str]) -> re.Pattern[str]:
    """One regex finding runs of whole words whose folded form is a term, in original text.

    A word may not follow a word character or "#" (mark_html() escapes with numeric entities,
    whose digits must never be taken for a word). That check sits after each term's first
    letter, as a lookbehind over two characters, so the pattern starts with a character class
    and the regex engine can skip ahead to possible first letters: several times faster.
    """
    classes = _letter_classes()

    def letters(term: str) -> list[str]:
        return [classes.get(char, re.escape(char)) for char in term]

    alternation = "|".join(
        first + r"(?<![\w#].)" + "".join(rest)
        for first, *rest in map(letters, sorted(terms, key=len, reverse=True))
    )
    word = rf"(?:{alternation})(?!\w)"
    # Consecutive matched words ("trí tuệ") read better as one mark.
    return re.compile(rf"({word}(?:\s+{word})*)")


def highlight(text: str, terms: frozenset[str]) -> tuple[Segment, ...]:
    """Split `text` into runs, marking the words whose folded form is a query term.

    Works on the original text so what is shown keeps its diacritics; `tri tue` marks `trí tuệ`.
    """
    if not terms:
        return (Segment(text, is_match=False),) if text else ()
    parts = _match_pattern(terms).split(nfc(text))
    # split() with one capturing group alternates: unmatched, matched, unmatched, ...
    return tuple(Segment(part, is_match=index % 2 == 1) for index, part in enumerate(parts) if part)


def escape_html(text: str) -> str:
    """HTML escaping with numeric entities only, so escaping adds no letters next to words."""
    return (
        text.replace("&", "&#38;")
        .replace("<", "&#60;")
        .replace(">", "&#62;")
        .replace('"', "&#34;")
        .replace("'", "&#39;")
    )


def mark_html(text: str, terms: frozenset[str]) -> str:
    """HTML of `text`, escaped, with the runs highlight() marks wrapped in <mark>.

    One regex substitution in C over the escaped text, where a segment-by-segment build cost
    most of a results page; a property test holds it to highlight().
    """
    escaped = escape_html(nfc(text))
    if not terms:
        return escaped
    return _match_pattern(terms).sub(_marked, escaped)


def _marked(match: re.Match[str]) -> str:
    # A function, not the template r"<mark>\1</mark>", which re expands match by match.
    return f"<mark>{match.group(1)}</mark>"


def encode_cursor(*values: int | float | str) -> str:
    """An opaque token for keyset pagination: the sort values of the last item shown."""
    raw = json.dumps(list(values), separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _damaged_cursor() -> InvalidInput:
    return InvalidInput(
        "The page link is damaged or out of date. Start again from page one.", field="cursor"
    )


def decode_cursor(token: str, *types: type) -> tuple[int | float | str, ...]:
    """The values `encode_cursor` packed, checked against `types`; InvalidInput otherwise."""
    error = _damaged_cursor()
    if len(token) > 400:
        raise error
    try:
        values = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise error from None
    if not isinstance(values, list) or len(values) != len(types):
        raise error
    checked: list[int | float | str] = []
    for value, expected in zip(values, types, strict=True):
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not expected:
            raise error
        # Every int a cursor holds is an id, every float a rank: a page link never holds
        # other numbers, and the database would refuse ids past its integer type.
        if (expected is int and not 1 <= value <= MAX_ID) or (
            expected is float and not math.isfinite(value)
        ):
            raise error
        checked.append(value)
    return tuple(checked)


def parse_date_cursor(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _damaged_cursor() from None


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page of search results starts: next to the item (`key`, `id`) in `sort` order,
    after it, or before it when `backward` (a Previous link: the same keyset read in reverse).

    `page` is the number of the page it leads to, carried along only to say which results
    are shown ("21-40 of 1,234"): counting the matches before a keyset would cost a second
    pass over them. `key` is the sort's value of the item: its rank, year or amount (as a
    float: amounts stay exact up to 2**53 đồng).
    """

    sort: str
    backward: bool
    page: int
    key: float
    id: int

    def token(self) -> str:
        direction = "before" if self.backward else "after"
        return encode_cursor(self.sort, direction, self.page, self.key, self.id)

    @classmethod
    def parse(cls, token: str, sort: str) -> Cursor:
        """The cursor a page link holds, for a page in `sort` order; a link made for another
        order (or damaged) is InvalidInput."""
        sort_, direction, page, key, id_ = decode_cursor(token, str, str, int, float, int)
        if sort_ != sort or direction not in ("after", "before"):
            raise _damaged_cursor()
        return cls(str(sort_), direction == "before", int(page), float(key), int(id_))


def _selection(name: str, value: object) -> tuple[object, ...]:
    """A facet's selected values as a tuple without repeats: one value is a selection of one."""
    if value is None:
        return ()
    values = value if isinstance(value, tuple | list | frozenset | set) else (value,)
    if name == "kind":
        values = [Kind(v) for v in values]
    return tuple(dict.fromkeys(values))


@dataclass(frozen=True, slots=True)
class Filters:
    """Selected facet values: any of a facet's values (OR), every facet (AND); an empty tuple
    does not filter. A single value is taken as a selection of one."""

    kind: tuple[Kind, ...] = ()
    technology: tuple[int, ...] = ()
    province: tuple[str, ...] = ()
    fund: tuple[int, ...] = ()
    year: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        for name in FACETS:
            object.__setattr__(self, name, _selection(name, getattr(self, name)))

    def is_empty(self) -> bool:
        return not any(getattr(self, name) for name in FACETS)


@dataclass(frozen=True, slots=True)
class FacetValue:
    value: str
    label: Localized
    count: int


@dataclass(frozen=True, slots=True)
class Hit:
    kind: Kind
    id: int
    title: Localized
    summary: Localized | None
    province: str | None
    year: int | None
    amount_vnd: int | None
    is_demo: bool
    is_exact: bool
    #: A project's organisation and start (None for other kinds).
    organisation: Localized | None = None
    starts_on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Results:
    query: str
    filters: Filters
    hits: tuple[Hit, ...]
    #: Matches counted: exact, or an estimate (see is_estimate).
    total: int
    #: True when `total` and the facet counts are estimated from a sample (about, not exact).
    is_estimate: bool
    facets: dict[str, tuple[FacetValue, ...]]
    next_cursor: str | None
    terms: frozenset[str]
    #: A corrected query when nothing matched and a close spelling exists.
    suggestion: str | None = None
    #: The order of the hits (one of SORTS).
    sort: str = "relevance"
    #: The cursor of the page before; None on the first page.
    previous_cursor: str | None = None
    #: How many matches come before the first hit (20 on page 2).
    offset: int = 0
    #: For each facet with values chosen, its values counted with every filter but its own
    #: (what each would find with the other filters): the values one more can be chosen from.
    #: `facets` counts the matches shown, as always.
    choices: dict[str, tuple[FacetValue, ...]] = field(default_factory=dict)
