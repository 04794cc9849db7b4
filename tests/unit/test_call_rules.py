"""Criteria, budget arithmetic and the deadline rule of fund calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.domain.calls import received_in_time
from registry.domain.errors import InvalidInput
from registry.domain.proposals import BudgetCategory, BudgetLine, totals
from registry.domain.scoring import PRESETS, format_mark

marks = st.sampled_from(range(0, 51, 5))
triples = st.tuples(marks, marks, marks)


@given(triples)
def test_weights_never_change_who_passes(scores):
    ria, ia = PRESETS["horizon_ria"], PRESETS["horizon_ia"]
    assert ria.passes(scores) == ia.passes(scores)


@given(triples)
def test_one_criterion_below_three_eliminates(scores):
    if min(scores) < 30:
        assert not PRESETS["horizon_ria"].passes(scores)


@given(triples, triples)
def test_impact_counts_more_for_innovation_actions(a, b):
    ia = PRESETS["horizon_ia"]
    # Equal except a point more on Impact: the IA ranking prefers it by exactly 1.5x that point.
    better = (a[0], min(a[1] + 5, 50), a[2])
    assert ia.ranking_score(better) - ia.ranking_score(a) == (better[1] - a[1]) * 1500


def test_presets_state_their_tie_break_order():
    assert PRESETS["horizon_ria"].tie_break_order[0] == 0  # Excellence first
    assert PRESETS["horizon_ia"].tie_break_order[0] == 1  # Impact first


@given(st.integers(min_value=0, max_value=50))
def test_scale_accepts_only_half_points(mark):
    scale = PRESETS["horizon_ria"].items[0].scale
    if mark % 5:
        with pytest.raises(InvalidInput):
            scale.check(mark)
    else:
        assert scale.check(mark) == mark


def test_marks_are_shown_as_points():
    assert [format_mark(m) for m in (0, 5, 30, 45, 50)] == ["0", "0.5", "3", "4.5", "5"]


amounts = st.integers(min_value=0, max_value=10**13)
lines = st.lists(
    st.builds(BudgetLine, st.sampled_from(list(BudgetCategory)), amounts, amounts), max_size=30
)


@given(lines)
def test_budget_totals_are_exact_sums(budget):
    result = totals(tuple(budget))
    assert result.requested_vnd == sum(line.requested_vnd for line in budget)
    assert result.total_vnd == result.requested_vnd + result.own_vnd
    assert isinstance(result.total_vnd, int)


@given(amounts, amounts, st.integers(min_value=0, max_value=1000))
def test_cofunding_share_matches_exact_fractions(requested, own, permille):
    from fractions import Fraction

    result = totals((BudgetLine(BudgetCategory.OTHER, requested, own),))
    if result.total_vnd:
        expected = Fraction(own, result.total_vnd) >= Fraction(permille, 1000)
        assert result.cofunding_met(permille) == expected


def test_negative_amounts_are_refused():
    with pytest.raises(InvalidInput):
        totals((BudgetLine(BudgetCategory.TRAVEL, -1),))


@given(st.datetimes(timezones=st.just(UTC)), st.integers(min_value=-(10**9), max_value=10**9))
def test_deadline_is_strict_to_the_microsecond(closes_at, offset_us):
    received = closes_at + timedelta(microseconds=offset_us)
    assert received_in_time(received, closes_at) == (offset_us < 0)


def test_one_millisecond_before_is_in_time_and_the_closing_instant_is_late():
    closes = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # 17:00 in Hà Nội
    assert received_in_time(closes - timedelta(milliseconds=1), closes)
    assert not received_in_time(closes, closes)
