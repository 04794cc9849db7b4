import html
import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.domain.catalogue import Kind
from registry.domain.errors import InvalidInput
from registry.domain.search import (
    MAX_ID,
    SORTS,
    Cursor,
    Filters,
    check_query,
    check_sort,
    decode_cursor,
    encode_cursor,
    escape_html,
    highlight,
    highlight_terms,
    mark_html,
)
from registry.domain.text import fold
from tests.strategies import vietnamese_text, vietnamese_word

pytestmark = pytest.mark.unit


@given(vietnamese_text, st.lists(vietnamese_word, max_size=3))
def test_highlighting_keeps_the_text_and_marks_exactly_the_query_words(text, query_words):
    terms = highlight_terms(" ".join(query_words))

    segments = highlight(text, terms)

    assert "".join(segment.text for segment in segments) == text
    for segment in segments:
        words = [fold(word) for word in re.findall(r"\w+", segment.text)]
        if segment.is_match:
            assert all(word in terms for word in words)
        else:
            assert not any(word in terms for word in words)


def test_highlighting_marks_diacritic_text_for_a_plain_query():
    segments = highlight("Ứng dụng trí tuệ nhân tạo", highlight_terms("tri tue"))
    assert [s.text for s in segments if s.is_match] == ["trí tuệ"]


def test_negated_words_and_operators_are_not_highlighted():
    assert highlight_terms('"dữ liệu" or -blockchain') == frozenset({"du", "lieu"})


def test_queries_are_stored_nfc_and_trimmed():
    decomposed = unicodedata.normalize("NFD", "  trí   tuệ ")
    assert check_query(decomposed) == "trí tuệ"


@pytest.mark.parametrize("bad", ["a" * 201, "ai\x00", "x\x1b[31m"])
def test_overlong_or_control_character_queries_are_refused(bad):
    with pytest.raises(InvalidInput) as error:
        check_query(bad)
    assert error.value.field == "q"


def test_a_query_of_exactly_200_characters_is_accepted():
    assert len(check_query("a" * 200)) == 200


@given(st.floats(allow_nan=False, allow_infinity=False), st.integers(1, MAX_ID))
def test_cursors_round_trip(rank, item_id):
    assert decode_cursor(encode_cursor(rank, item_id), float, int) == (rank, item_id)


@given(
    st.one_of(st.floats(), st.just(1.0)),
    st.one_of(st.integers(max_value=0), st.integers(min_value=MAX_ID + 1), st.integers(1, 9)),
)
def test_cursor_numbers_no_page_gives_are_refused(rank, item_id):
    """Ids past PostgreSQL's integer or below 1, and infinite or NaN ranks, are a damaged
    link (400), never a database error."""
    token = encode_cursor(rank, item_id)
    if 1 <= item_id <= MAX_ID and rank == rank and abs(rank) != float("inf"):
        assert decode_cursor(token, float, int) == (rank, item_id)
        return
    with pytest.raises(InvalidInput) as error:
        decode_cursor(token, float, int)
    assert error.value.field == "cursor"


@given(st.text(max_size=80).filter(lambda token: not token.startswith("W")))
def test_any_damaged_cursor_is_an_invalid_input_never_a_crash(token):
    # Every valid cursor of a JSON list starts with "W" ("[" in base64); the rest must fail.
    with pytest.raises(InvalidInput) as error:
        decode_cursor(token, float, int)
    assert error.value.field == "cursor"


@given(
    st.lists(
        st.one_of(vietnamese_word, st.sampled_from(["&", "<b>", '"', "'", "&amp;", "#x27"]))
    ).map(" ".join),
    st.lists(st.one_of(vietnamese_word, st.sampled_from(["amp", "x27", "lt", "b"])), max_size=3),
)
def test_html_marking_is_the_escaped_highlight(text, query_words):
    terms = highlight_terms(" ".join(query_words))

    marked = mark_html(text, terms)

    expected = "".join(
        f"<mark>{escape_html(s.text)}</mark>" if s.is_match else escape_html(s.text)
        for s in highlight(text, terms)
    )
    assert marked == expected
    assert html.unescape(marked.replace("<mark>", "").replace("</mark>", "")) == text
    assert "<" not in marked.replace("<mark>", "").replace("</mark>", "")


@given(
    st.sampled_from(SORTS),
    st.booleans(),
    st.integers(1, MAX_ID),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(1, MAX_ID),
)
def test_page_cursors_round_trip_and_serve_only_their_own_sort(sort, backward, page, key, id_):
    cursor = Cursor(sort, backward, page, key, id_)
    assert Cursor.parse(cursor.token(), sort) == cursor
    for other in set(SORTS) - {sort}:
        with pytest.raises(InvalidInput) as error:
            Cursor.parse(cursor.token(), other)
        assert error.value.field == "cursor"


def test_cursors_of_the_old_form_are_a_damaged_link():
    for token in (encode_cursor(4.0, 17), encode_cursor("2026-01-01", 5)):
        with pytest.raises(InvalidInput):
            Cursor.parse(token, "relevance")


def test_a_facet_takes_one_value_or_several_without_repeats():
    assert Filters(kind=Kind.PROJECT).kind == (Kind.PROJECT,)
    assert Filters(kind="fund", technology=3).technology == (3,)
    assert Filters(technology=(5, 3, 5)).technology == (5, 3)
    assert Filters(province=None).is_empty()
    assert not Filters(year=[2020]).is_empty()


def test_words_sort_by_relevance_and_browsing_by_the_newest():
    assert check_sort(None, "trí tuệ") == "relevance"
    assert check_sort(None, "") == "newest"
    assert check_sort("amount", "") == "amount"
    assert check_sort(None, "", ("newest", "amount")) == "newest"
    with pytest.raises(InvalidInput) as error:
        check_sort("relevance", "", ("newest", "amount"))
    assert error.value.field == "sort"
