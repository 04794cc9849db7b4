import pytest
from hypothesis import given

from registry.domain.errors import InvalidInput
from registry.domain.money import AMOUNT_MAX, format_vnd, parse_vnd
from tests.strategies import amounts

pytestmark = pytest.mark.unit


def test_vnd_in_vietnamese_groups_with_dots_and_trails_the_symbol():
    assert format_vnd(1_234_567, "vi") == "1.234.567 ₫"
    assert format_vnd(0, "vi") == "0 ₫"


def test_vnd_in_english_groups_with_commas_and_leads_with_the_code():
    assert format_vnd(1_234_567, "en") == "VND 1,234,567"
    assert format_vnd(-5_000, "en") == "VND -5,000"


@given(amounts)
def test_formatted_amount_keeps_every_digit(amount):
    for language in ("vi", "en"):
        digits = "".join(ch for ch in format_vnd(amount, language) if ch.isdigit())
        assert int(digits) == abs(amount)


def test_amounts_must_be_whole_dong():
    with pytest.raises(TypeError):
        format_vnd(1.5, "vi")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        format_vnd(True, "vi")


@pytest.mark.parametrize(
    "typed", ["9" * 5_000, "1" + "0" * 4_400, "1." + ".".join(["000"] * 2_000), str(AMOUNT_MAX + 1)]
)
def test_amounts_past_the_limit_are_too_large_however_many_digits(typed):
    # Past 4,300 digits Python's int() raises ValueError: never reached.
    with pytest.raises(InvalidInput, match="too large"):
        parse_vnd(typed, field="budget_vnd")


def test_leading_zeros_do_not_make_an_amount_too_large():
    assert parse_vnd("0" * 5_000 + "1500000", field="budget_vnd") == 1_500_000
    assert parse_vnd(str(AMOUNT_MAX), field="budget_vnd") == AMOUNT_MAX
