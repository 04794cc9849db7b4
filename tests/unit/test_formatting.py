"""One way to write numbers per language (registry.formatting, through Babel's CLDR data):
amounts read back exactly as they are shown, the domain's money rule agrees with it, and
charts round rather than cut."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from babel.numbers import format_decimal
from hypothesis import given
from hypothesis import strategies as st

from registry import formatting
from registry.domain.money import AMOUNT_MAX, format_vnd, parse_vnd
from registry.i18n import speaking
from tests.strategies import amounts

pytestmark = pytest.mark.unit

LANGUAGES = st.sampled_from(["vi", "en"])


@given(st.integers(min_value=0, max_value=AMOUNT_MAX), LANGUAGES)
def test_an_amount_shown_in_a_form_reads_back_as_the_same_amount(amount, language):
    with speaking(language):
        shown = formatting.number(amount)
    assert parse_vnd(shown, field="budget") == amount


@given(amounts, LANGUAGES)
def test_money_is_written_with_the_languages_own_number_rule(amount, language):
    with speaking(language):
        figure = formatting.decimal(amount)
        expected = f"{figure} ₫" if language == "vi" else f"VND {figure}"
        assert formatting.vnd(amount) == format_vnd(amount, language) == expected


@given(st.integers(min_value=10**6, max_value=AMOUNT_MAX), LANGUAGES)
def test_compact_amounts_are_rounded_to_the_nearest_tenth(amount, language):
    with speaking(language):
        shown = formatting.vnd_compact(amount)
    figure, unit = shown.removeprefix("VND ").removesuffix(" ₫").split(" ", 1)
    if language == "vi":
        value = Decimal(figure.replace(".", "").replace(",", "."))
    else:
        value = Decimal(figure.replace(",", ""))
    size = next(s for s, vi, en in formatting.COMPACT_UNITS if unit in (vi, en))
    assert abs(value - Decimal(amount) / size) <= Decimal("0.05")
    assert value >= 1


@pytest.mark.parametrize(
    ("language", "amount", "shown"),
    [
        ("vi", 13_177_000_000, "13,2 tỷ ₫"),
        ("en", 13_177_000_000, "VND 13.2 bn"),
        ("vi", 1_250_000_000, "1,3 tỷ ₫"),
        ("vi", 2_000_000_000_000, "2 nghìn tỷ ₫"),
        ("vi", 950_000, "950.000 ₫"),
        ("en", 999_960_000, "VND 1 bn"),
        ("vi", 949_000_000, "949 triệu ₫"),
    ],
)
def test_compact_amounts(language, amount, shown):
    with speaking(language):
        assert formatting.vnd_compact(amount) == shown


def test_shares_marks_and_weights_use_the_languages_decimal_sign():
    with speaking("vi"):
        assert (formatting.percent(125), formatting.percent(200)) == ("12,5%", "20%")
        assert (formatting.mark(5), formatting.mark(30)) == ("0,5", "3")
        assert formatting.weight(1500) == "1,5"
        assert formatting.number(2_000_000_000) == "2.000.000.000"
    with speaking("en"):
        assert (formatting.percent(125), formatting.mark(5), formatting.weight(1250)) == (
            "12.5%",
            "0.5",
            "1.25",
        )
        assert formatting.number(2_000_000_000) == "2,000,000,000"


@given(st.integers(min_value=-(10**15), max_value=10**15), LANGUAGES)
def test_whole_numbers_are_grouped_as_babel_groups_them(value, language):
    with speaking(language):
        assert formatting.number(value) == format_decimal(value, format="#,##0", locale=language)


@given(st.dates(min_value=dt.date(1000, 1, 1)), LANGUAGES)
def test_dates_are_written_as_the_vietnamese_and_english_patterns_say(day, language):
    # `05/03/2026` and `5 Mar 2026`, written by hand for speed: held to strftime's output.
    expected = day.strftime("%d/%m/%Y") if language == "vi" else f"{day.day} {day:%b %Y}"
    with speaking(language):
        assert formatting.date(day) == expected
        assert formatting.date(dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)) == (
            expected
        )


@pytest.mark.parametrize(
    ("field", "vietnamese", "english"),
    [
        ("title_vi", "Tên (tiếng Việt)", "Title (Vietnamese)"),
        (
            "team-1-role",
            "Nhóm nghiên cứu, dòng 2: Vai trò trong đề tài",
            "Team, row 2: Role in the project",
        ),
        ("milestone-0-text", None, "Milestones, row 1: Milestone"),
        ("budget-travel-own", None, "Budget (VND), Travel and conferences: Own funds"),
        ("budget-unknown-own", "budget-unknown-own", "budget-unknown-own"),
        ("team-x-role", "team-x-role", "team-x-role"),
        ("submit_key", "submit_key", "submit_key"),
    ],
)
def test_a_form_field_is_named_as_the_editor_labels_it(field, vietnamese, english):
    """The conflict page names the fields two versions disagree on as the form labels them
    (not team-1-role); a name it does not know is shown as it is."""
    with speaking("en"):
        assert formatting.form_field_name(field) == english
    with speaking("vi"):
        named = formatting.form_field_name(field)
    if vietnamese:
        assert named == vietnamese
    else:  # translated, whatever the words
        assert named not in (field, english)
