"""The public record's pure rules: project end dates, open-data identifiers, short titles."""

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from registry.domain.public_record import (
    TITLE_LIMIT,
    add_months,
    ends_on,
    grant_id,
    organisation_id,
    short_title,
)


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2090, 12, 31)),
       st.integers(min_value=0, max_value=120))  # fmt: skip
def test_adding_months_lands_in_the_right_month_never_past_its_end(start, months):
    moved = add_months(start, months)
    assert (moved.year - start.year) * 12 + moved.month - start.month == months
    assert moved.day == start.day or (moved.day < start.day and (moved + dt.timedelta(1)).day == 1)


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2090, 12, 31)),
       st.integers(min_value=1, max_value=120))  # fmt: skip
def test_a_project_ends_the_day_before_its_anniversary(start, months):
    end = ends_on(start, months)
    assert start <= end < add_months(start, months)
    assert end + dt.timedelta(days=1) == add_months(start, months)


def test_known_month_ends():
    assert add_months(dt.date(2027, 1, 31), 1) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2028, 1, 31), 1) == dt.date(2028, 2, 29)
    assert ends_on(dt.date(2026, 12, 5), 24) == dt.date(2028, 12, 4)
    assert ends_on(dt.date(2026, 12, 5), None) == dt.date(2027, 12, 4)


def test_organisations_are_identified_by_tax_number_else_in_the_publishers_scope():
    assert organisation_id("360G-x", "vast", "0100109106") == "VN-TIN-0100109106"
    assert organisation_id("360G-x", "vast", "0100109106001") == "VN-TIN-0100109106001"
    assert organisation_id("360G-x", "vast", None) == "360G-x-org-vast"
    assert organisation_id("360G-x", "vast", "12-34") == "360G-x-org-vast"
    assert grant_id("360G-x", "NAF-2027-000001") == "360G-x-NAF-2027-000001"


@given(st.text(min_size=0, max_size=400))
def test_titles_are_shorter_than_the_standards_limit(title):
    short = short_title(title)
    assert len(short) < TITLE_LIMIT
    if len(title) < TITLE_LIMIT:
        assert short == title
