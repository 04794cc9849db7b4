"""Amounts in Vietnamese words, the place and date line and the number line of a decision.

The words are checked against hand examples and, for every amount up to 10^15, against an
independent reader (below) that parses the words back into a number and refuses any word
where the spelling rules forbid it (mốt, lăm, linh, mười/mươi, không trăm).
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from registry.domain.money import AMOUNT_MAX
from registry.domain.vietnamese import (
    amount_in_words,
    formal_amount,
    number_in_words,
    number_line,
    place_and_date,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        (0, "Không đồng"),
        (5, "Năm đồng"),
        (10, "Mười đồng"),
        (11, "Mười một đồng"),
        (15, "Mười lăm đồng"),
        (20, "Hai mươi đồng"),
        (21, "Hai mươi mốt đồng"),
        (24, "Hai mươi bốn đồng"),
        (25, "Hai mươi lăm đồng"),
        (105, "Một trăm linh năm đồng"),
        (110, "Một trăm mười đồng"),
        (115, "Một trăm mười lăm đồng"),
        (1_005, "Một nghìn không trăm linh năm đồng"),
        (1_050, "Một nghìn không trăm năm mươi đồng"),
        (10_000, "Mười nghìn đồng"),
        (200_000, "Hai trăm nghìn đồng"),
        (1_500_000_000, "Một tỷ năm trăm triệu đồng"),
        (1_005_000_000, "Một tỷ không trăm linh năm triệu đồng"),
        (1_000_000_005, "Một tỷ không trăm linh năm đồng"),
        (2_021_000_000, "Hai tỷ không trăm hai mươi mốt triệu đồng"),
        (750_000_000, "Bảy trăm năm mươi triệu đồng"),
        (1_000_000_000_000, "Một nghìn tỷ đồng"),
        (1_005_000_000_000, "Một nghìn không trăm linh năm tỷ đồng"),
        (10**15, "Một triệu tỷ đồng"),
        (999_999_999_999_999, "Chín trăm chín mươi chín nghìn chín trăm chín mươi chín tỷ"
         " chín trăm chín mươi chín triệu chín trăm chín mươi chín nghìn"
         " chín trăm chín mươi chín đồng"),
    ],
)
def test_hand_examples(amount, words):
    assert amount_in_words(amount) == words


def test_the_formal_amount_line_gives_figures_then_words():
    assert formal_amount(1_500_000_000) == "1.500.000.000 đồng (Một tỷ năm trăm triệu đồng)"


def test_amounts_outside_the_range_or_not_whole_are_refused():
    with pytest.raises(ValueError, match="between 0 and"):
        number_in_words(AMOUNT_MAX + 1)
    with pytest.raises(ValueError, match="between 0 and"):
        number_in_words(-1)
    with pytest.raises(TypeError):
        number_in_words(1.5)  # type: ignore[arg-type]


# The independent rule: a strict reader of the words.

DIGIT = {"không": 0, "một": 1, "hai": 2, "ba": 3, "bốn": 4, "năm": 5, "sáu": 6, "bảy": 7,
         "tám": 8, "chín": 9}
SCALE = {"nghìn": 10**3, "triệu": 10**6}


class Misspelt(Exception):
    pass


def rule(holds: bool, text: str) -> None:
    if not holds:
        raise Misspelt(text)


def read_words(text: str) -> int:
    """The number the words say; Misspelt where a word breaks a spelling rule."""
    words = text.split()
    total = below_ty = small = 0
    previous = None
    for word in words:
        if word in DIGIT:
            # "mươi"/"mười" take mốt and lăm; "một" after "mươi" and "năm" after either is wrong.
            rule(not (word == "một" and previous == "mươi"), text)
            rule(not (word == "năm" and previous in ("mươi", "mười")), text)
            rule(not (word == "không" and previous not in (None, "tỷ", "nghìn", "triệu")), text)
            small += DIGIT[word]
        elif word == "mốt":
            rule(previous == "mươi", text)
            small += 1
        elif word == "lăm":
            rule(previous in ("mươi", "mười"), text)
            small += 5
        elif word == "mười":
            rule(small % 100 == 0, text)
            small += 10
        elif word == "mươi":
            rule(previous in DIGIT and DIGIT[previous] >= 2, text)
            small += DIGIT[previous] * 9  # the digit was added as units: make it tens
        elif word == "trăm":
            rule(previous in DIGIT and small < 10, text)
            small *= 100
        elif word == "linh":
            rule(previous == "trăm", text)
        elif word in SCALE:
            rule(0 < small < 1000 or below_ty > 0, text)
            below_ty += small * SCALE[word]
            small = 0
        elif word == "tỷ":
            total = (total + below_ty + small) * 10**9
            below_ty = small = 0
        else:
            raise Misspelt(f"unknown word {word!r} in {text!r}")
        previous = word
    # A digit after "linh" must be the last of its group (nothing else could follow it).
    for i, word in enumerate(words[:-1]):
        if word == "linh":
            rule(words[i + 1] in DIGIT and words[i + 1] != "không", text)
    return total + below_ty + small


#: Amounts built from groups of three digits rich in zeros, ones and fives, where the rules bite
#: (plain integers up to 10^15 seldom have a zero group).
GROUP = st.sampled_from((0, 1, 4, 5, 10, 11, 15, 20, 21, 25, 100, 101, 105, 110, 115, 121)) | (
    st.integers(0, 999)
)
TRICKY = st.lists(GROUP, min_size=1, max_size=5).map(
    lambda groups: sum(g * 1000**i for i, g in enumerate(groups))
)


@given(st.integers(min_value=0, max_value=AMOUNT_MAX) | TRICKY)
@example(10**15)
@example(1_000_001)
@example(101_000_101)
def test_the_words_read_back_as_the_amount(amount):
    assert read_words(number_in_words(amount)) == amount


@given(st.integers(min_value=1, max_value=AMOUNT_MAX))
def test_every_inner_group_is_read_whole(amount):
    """After a higher group, a group below 100 is read with "không trăm"."""
    words = number_in_words(amount).split()
    for i, word in enumerate(words[1:], start=1):
        if word == "trăm" and words[i - 1] == "không":
            assert words[i - 2] in ("nghìn", "triệu", "tỷ")


@given(st.integers(min_value=1, max_value=AMOUNT_MAX))
def test_amounts_in_words_start_with_a_capital_and_end_with_dong(amount):
    words = amount_in_words(amount)
    assert words[0].isupper()
    assert words[1:] == words[1:].lower()
    assert words.endswith(" đồng")


def test_the_reader_itself_refuses_broken_spellings():
    for wrong in ("hai mươi một", "mười năm", "hai mươi năm", "một linh", "mốt"):
        with pytest.raises(Misspelt):
            read_words(wrong)


@pytest.mark.parametrize(
    ("day", "line"),
    [
        (date(2026, 3, 5), "Hà Nội, ngày 05 tháng 3 năm 2026"),
        (date(2026, 1, 9), "Hà Nội, ngày 09 tháng 01 năm 2026"),
        (date(2026, 2, 28), "Hà Nội, ngày 28 tháng 02 năm 2026"),
        (date(2026, 12, 10), "Hà Nội, ngày 10 tháng 12 năm 2026"),
    ],
)
def test_place_and_date_pad_days_below_10_and_months_below_3(day, line):
    assert place_and_date("Hà Nội", day) == line


@given(st.dates(min_value=date(1945, 9, 2), max_value=date(2200, 12, 31)))
def test_the_date_line_reads_back_as_the_date(day):
    line = place_and_date("Hà Nội", day)
    match = re.fullmatch(r"Hà Nội, ngày (\d\d) tháng (\d\d?) năm (\d{4})", line)
    assert match
    assert date(int(match[3]), int(match[2]), int(match[1])) == day
    assert len(match[2]) == (2 if day.month < 3 else len(str(day.month)))


def test_the_number_line_pads_numbers_below_10():
    assert number_line(7, "QĐ", "QPTKHCN") == "Số: 07/QĐ-QPTKHCN"
    assert number_line(123, "QĐ", "QPTKHCN") == "Số: 123/QĐ-QPTKHCN"
    with pytest.raises(ValueError, match="start at 1"):
        number_line(0, "QĐ", "QPTKHCN")
