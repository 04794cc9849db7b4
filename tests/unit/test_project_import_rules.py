"""Reading a spreadsheet row of a historic project: amounts written every way funds write
them (whole đồng, never a float), dates day first, provinces after the 2025 merger."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.domain.errors import InvalidInput
from registry.domain.money import AMOUNT_MAX
from registry.domain.project_import import (
    PROVINCES,
    current_province,
    parse_amount,
    parse_date,
    read_row,
)

amounts = st.integers(min_value=1, max_value=AMOUNT_MAX)


@given(amounts)
def test_an_amount_reads_the_same_whichever_way_it_is_grouped(amount: int) -> None:
    dotted = f"{amount:,}".replace(",", ".")
    for written in (str(amount), f"{amount:,}", dotted, f"{dotted} đồng", float(amount)):
        assert parse_amount(written) == amount


@given(st.integers(min_value=0, max_value=999_999), st.integers(min_value=0, max_value=99))
def test_billions_with_a_decimal_comma_or_dot_are_exact(whole: int, hundredths: int) -> None:
    expected = whole * 10**9 + hundredths * 10**7
    if expected == 0:
        return
    assert parse_amount(f"{whole},{hundredths:02d} tỷ") == expected
    assert parse_amount(f"{whole}.{hundredths:02d} ty") == expected


@pytest.mark.parametrize(
    "written", ["1.500.000,50", "1,5", "-5", "0", "12.34.567", 1500.5, "abc", "1,0000000005 tỷ"]
)
def test_what_is_not_whole_dong_is_refused(written: object) -> None:
    with pytest.raises(InvalidInput):
        parse_amount(written)


def test_dates_are_read_day_first_or_iso() -> None:
    for written in ("05/03/2019", "5/3/2019", "05-03-2019", "05.03.2019", "2019-03-05"):
        assert parse_date(written, field="starts_on") == dt.date(2019, 3, 5)
    assert parse_date(dt.datetime(2019, 3, 5, 0, 0), field="x") == dt.date(2019, 3, 5)
    for wrong in ("31/02/2020", "03/15/2019", "2019", "mai"):
        with pytest.raises(InvalidInput):
            parse_date(wrong, field="starts_on")


def test_provinces_are_named_as_since_the_2025_merger() -> None:
    assert len(PROVINCES) == 34
    assert sum(len(merged) for merged in PROVINCES.values()) >= 29  # 63 before, 34 after
    assert current_province("Tỉnh Bình Dương") == "TP. Hồ Chí Minh"
    assert current_province("Bà Rịa-Vũng Tàu") == "TP. Hồ Chí Minh"
    assert current_province("TP.HCM") == "TP. Hồ Chí Minh"
    assert current_province("quang nam") == "Đà Nẵng"
    assert current_province("Thành phố Huế") == "Huế"
    assert current_province("Hà Giang") == "Tuyên Quang"
    assert current_province("Gotham") is None


def test_a_row_lists_every_problem_it_has() -> None:
    row, problems = read_row(7, {"external_id": "A-1", "amount_vnd": "1,5", "ends_on": "x"})
    assert row is None
    assert {p.column for p in problems} >= {"title_vi", "organisation", "amount_vnd", "ends_on"}
    assert {p.line for p in problems} == {7}
