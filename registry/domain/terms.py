"""The words search matches on, for documents and queries alike, as tsvector/tsquery text.

One tokeniser on both sides (word runs of the NFC, lower-cased text), so a query always names
the tokens a document was indexed under. A document's tokens, without positions:

- every word folded (`đất` -> `dat`): what matching is on, diacritics ignored;
- every two adjacent words folded (`dat hiem`): a phrase or a two-syllable word (most
  Vietnamese words) is one posting list, not the intersection of two long ones;
- every title word folded behind `^` (`^dat`): the title bonus;
- every word as written, lower case, where that differs from its fold (`đất`): the bonus for
  words typed with their diacritics, so `Đà Nẵng` ranks above `đa năng`;
- one sample token `#N`, N = the entry's id mod 64, for estimating counts.

Marks (`^`, a space) are never part of a word, so no token of one kind can be another's.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from registry.domain.text import fold, nfc

#: Word characters and combining marks: a mark with no precomposed letter (`s̃`) stays in NFC
#: as a letter and its mark, and must not split the word it sits in.
_WORD = re.compile("[\\w\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
#: Longer runs are not words people search for (hashes, base64, URLs run together).
MAX_WORD = 60


def words(text: str) -> list[str]:
    """The words of `text`, lower case and NFC, as written."""
    return [w for w in _WORD.findall(nfc(text).lower()) if len(w) <= MAX_WORD]


#: Folding word by word, cached: a language has few distinct words, and loads fold millions.
_fold_word = functools.lru_cache(maxsize=200_000)(fold)


def _pairs(folded: list[str]) -> Iterator[str]:
    return (f"{a} {b}" for a, b in itertools.pairwise(folded))


def document_terms(titles: Iterable[str | None], body: Iterable[str | None]) -> set[str]:
    """Every token a document is found by (see the module's docstring).

    Pairs are made within each title and each line of the body, never across them.
    """
    terms: set[str] = set()
    for is_title, texts in ((True, titles), (False, body)):
        for text in texts:
            for line in (text or "").splitlines():
                written = words(line)
                folded = list(map(_fold_word, written))
                terms.update(written)  # a word written as its fold is one token
                terms.update(folded)
                terms.update(_pairs(folded))
                if is_title:
                    terms.update(["^" + f for f in folded])
    return terms


def quote(token: str) -> str:
    """A token as tsvector/tsquery text. Tokens are made of word characters, spaces and marks,
    never quotes or backslashes, so quoting needs no escapes."""
    return f"'{token}'"


def vector_text(terms: Iterable[str]) -> str:
    """tsvector input text of `terms` (PostgreSQL sorts and deduplicates them)."""
    return " ".join(map(quote, terms))


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    """A query as tsquery texts over document_terms(): `match` finds; the others are the
    ranking bonuses (None when they would add nothing)."""

    #: The query's boolean form (words AND, `or`, `-word`, `"a phrase"`) over folded tokens.
    match: str
    #: The positive words typed with diacritics, each as written.
    exact: str | None
    #: The positive words side by side in the order typed (two or more words).
    adjacent: str | None
    #: The positive words all in the title.
    title: str
    #: Positive words folded, in order (highlighting, suggestions).
    folded_words: tuple[str, ...]
    #: The bonuses whose tokens imply `match` (a document holding them matches): a search
    #: leaves `match` out of a tier that requires one, and the GIN index then skips the
    #: posting lists of the query's common words (`da`, `nang`: half the catalogue each).
    implies_match: frozenset[str] = frozenset()


def _and(tokens: Iterable[str]) -> str | None:
    unique = list(dict.fromkeys(tokens))
    return " & ".join(quote(t) for t in unique) if unique else None


_CHUNK = re.compile(r'(-?)"([^"]*)"?|(\S+)')


#: Cached: a search reads its query for the page, for each facet's choices and for highlighting.
@functools.lru_cache(maxsize=1024)
def parse_query(query: str) -> ParsedQuery | None:
    """`query` in websearch syntax as tsquery texts, or None when it has no word to find.

    Words are ANDed; `or` between them is OR (AND binds tighter); a leading `-` negates a word
    or a quoted phrase; a quoted phrase, or a word with punctuation inside (`5G/6G`), must
    appear as adjacent words, which is every adjacent pair of it present.
    """
    disjuncts: list[list[str]] = [[]]
    positive: list[str] = []
    negated_any = phrases = False
    for negated, phrase, bare in _CHUNK.findall(query):
        text = phrase if phrase or not bare else bare
        if bare and bare.lower() == "or":
            if disjuncts[-1]:
                disjuncts.append([])
            continue
        if bare.startswith("-") and not phrase:
            negated, text = "-", bare[1:]
        written = words(text)
        if not written:
            continue
        folded = [fold(w) for w in written]
        condition = _and(_pairs(folded)) if len(folded) > 1 else quote(folded[0])
        if negated:
            disjuncts[-1].append(f"!({condition})")
            negated_any = True
        else:
            disjuncts[-1].append(f"({condition})")
            positive.extend(written)
            phrases = phrases or len(folded) > 1
    clauses = [" & ".join(items) for items in disjuncts if items]
    if not clauses:
        return None
    folded_words = tuple(fold(w) for w in positive)
    # Every token of a word (as written, behind `^`, in a pair) comes with its fold, so in a
    # query of words ANDed, the pairs imply every word and phrase; title words every word, if
    # no phrase; words as written every word, if all were typed with diacritics.
    implied = set()
    if len(clauses) == 1 and not negated_any:
        implied.add("adjacent")
        if not phrases:
            implied.add("title")
            if all(w != fold(w) for w in positive):
                implied.add("exact")
    return ParsedQuery(
        match=" | ".join(f"({c})" for c in clauses),
        exact=_and(w for w in positive if w != fold(w)),
        adjacent=_and(_pairs(list(folded_words))) if len(folded_words) > 1 else None,
        title=_and("^" + f for f in folded_words) or "",
        folded_words=folded_words,
        implies_match=frozenset(implied),
    )
