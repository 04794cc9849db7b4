"""Search rules that need no database: what a valid query is, cursors, highlighting."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import json
import re
import unicodedata
from dataclasses import dataclass

from registry.domain.catalogue import Kind, Localized
from registry.domain.errors import InvalidInput
from registry.domain.text import clean, fold

MAX_QUERY_LENGTH = 200
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


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    is_match: bool


@functools.lru_cache(maxsize=65536)
def _fold_word(word: str) -> str:
    return fold(word)


def highlight(text: str, terms: frozenset[str]) -> tuple[Segment, ...]:
    """Split `text` into runs, marking the words whose folded form is a query term.

    Works on the original text so what is shown keeps its diacritics; `tri tue` marks `trí tuệ`.
    """
    if not terms or not any(term in fold(text) for term in terms):
        # Most summaries hold no term at all: one fold of the whole text settles it.
        return (Segment(text, is_match=False),) if text else ()
    segments: list[Segment] = []
    position = 0
    for match in _WORD.finditer(text):
        if _fold_word(match.group()) in terms:
            gap = text[position : match.start()]
            if segments and segments[-1].is_match and not gap.strip():
                # Consecutive matched words ("trí tuệ") read better as one mark.
                segments[-1] = Segment(segments[-1].text + gap + match.group(), is_match=True)
            else:
                if gap:
                    segments.append(Segment(gap, is_match=False))
                segments.append(Segment(match.group(), is_match=True))
            position = match.end()
    if position < len(text):
        segments.append(Segment(text[position:], is_match=False))
    return tuple(segments)


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
    #: Matches counted, at most the candidate cap.
    total: int
    #: True when more items matched than were ranked: `total` is then a lower bound.
    is_capped: bool
    facets: dict[str, tuple[FacetValue, ...]]
    next_cursor: str | None
    terms: frozenset[str]
    #: A corrected query when nothing matched and a close spelling exists.
    suggestion: str | None = None
