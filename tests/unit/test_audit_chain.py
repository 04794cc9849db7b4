"""The chain check, on chains built in memory: any edit, removal or forged head is named."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.domain.audit import GENESIS, ChainWalker, event_hash

pytestmark = pytest.mark.unit


def _chain(texts: list[str]) -> list[tuple[int, bytes, bytes, str]]:
    rows, previous = [], GENESIS
    for seq, text in enumerate(texts, start=1):
        canonical = json.dumps([seq, text], ensure_ascii=False)
        row_hash = event_hash(previous, canonical)
        rows.append((seq, previous, row_hash, canonical))
        previous = row_hash
    return rows


def _check(rows, head_seq=None, head_hash=None):
    walker = ChainWalker()
    for row in rows:
        if not walker.add(*row):
            break
    if head_seq is None:
        head_seq, head_hash = (rows[-1][0], rows[-1][2]) if rows else (0, GENESIS)
    return walker.result(head_seq, head_hash)


texts = st.lists(st.text(max_size=20), min_size=1, max_size=30)


@given(texts)
def test_an_untouched_chain_verifies(texts):
    check = _check(_chain(texts))

    assert (check.ok, check.events, check.first_bad_seq) == (True, len(texts), None)


def test_the_empty_chain_verifies_and_an_empty_chain_with_a_head_does_not():
    assert _check([]).ok
    assert _check([], 1, GENESIS).first_bad_seq == 1


@given(texts, st.data())
def test_an_edited_event_is_named(texts, data):
    rows = _chain(texts)
    index = data.draw(st.integers(0, len(rows) - 1))
    seq, prev_hash, row_hash, canonical = rows[index]
    rows[index] = (seq, prev_hash, row_hash, canonical + " ")

    assert _check(rows, rows[-1][0], rows[-1][2]).first_bad_seq == seq


@given(texts, st.data())
def test_a_removed_event_is_named(texts, data):
    rows = _chain(texts)
    head_seq, head_hash = rows[-1][0], rows[-1][2]
    index = data.draw(st.integers(0, len(rows) - 1))
    del rows[index]

    assert _check(rows, head_seq, head_hash).first_bad_seq == index + 1


@given(texts)
def test_a_head_that_is_not_the_last_event_is_caught(texts):
    rows = _chain(texts)

    assert _check(rows, len(rows), GENESIS).first_bad_seq == len(rows)
    assert _check(rows, len(rows) + 1, rows[-1][2]).first_bad_seq == len(rows) + 1
    assert not _check(rows, len(rows) - 1, rows[-1][2]).ok
