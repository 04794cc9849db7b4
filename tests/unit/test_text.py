import unicodedata
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.domain.text import (
    ALPHABET,
    clean,
    clean_limited,
    collation_key,
    fold,
    given_name_key,
    nfc,
    whole_number,
)
from tests.strategies import vietnamese_text, vietnamese_word

pytestmark = pytest.mark.unit


def test_fold_drops_tones_vowel_marks_and_case_and_maps_d_stroke():
    assert fold("TRÍ TUỆ NHÂN TẠO") == "tri tue nhan tao"
    assert fold("Đất hiếm") == "dat hiem"
    assert fold("Ưu đãi") == "uu dai"


@given(vietnamese_text)
def test_fold_is_the_same_for_nfc_and_nfd_input(text):
    assert fold(unicodedata.normalize("NFD", text)) == fold(text)


@given(vietnamese_text)
def test_fold_leaves_only_ascii_for_vietnamese_text(text):
    assert fold(text).isascii()


def test_clean_normalises_to_nfc_and_collapses_spaces():
    decomposed = unicodedata.normalize("NFD", "  Trí   tuệ\tnhân tạo ")
    assert clean(decomposed) == "Trí tuệ nhân tạo"
    assert unicodedata.is_normalized("NFC", clean(decomposed))


def test_vietnamese_letters_sort_in_alphabet_order():
    letters = list(ALPHABET)
    shuffled = sorted(letters, key=lambda letter: hash(letter))
    assert sorted(shuffled, key=collation_key) == letters


def test_d_stroke_sorts_after_every_word_starting_with_d():
    words = ["đá", "dứa", "dân", "Đà Nẵng", "e", "cá"]
    assert sorted(words, key=collation_key) == ["cá", "dân", "dứa", "đá", "Đà Nẵng", "e"]


def test_tone_marks_are_secondary_differences():
    # "ba" < "bà" < "bả" < "bã" < "bá" < "bạ", but all before "băn" (ă is a new letter).
    words = ["băn", "bạ", "bá", "bã", "bả", "bà", "ba"]
    assert sorted(words, key=collation_key) == ["ba", "bà", "bả", "bã", "bá", "bạ", "băn"]


def test_case_only_breaks_ties():
    assert sorted(["Bạc", "bạc", "An"], key=collation_key) == ["An", "bạc", "Bạc"]


@given(vietnamese_word, vietnamese_word)
def test_order_by_key_ignores_tone_when_base_letters_differ(first, second):
    base_first = collation_key(first).split("\x01")[0]
    base_second = collation_key(second).split("\x01")[0]
    if base_first < base_second:
        assert collation_key(first) < collation_key(second)


@given(vietnamese_text)
def test_collation_key_is_the_same_for_nfc_and_nfd(text):
    assert collation_key(unicodedata.normalize("NFD", text)) == collation_key(text)


@given(st.text())
def test_collation_key_never_fails(text):
    assert isinstance(collation_key(text), str)


def test_personal_names_sort_by_given_name_first():
    names = ["Nguyễn Văn An", "Trần Thị Bình", "Lê An"]
    assert sorted(names, key=given_name_key) == ["Lê An", "Nguyễn Văn An", "Trần Thị Bình"]


def test_nfc_composes():
    assert nfc("e\u0302\u0301") == "ế"


#: Latin letters (Vietnamese among them) and the combining marks that decorate them.
latin_text = st.text(alphabet=st.characters(max_codepoint=0x36F, exclude_categories=["Cs"]))


@given(latin_text)
def test_fold_removes_every_combining_mark(text):
    assert not any(unicodedata.combining(char) for char in fold(text))


@given(
    st.one_of(
        st.text(),
        st.integers(-(10**30), 10**30).map(str),
        st.integers(0, 5_000).map(lambda zeros: "0" * zeros + "7"),
        st.just("9" * 5_000),
    ),
    st.integers(0, 2**63),
    st.integers(0, 2**63),
)
def test_whole_number_reads_ascii_digits_in_range_and_never_raises(text, low, high):
    number = whole_number(text, low=low, high=high)
    is_digits = text.isascii() and text.isdigit()
    # Decimal: the oracle must not hit int()'s 4,300-digit limit itself.
    if is_digits and low <= Decimal(text) <= high:
        assert number == Decimal(text)
    else:
        assert number is None


BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


@given(st.lists(st.one_of(vietnamese_text, st.sampled_from(BIDI_CONTROLS))).map("".join))
def test_clean_removes_bidi_controls_and_keeps_everything_else(text):
    """A right-to-left override makes `thuyet-minh[U+202E]fdp.exe` read as `...exe.pdf`; no
    stored name, title or file name may carry one."""
    cleaned = clean(text)
    assert not set(cleaned) & set(BIDI_CONTROLS)
    assert cleaned == clean("".join(char for char in text if char not in BIDI_CONTROLS))


def test_a_file_name_with_a_right_to_left_override_reads_as_typed():
    assert clean("thuyet-minh\u202efdp.exe") == "thuyet-minhfdp.exe"
    assert clean_limited("\u2067Đề xuất\u2069 \u200f", field="title_vi", limit=10) == "Đề xuất"
