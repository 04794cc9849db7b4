"""The tokens a document is indexed under and the queries made from what people type agree,
as PostgreSQL evaluates them (domain.terms: one tokeniser for both sides)."""

from __future__ import annotations

import unicodedata

import asyncpg
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from registry.domain.terms import document_terms, parse_query, vector_text
from registry.domain.text import fold
from tests.strategies import vietnamese_word

pytestmark = pytest.mark.integration

documents = st.lists(vietnamese_word, min_size=2, max_size=12)


async def _holds(db: asyncpg.Connection, tokens: set[str], query: str | None) -> bool:
    assert query is not None
    return await db.fetchval("SELECT $1::tsvector @@ $2::tsquery", vector_text(tokens), query)


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    words=documents,
    as_typed=st.sampled_from(["same", "folded", "upper", "nfd"]),
)
async def test_any_run_of_a_documents_words_finds_it_however_typed(
    db: asyncpg.Connection, data: st.DataObject, words: list[str], as_typed: str
) -> None:
    start = data.draw(st.integers(0, len(words) - 1))
    end = data.draw(st.integers(start + 1, len(words)))
    run = words[start:end]
    typed = " ".join(run)
    typed = {
        "same": typed,
        "folded": fold(typed),
        "upper": typed.upper(),
        "nfd": unicodedata.normalize("NFD", typed),
    }[as_typed]
    tokens = document_terms([" ".join(words)], [])
    parsed = parse_query(typed)
    assert parsed is not None

    assert await _holds(db, tokens, parsed.match)
    assert await _holds(db, tokens, f'{parse_query(f""""{typed}" """).match}')
    assert await _holds(db, tokens, parsed.title)
    if len(run) > 1:
        assert await _holds(db, tokens, parsed.adjacent)
    # Typed with diacritics (other than case), the words are found as typed.
    if parsed.exact is not None:
        assert as_typed != "folded"
        assert await _holds(db, tokens, parsed.exact)


@settings(max_examples=40, deadline=None)
@given(first=vietnamese_word, second=vietnamese_word, between=vietnamese_word)
async def test_a_phrase_needs_its_words_side_by_side(
    db: asyncpg.Connection, first: str, second: str, between: str
) -> None:
    assume(len({fold(first), fold(second), fold(between)}) == 3)
    apart = document_terms([f"{first} {between} {second}"], [])
    phrase = parse_query(f'"{first} {second}"')
    assert phrase is not None

    assert await _holds(db, apart, parse_query(f"{first} {second}").match)
    assert not await _holds(db, apart, phrase.match)
    assert not await _holds(db, apart, phrase.adjacent)


async def test_words_as_written_rank_only_when_written_so(db: asyncpg.Connection) -> None:
    multi_purpose = document_terms(["Thiết bị đa năng"], ["Sản xuất tại Hà Nội"])
    da_nang = document_terms(["Cảng biển Đà Nẵng"], [])
    query = parse_query("Đà Nẵng")
    assert query is not None

    assert await _holds(db, multi_purpose, query.match)  # folded, đa năng is da nang too
    assert not await _holds(db, multi_purpose, query.exact)
    assert await _holds(db, da_nang, query.exact)
    assert parse_query("da nang").exact is None  # typed without marks: no word to find as typed


async def test_pairs_and_title_marks_stay_within_their_text(db: asyncpg.Connection) -> None:
    tokens = document_terms(["Vật liệu mới", None], ["Hà Nội\nnăm 2026", None])

    assert await _holds(db, tokens, parse_query('"liệu mới"').match)
    assert not await _holds(db, tokens, parse_query('"mới hà"').match)  # title, then body
    assert not await _holds(db, tokens, parse_query('"nội năm"').match)  # two lines
    assert await _holds(db, tokens, parse_query("vật").title)
    assert not await _holds(db, tokens, parse_query("hà").title)


async def test_or_and_negation_keep_their_meaning(db: asyncpg.Connection) -> None:
    rare_earth = document_terms(["Đất hiếm"], ["Tách chiết"])
    quantum = document_terms(["Lượng tử"], [])

    for query, expected in [
        ("đất or lượng", (True, True)),
        ("đất -tách", (False, False)),
        ('đất -"tách chiết"', (False, False)),
        ('đất -"chiết tách"', (True, False)),
        ("-đất", (False, True)),
        ("5G/6G or lượng", (False, True)),
    ]:
        parsed = parse_query(query)
        assert parsed is not None
        found = (
            await _holds(db, rare_earth, parsed.match),
            await _holds(db, quantum, parsed.match),
        )
        assert found == expected, query


def test_a_query_without_words_is_nothing_to_find() -> None:
    assert parse_query("") is None
    assert parse_query(' - or ') is None
    assert parse_query("or or") is None


SMALL_VOCABULARY = ["đất", "dat", "đạt", "hiếm", "hiem", "Đà", "Nẵng", "năng", "da"]


@settings(max_examples=80, deadline=None)
@given(
    title=st.lists(st.sampled_from(SMALL_VOCABULARY), max_size=5),
    body=st.lists(st.sampled_from(SMALL_VOCABULARY), max_size=8),
    typed=st.lists(st.sampled_from([*SMALL_VOCABULARY, '"đất hiếm"', "-da", "or"]), min_size=1),
)
async def test_a_bonus_said_to_imply_the_match_never_holds_without_it(
    db: asyncpg.Connection, title: list[str], body: list[str], typed: list[str]
) -> None:
    parsed = parse_query(" ".join(typed))
    assume(parsed is not None)
    assert parsed is not None
    tokens = document_terms([" ".join(title)], [" ".join(body)])
    bonuses = {"exact": parsed.exact, "adjacent": parsed.adjacent, "title": parsed.title}

    for name in parsed.implies_match:
        if bonuses[name] and await _holds(db, tokens, bonuses[name]):
            assert await _holds(db, tokens, parsed.match), name


def test_which_bonuses_imply_the_match() -> None:
    def implied(query: str) -> set[str]:
        parsed = parse_query(query)
        assert parsed is not None
        return set(parsed.implies_match)

    assert implied("Đà Nẵng") == {"adjacent", "title", "exact"}
    assert implied("dat hiem") == {"adjacent", "title"}
    assert implied("đà nang") == {"adjacent", "title"}  # `nang` typed bare: any fold twin
    assert implied('"lượng tử"') == {"adjacent"}  # the title holds the words, maybe apart
    assert implied("đất or hiếm") == set()
    assert implied("đất -hiếm") == set()
