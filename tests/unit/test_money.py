import pytest
from hypothesis import given

from registry.domain.money import format_vnd, format_vnd_compact
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


def test_compact_amounts_round_down_to_one_decimal():
    assert format_vnd_compact(1_560_000_000, "vi") == "1,5 tỷ ₫"
    assert format_vnd_compact(1_560_000_000, "en") == "VND 1.5 bn"
    assert format_vnd_compact(2_000_000_000_000, "vi") == "2 nghìn tỷ ₫"
    assert format_vnd_compact(950_000, "vi") == "950.000 ₫"
