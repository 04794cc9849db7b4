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
from dataclasses import dataclass
from typing import NamedTuple

from registry.domain.catalogue import Kind, Localized
from registry.domain.errors import InvalidInput
from registry.domain.text import clean, fold, nfc

MAX_QUERY_LENGTH = 200
#: The largest id: PostgreSQL's integer (int32), the type of every id a cursor or form names.
MAX_ID = 2**31 - 1
PAGE_SIZE = 20
FACETS = ("kind", "technology", "province", "fund", "year")
#: Words websearch_to_tsquery treats as operators, not as text to find.
_OPERATOR_WORDS = {"or"}
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


def query_kind(text: str) -> str:
    """Which search statement a query needs: no words (browse filters), one word, or several."""
    words = len(_WORD.findall(text))
    return "browse" if not words else "one" if words == 1 else "many"


def estimate(value: float) -> int:
    """An estimated count as shown: three significant figures (106,000, not 105,872)."""
    number = round(value)
    return round(number, -max(0, len(str(number)) - 3))


def highlight_terms(query: str) -> frozenset[str]:
    """Folded words of a query worth marking in results (not negated, not operators)."""
    terms: set[str] = set()
    for token in query.replace('"', " ").split():
        if token.startswith("-"):
            continue
        for word in _WORD.findall(fold(token)):
            if word not in _OPERATOR_WORDS:
                terms.add(word)
    return frozenset(terms)


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
    return _match_pattern(terms).sub(r"<mark>\1</mark>", escaped)


def encode_cursor(*values: int | float | str) -> str:
    """An opaque token for keyset pagination: the sort values of the last item shown."""
    raw = json.dumps(list(values), separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str, *types: type) -> tuple[int | float | str, ...]:
    """The values `encode_cursor` packed, checked against `types`; InvalidInput otherwise."""
    error = InvalidInput(
        "The page link is damaged or out of date. Start again from page one.", field="cursor"
    )
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
        raise InvalidInput(
            "The page link is damaged or out of date. Start again from page one.", field="cursor"
        ) from None


@dataclass(frozen=True, slots=True)
class Filters:
    kind: Kind | None = None
    technology: int | None = None
    province: str | None = None
    fund: int | None = None
    year: int | None = None

    def is_empty(self) -> bool:
        return all(
            value is None
            for value in (self.kind, self.technology, self.province, self.fund, self.year)
        )


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
