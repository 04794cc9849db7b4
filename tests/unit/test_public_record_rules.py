"""The public record's pure rules: project end dates, open-data identifiers, short titles."""

import datetime as dt
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from registry.domain.catalogue import Localized
from registry.domain.public_record import (
    TITLE_LIMIT,
    CallStatistics,
    add_months,
    call_statistics,
    distribution,
    ends_on,
    grant_id,
    organisation_id,
    short_title,
)
from registry.domain.scoring import Criteria, Criterion, Ranked


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


# Per-call statistics ---------------------------------------------------------------------------

MARKS = st.lists(st.fractions(min_value=0, max_value=50), max_size=40)


@given(MARKS)
def test_every_official_mark_counts_once_in_the_bin_that_holds_it(marks):
    criterion = Criterion(Localized("Tính mới", None), Localized("", None), threshold=30)
    bins = distribution(criterion, marks).bins
    assert [(b.low, b.high) for b in bins] == [(0, 10), (10, 20), (20, 30), (30, 40), (40, 50)]
    assert sum(b.count for b in bins) == len(marks)
    for b in bins:
        inside = [m for m in marks if b.low <= m < b.high or (b.high == 50 and m == 50)]
        assert b.count == len(inside)


def _ranked(marks: tuple[int, ...], eligible: bool = True) -> Ranked:
    return Ranked(
        proposal=len(marks),
        marks=tuple(Fraction(m) for m in marks),
        total=Fraction(sum(marks)),
        score=Fraction(sum(marks)),
        failed=() if eligible else (0,),
        failed_overall=False,
        rank=1 if eligible else None,
        separated_by=None,
    )


def test_distributions_are_withheld_below_five_ranked_proposals():
    criteria = Criteria(
        items=(Criterion(Localized("A", None), Localized("", None), threshold=30),),
        overall_threshold=0,
    )
    few = [_ranked((40,)), _ranked((20,), eligible=False)] * 2
    stats = call_statistics(
        criteria, few, submitted=4, funded=1, budget_vnd=3_000, funded_vnd=1_000
    )
    assert stats.distributions == ()
    assert stats.eligible == 2
    assert stats.success_permille == 250
    assert stats.budget_used_permille == 333
    enough = [*few, _ranked((45,))]
    shown = call_statistics(
        criteria, enough, submitted=5, funded=2, budget_vnd=3_000, funded_vnd=2_000
    )
    assert [b.count for b in shown.distributions[0].bins] == [0, 0, 2, 0, 3]
    assert CallStatistics.from_json(shown.to_json()) == shown


@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=1, max_value=10_000))
def test_success_rate_is_rounded_half_up_in_integers(funded, submitted):
    stats = CallStatistics(submitted, 0, funded, 0, 0, ())
    exact = Fraction(funded * 1000, submitted)
    assert abs(stats.success_permille - exact) <= Fraction(1, 2)
    assert stats.success_permille - exact != Fraction(-1, 2)
