"""Aggregation, ranking, tie-breaks, calibration, the funding line and the what-if panel
(registry.domain.scoring): worked examples a fund manager would recognise, then properties
checked by Hypothesis, including against a slow reference ranking written straight from the
rules with Fractions."""

from __future__ import annotations

import statistics
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from registry.domain.catalogue import Localized
from registry.domain.errors import InvalidForm
from registry.domain.scoring import (
    DISAGREEMENT_SPREAD,
    PRESETS,
    WEIGHT_ONE,
    Aggregation,
    Candidate,
    Criteria,
    Criterion,
    FundingPolicy,
    Line,
    Ranked,
    ReviewScores,
    Scenario,
    TieBreak,
    aggregate,
    calibrate,
    format_fraction,
    format_points,
    funding_line,
    rank,
    what_if,
)
from tests.strategies import budgets, call_candidates, call_criteria, review_marks

pytestmark = pytest.mark.unit

RIA, IA = PRESETS["horizon_ria"], PRESETS["horizon_ia"]
OPENED = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
BN = 1_000_000_000


def proposal(
    number: int,
    *reviews: tuple[int, ...],
    requested: int = BN,
    technologies: frozenset[int] = frozenset({1}),
    consensus: tuple[int, ...] | None = None,
    minutes: int = 0,
) -> Candidate:
    return Candidate(
        proposal=number,
        requested_vnd=requested,
        submitted_at=OPENED + timedelta(minutes=minutes),
        technologies=technologies,
        reviews=tuple(ReviewScores(reviewer, marks) for reviewer, marks in enumerate(reviews, 1)),
        consensus=consensus,
    )


def requested_of(candidates: list[Candidate]) -> dict[int, int]:
    return {c.proposal: c.requested_vnd for c in candidates}


def by_proposal(ranked: tuple[Ranked, ...]) -> dict[int, Ranked]:
    return {r.proposal: r for r in ranked}


# A small call worked by hand (Horizon RIA: 0-5 per criterion, 3 to pass each, 10 in total) ---

#: (Excellence, Impact, Implementation) from three reviewers each; medians in the comments.
SMALL_CALL = [
    proposal(101, (45, 40, 40), (50, 45, 40), (40, 45, 45), requested=3 * BN),  # 4.5 4.5 4 = 13
    proposal(102, (40, 40, 35), (40, 35, 40), (45, 40, 35), requested=25 * BN // 10),  # 11.5
    proposal(103, (35, 35, 35), (40, 30, 35), (35, 40, 30), requested=12 * BN // 10),  # 10.5
    proposal(104, (35, 30, 30), (30, 35, 35), (35, 30, 35), requested=4 * BN // 10),  # 10
    proposal(105, (45, 25, 45), (45, 20, 45), (50, 30, 45), requested=BN),  # Impact 2.5: out
    proposal(106, requested=BN),  # no review yet
]


def test_a_small_call_ranks_by_the_median_and_eliminates_below_a_threshold():
    ranked = rank(RIA, SMALL_CALL, Aggregation.MEDIAN)

    assert [(r.proposal, r.rank) for r in ranked] == [
        (101, 1), (102, 2), (103, 3), (104, 4), (105, None),
    ]  # fmt: skip
    assert by_proposal(ranked)[101].marks == (45, 45, 40)
    assert by_proposal(ranked)[101].total == 130
    out = by_proposal(ranked)[105]
    assert out.failed == (1,)
    assert not out.failed_overall
    assert not out.eligible
    assert out.total == 115  # more than 103 and 104: one threshold is enough to eliminate
    assert 106 not in by_proposal(ranked)  # awaiting reviews: not ranked, not eliminated


def test_the_budget_line_falls_between_the_second_and_third_and_the_policy_decides_the_rest():
    ranked = rank(RIA, SMALL_CALL, Aggregation.MEDIAN)
    budget = 6 * BN  # 101 and 102 take 5.5 bn; 103 asks 1.2 bn, 104 asks 0.4 bn

    stop = funding_line(ranked, requested_of(SMALL_CALL), budget, FundingPolicy.STOP)
    skip = funding_line(ranked, requested_of(SMALL_CALL), budget, FundingPolicy.SKIP)

    assert (stop.funded, stop.reserve, stop.eliminated) == ((101, 102), (103, 104), (105,))
    assert stop.funded_vnd == 55 * BN // 10
    assert (skip.funded, skip.reserve) == ((101, 102, 104), (103,))
    assert skip.funded_vnd == 59 * BN // 10
    assert skip.of(104).line is Line.FUNDED
    assert skip.of(104).amount_vnd == 4 * BN // 10
    assert skip.of(104).cumulative_vnd == 59 * BN // 10
    assert skip.of(103).amount_vnd == 0
    assert skip.of(103).asked_vnd == 12 * BN // 10


def test_a_reduced_amount_is_funded_instead_of_the_requested_one():
    ranked = rank(RIA, SMALL_CALL, Aggregation.MEDIAN)
    line = funding_line(
        ranked, requested_of(SMALL_CALL), 6 * BN, FundingPolicy.STOP, amounts={103: BN // 2}
    )
    assert line.funded == (101, 102, 103)
    assert line.of(103).amount_vnd == BN // 2
    assert line.funded_vnd == 6 * BN


def test_marks_that_do_not_match_the_criteria_or_a_proposal_given_twice_are_refused():
    with pytest.raises(ValueError, match="twice"):
        rank(RIA, [SMALL_CALL[0], SMALL_CALL[0]], Aggregation.MEDIAN)
    with pytest.raises(ValueError, match="criteria"):
        rank(RIA, [proposal(1, (40, 40))], Aggregation.MEDIAN)
    with pytest.raises(ValueError, match="criteria"):
        rank(RIA, [proposal(1, (40, 40, 40), (40, 40, 40, 40))], Aggregation.MEAN)


def test_the_mean_keeps_thirds_exactly_and_shows_them_rounded():
    ranked = by_proposal(rank(RIA, SMALL_CALL, Aggregation.MEAN))
    # 102: Excellence (4 + 4 + 4.5) / 3 = 4.1666...
    assert ranked[102].marks[0] == Fraction(125, 3)
    assert format_points(ranked[102].marks[0]) == "4.17"
    assert ranked[102].total == Fraction(125 + 115 + 110, 3)


def test_a_consensus_replaces_the_reviewers_marks():
    agreed = replace(SMALL_CALL[4], consensus=(45, 30, 45))  # the panel agrees Impact is a 3
    ranked = by_proposal(rank(RIA, [*SMALL_CALL[:4], agreed], Aggregation.MEDIAN))
    assert ranked[105].marks == (45, 30, 45)
    assert ranked[105].rank == 2


# Ties ----------------------------------------------------------------------------------------


def test_a_tie_on_the_score_goes_to_the_higher_excellence_and_says_so():
    excellent = proposal(201, consensus=(45, 35, 40))
    balanced = proposal(202, consensus=(40, 40, 40))

    ria = rank(RIA, [balanced, excellent], Aggregation.MEDIAN)
    assert [r.proposal for r in ria] == [201, 202]
    assert ria[0].score == ria[1].score == 120
    assert ria[1].separated_by is TieBreak.CRITERION_ORDER

    # Innovation actions weigh Impact 1.5 and break ties on Impact first: no tie any more.
    ia = rank(IA, [balanced, excellent], Aggregation.MEDIAN)
    assert [(r.proposal, r.score, r.separated_by) for r in ia] == [
        (202, 140, None), (201, Fraction(275, 2), None),
    ]  # fmt: skip


def test_a_tied_proposal_covering_a_new_technology_goes_before_one_covering_nothing_new():
    same = (40, 40, 40)
    first = proposal(301, consensus=same, technologies=frozenset({1}))
    again = proposal(302, consensus=same, technologies=frozenset({1}))
    other = proposal(303, consensus=same, technologies=frozenset({2}))

    ranked = rank(RIA, [again, other, first], Aggregation.MEDIAN)

    assert [(r.proposal, r.separated_by) for r in ranked] == [
        (301, None),
        (303, TieBreak.PROPOSAL_ORDER),  # both new when 301 was placed: the id decides
        (302, TieBreak.UNCOVERED_TOPICS_FIRST),  # technology 1 is covered by 301 above
    ]


def test_a_higher_ranked_proposal_counts_as_covering_a_technology():
    leader = proposal(300, consensus=(50, 50, 50), technologies=frozenset({2}))
    tied = [
        proposal(301, consensus=(40, 40, 40), technologies=frozenset({2})),
        proposal(302, consensus=(40, 40, 40), technologies=frozenset({1})),
    ]
    ranked = rank(RIA, [leader, *tied], Aggregation.MEDIAN)
    assert [(r.proposal, r.separated_by) for r in ranked] == [
        (300, None), (302, None), (301, TieBreak.UNCOVERED_TOPICS_FIRST),
    ]  # fmt: skip


def test_a_rule_the_call_lists_before_uncovered_topics_decides_first():
    criteria = replace(
        RIA, tie_breaks=(TieBreak.EARLIER_SUBMISSION, TieBreak.UNCOVERED_TOPICS_FIRST)
    )
    leader = proposal(500, consensus=(50, 50, 50), technologies=frozenset({1}))
    early = proposal(501, consensus=(40, 40, 40), technologies=frozenset({2}), minutes=0)
    late = proposal(502, consensus=(40, 40, 40), technologies=frozenset({1}), minutes=9)
    ranked = rank(criteria, [late, early, leader], Aggregation.MEDIAN)
    # 502 covers nothing new (500 has technology 1), but it is below 501 for coming later.
    assert [(r.proposal, r.separated_by) for r in ranked] == [
        (500, None), (501, None), (502, TieBreak.EARLIER_SUBMISSION),
    ]  # fmt: skip


def test_earlier_submission_then_proposal_id_when_the_call_says_so():
    criteria = replace(RIA, tie_breaks=(TieBreak.EARLIER_SUBMISSION,))
    late = proposal(401, consensus=(40, 40, 40), minutes=30)
    early = proposal(402, consensus=(40, 40, 40), minutes=5)
    twin = proposal(403, consensus=(40, 40, 40), minutes=5)
    ranked = rank(criteria, [late, twin, early], Aggregation.MEDIAN)
    assert [(r.proposal, r.separated_by) for r in ranked] == [
        (402, None), (403, TieBreak.PROPOSAL_ORDER), (401, TieBreak.EARLIER_SUBMISSION),
    ]  # fmt: skip


# What-if -------------------------------------------------------------------------------------


def test_what_if_a_smaller_budget_shows_who_enters_and_who_leaves():
    scenario = Scenario(budget_vnd=5 * BN)
    change = what_if(RIA, SMALL_CALL, Aggregation.MEDIAN, 6 * BN, FundingPolicy.SKIP, scenario)

    assert change.before.funded == (101, 102, 104)
    # 102 (2.5 bn) no longer fits after 101 (3 bn); the walk goes on to 103 and 104.
    assert change.after.funded == (101, 103, 104)
    assert change.entered == (103,)
    assert change.left == (102,)
    assert change.ranks(103) == (3, 3)
    assert set(change.moved) == {102, 103}


def test_what_if_other_weights_reorder_a_tie_and_move_the_line():
    excellent = proposal(201, consensus=(45, 35, 40))
    balanced = proposal(202, consensus=(40, 40, 40))
    scenario = Scenario(weights=(1000, 1500, 1000))  # the Impact weight of innovation actions
    change = what_if(
        RIA, [excellent, balanced], Aggregation.MEDIAN, BN, FundingPolicy.STOP, scenario
    )

    assert change.entered == (202,)
    assert change.left == (201,)
    assert change.ranks(202) == (2, 1)
    assert change.after.of(202).ranked.score == 140
    assert RIA.items[1].weight == WEIGHT_ONE  # nothing saved


def test_what_if_lowering_a_threshold_brings_an_eliminated_proposal_in():
    scenario = Scenario(thresholds=(30, 25, 30))
    change = what_if(RIA, SMALL_CALL, Aggregation.MEDIAN, 6 * BN, FundingPolicy.STOP, scenario)
    assert change.ranks(105) == (None, 2)
    assert change.entered == (105,)
    assert change.left == (102,)


def test_a_scenario_out_of_bounds_names_each_field():
    scenario = Scenario(weights=(0, 1000, 1000), thresholds=(30, 33, 30), budget_vnd=-1)
    with pytest.raises(InvalidForm) as caught:
        what_if(RIA, SMALL_CALL, Aggregation.MEDIAN, BN, FundingPolicy.STOP, scenario)
    assert [p.field for p in caught.value.problems] == [
        "criterion-0-weight", "criterion-1-threshold", "budget_vnd",
    ]  # fmt: skip
    assert caught.value.problems[1].message == "Thresholds are marks: use steps of %(step)s."


# Calibration ---------------------------------------------------------------------------------

ONE = Criteria(
    items=(Criterion(Localized("Chất lượng"), Localized("—"), threshold=0),), overall_threshold=0
)


def test_calibration_puts_a_harsh_and_a_lenient_reviewer_on_one_scale():
    harsh, lenient, once = 1, 2, 3

    def reviewed(number: int, *marks: tuple[int, int]) -> Candidate:
        reviews = tuple(ReviewScores(reviewer, (mark,)) for reviewer, mark in marks)
        return Candidate(number, BN, OPENED, frozenset(), reviews)

    candidates = [
        reviewed(1, (harsh, 25), (lenient, 45)),
        reviewed(2, (harsh, 35), (lenient, 50)),
        reviewed(3, (once, 40)),
    ]
    calibration = calibrate(ONE, candidates)
    # Each reviewer put 1 below 2: one deviation below and above their own mean.
    assert calibration.z_marks[1] == (-1.0,)
    assert calibration.z_marks[2] == (1.0,)
    assert calibration.z_marks[3] == (0.0,)  # reviewer 3 reviewed once: nothing to compare
    assert calibration.z_score[2] == 1.0
    assert calibration.disagreements == {1: (0,), 2: (), 3: ()}  # 2.5 against 4.5 on 1
    # The official marks stay the plain medians: 2 has 4.25, 3 has 4, 1 has 3.5.
    official = [(r.proposal, r.total) for r in rank(ONE, candidates, Aggregation.MEDIAN)]
    assert official == [(2, Fraction(85, 2)), (3, 40), (1, 35)]


def test_format_fraction_rounds_half_up():
    assert format_fraction(Fraction(11, 3)) == "3.67"
    assert format_fraction(Fraction(1, 8)) == "0.13"
    assert format_fraction(Fraction(-1, 8)) == "-0.13"
    assert format_fraction(Fraction(7, 2), 0) == "4"
    assert format_fraction(Fraction(-1, 1000)) == "0.00"
    assert format_points(Fraction(85, 2)) == "4.25"


# Properties ----------------------------------------------------------------------------------


def reference_rank(
    criteria: Criteria, candidates: list[Candidate], method: Aggregation
) -> list[tuple[object, ...]]:
    """The ranking straight from the rules: Fractions and statistics, one pick at a time."""
    order = criteria.tie_break_order or range(len(criteria.items))
    average = statistics.median if method is Aggregation.MEDIAN else statistics.mean
    rows = []
    for c in candidates:
        if c.consensus is not None:
            marks = tuple(Fraction(m) for m in c.consensus)
        elif c.reviews:
            columns = zip(*(r.marks for r in c.reviews), strict=True)
            marks = tuple(Fraction(average([Fraction(m) for m in column])) for column in columns)
        else:
            continue
        weights = [Fraction(i.weight, WEIGHT_ONE) for i in criteria.items]
        score = sum(m * w for m, w in zip(marks, weights, strict=True))
        failed = tuple(i for i, item in enumerate(criteria.items) if marks[i] < item.threshold)
        rows.append((c, marks, sum(marks), score, failed))
    rules = [*criteria.tie_breaks, TieBreak.PROPOSAL_ORDER]

    def best(pool: list, rule: TieBreak, covered: set[int]) -> list:
        if rule is TieBreak.UNCOVERED_TOPICS_FIRST:
            return [r for r in pool if r[0].technologies - covered] or pool
        key = {
            TieBreak.CRITERION_ORDER: lambda r: tuple(-r[1][i] for i in order),
            TieBreak.EARLIER_SUBMISSION: lambda r: r[0].submitted_at,
            TieBreak.PROPOSAL_ORDER: lambda r: r[0].proposal,
        }[rule]
        lowest = min(map(key, pool))
        return [r for r in pool if key(r) == lowest]

    def separates(rule: TieBreak, upper: tuple, lower: tuple, covered: set[int]) -> bool:
        return best([upper, lower], rule, covered) == [upper]

    passing = [r for r in rows if not r[4] and r[2] >= criteria.overall_threshold]
    result: list[tuple[object, ...]] = []
    covered: set[int] = set()
    upper, covered_above_upper = None, set()
    while passing:
        top = max(r[3] for r in passing)
        pool = [r for r in passing if r[3] == top]
        for rule in rules:
            pool = best(pool, rule, covered)
        chosen = pool[0]
        rule = None
        if upper is not None and upper[3] == chosen[3]:
            rule = next(r for r in rules if separates(r, upper, chosen, covered_above_upper))
        result.append((chosen[0].proposal, len(result) + 1, rule, chosen[1], chosen[2], chosen[3]))
        upper, covered_above_upper = chosen, set(covered)
        covered |= chosen[0].technologies
        passing.remove(chosen)
    eliminated = [r for r in rows if r[4] or r[2] < criteria.overall_threshold]
    eliminated.sort(key=lambda r: (-r[3], r[0].proposal))
    result += [(r[0].proposal, None, None, r[1], r[2], r[3]) for r in eliminated]
    return result


methods = st.sampled_from(Aggregation)
policies = st.sampled_from(FundingPolicy)


@st.composite
def calls(draw: st.DrawFn, max_size: int = 8) -> tuple[Criteria, list[Candidate]]:
    criteria = draw(call_criteria())
    return criteria, draw(call_candidates(criteria, max_size=max_size))


@settings(max_examples=400)  # the heart of the ranking: ties and rules in every order
@given(calls(), methods)
def test_ranking_matches_the_rules_applied_one_pick_at_a_time(call, method):
    criteria, candidates = call
    ranked = rank(criteria, candidates, method)
    assert [
        (r.proposal, r.rank, r.separated_by, r.marks, r.total, r.score) for r in ranked
    ] == reference_rank(criteria, candidates, method)


@given(calls(), methods)
def test_ranks_count_from_one_and_a_rule_is_named_exactly_where_scores_tie(call, method):
    criteria, candidates = call
    ranked = rank(criteria, candidates, method)
    eligible = [r for r in ranked if r.eligible]
    assert [r.rank for r in eligible] == list(range(1, len(eligible) + 1))
    assert ranked[: len(eligible)] == tuple(eligible)  # eliminated last
    for upper, lower in pairwise(eligible):
        assert upper.score >= lower.score
        assert (lower.separated_by is None) == (upper.score != lower.score)


@given(calls(), methods, budgets, policies)
def test_a_proposal_failing_a_threshold_is_neither_ranked_nor_funded(call, method, budget, policy):
    criteria, candidates = call
    ranked = rank(criteria, candidates, method)
    line = funding_line(ranked, requested_of(candidates), budget, policy)
    for r in ranked:
        below = any(m < c.threshold for m, c in zip(r.marks, criteria.items, strict=True))
        below_overall = r.total < criteria.overall_threshold
        assert r.failed == tuple(
            i for i, c in enumerate(criteria.items) if r.marks[i] < c.threshold
        )
        if below or below_overall:
            assert r.rank is None
            assert line.of(r.proposal).line is Line.ELIMINATED
            assert line.of(r.proposal).amount_vnd == 0
        else:
            assert r.rank is not None
            assert line.of(r.proposal).line is not Line.ELIMINATED


@given(calls(), methods, budgets, policies)
def test_the_funded_total_never_exceeds_the_budget(call, method, budget, policy):
    criteria, candidates = call
    line = funding_line(
        rank(criteria, candidates, method), requested_of(candidates), budget, policy
    )
    funded = [e for e in line.entries if e.line is Line.FUNDED]
    assert line.funded_vnd == sum(e.amount_vnd for e in funded) <= budget
    assert all(e.amount_vnd == e.asked_vnd for e in funded)
    running = 0
    for entry in line.entries:
        running += entry.amount_vnd
        assert entry.cumulative_vnd == running
        if entry.line is Line.RESERVE and policy is FundingPolicy.SKIP:
            assert entry.asked_vnd > budget - entry.cumulative_vnd  # it truly did not fit
    reserve_ranks = [line.of(p).ranked.rank for p in line.reserve]
    assert reserve_ranks == sorted(reserve_ranks)


@given(calls(), methods, budgets)
def test_skip_funds_what_stop_funds_and_perhaps_more(call, method, budget):
    criteria, candidates = call
    ranked = rank(criteria, candidates, method)
    stop = funding_line(ranked, requested_of(candidates), budget, FundingPolicy.STOP)
    skip = funding_line(ranked, requested_of(candidates), budget, FundingPolicy.SKIP)
    assert skip.funded_vnd >= stop.funded_vnd
    assert skip.funded[: len(stop.funded)] == stop.funded
    # Under STOP the funded are exactly the first ranked proposals, without a gap.
    eligible = [r.proposal for r in ranked if r.eligible]
    assert stop.funded == tuple(eligible[: len(stop.funded)])


@given(st.data(), methods)
def test_the_result_does_not_depend_on_the_order_reviews_or_proposals_came_in(data, method):
    criteria, candidates = data.draw(calls())
    shuffled = [
        replace(c, reviews=tuple(data.draw(st.permutations(c.reviews))))
        for c in data.draw(st.permutations(candidates))
    ]
    assert rank(criteria, shuffled, method) == rank(criteria, candidates, method)
    assert calibrate(criteria, shuffled) == calibrate(criteria, candidates)
    budget = data.draw(budgets)
    for policy in FundingPolicy:
        lines = [
            funding_line(rank(criteria, c, method), requested_of(c), budget, policy)
            for c in (candidates, shuffled)
        ]
        assert lines[0] == lines[1]


@given(st.data(), methods)
def test_raising_one_mark_never_lowers_that_proposals_rank_nor_unfunds_it(data, method):
    """Precisely: if the proposal was ranked it stays ranked, at the same or a better rank;
    if it was funded it stays funded under either policy (the proposals above it after are
    the first few of those above it before, so what is left for it can only grow)."""
    criteria, candidates = data.draw(calls())
    raisable = [
        (n, k, i)
        for n, c in enumerate(candidates)
        for k, review in enumerate(c.reviews)
        for i, mark in enumerate(review.marks)
        if mark < 50
    ]
    assume(raisable)
    n, k, i = data.draw(st.sampled_from(raisable))
    target = candidates[n]
    old = target.reviews[k]
    higher = data.draw(st.sampled_from([m for m in range(0, 51, 5) if m > old.marks[i]]))
    new = replace(old, marks=(*old.marks[:i], higher, *old.marks[i + 1 :]))
    raised = [*candidates]
    raised[n] = replace(target, reviews=(*target.reviews[:k], new, *target.reviews[k + 1 :]))

    before = by_proposal(rank(criteria, candidates, method))[target.proposal]
    after = by_proposal(rank(criteria, raised, method))[target.proposal]
    assert after.total >= before.total
    assert after.score >= before.score
    if before.rank is not None:
        assert after.rank is not None
        assert after.rank <= before.rank
    budget = data.draw(budgets)
    for policy in FundingPolicy:
        was = funding_line(
            rank(criteria, candidates, method), requested_of(candidates), budget, policy
        )
        now = funding_line(rank(criteria, raised, method), requested_of(raised), budget, policy)
        if was.of(target.proposal).line is Line.FUNDED:
            assert now.of(target.proposal).line is Line.FUNDED


@given(st.data(), methods)
def test_calibration_never_changes_the_official_ranking(data, method):
    criteria, candidates = data.draw(calls())
    official = rank(criteria, candidates, method)
    calibration = calibrate(criteria, candidates)
    assert rank(criteria, candidates, method) == official
    # Calibration depends on who reviewed; the official ranking must not.
    relabel = dict(zip(range(1, 7), data.draw(st.permutations(range(101, 107))), strict=True))
    renamed = [
        replace(c, reviews=tuple(replace(r, reviewer=relabel[r.reviewer]) for r in c.reviews))
        for c in candidates
    ]
    assert rank(criteria, renamed, method) == official
    reviewed = {c.proposal for c in candidates if c.reviews}
    assert set(calibration.z_marks) == set(calibration.z_score) == reviewed


@given(calls())
def test_a_disagreement_is_a_spread_of_two_points_or_more(call):
    criteria, candidates = call
    calibration = calibrate(criteria, candidates)
    for c in candidates:
        if c.reviews:
            spread = [
                max(col) - min(col) for col in zip(*(r.marks for r in c.reviews), strict=True)
            ]
            assert calibration.disagreements[c.proposal] == tuple(
                i for i, s in enumerate(spread) if s >= DISAGREEMENT_SPREAD
            )


@given(st.lists(review_marks, min_size=1, max_size=5), st.integers(1, 6), methods)
def test_the_median_or_mean_of_identical_marks_is_that_mark(marks, reviews, method):
    assert aggregate([tuple(marks)] * reviews, method) == tuple(Fraction(m) for m in marks)


@given(st.lists(st.tuples(review_marks, review_marks), min_size=1, max_size=6))
def test_aggregates_are_the_exact_median_and_mean(reviews):
    columns = list(zip(*reviews, strict=True))
    as_fractions = [[Fraction(m) for m in column] for column in columns]
    assert aggregate(reviews, Aggregation.MEDIAN) == tuple(map(statistics.median, as_fractions))
    assert aggregate(reviews, Aggregation.MEAN) == tuple(map(statistics.mean, as_fractions))


@given(st.data(), methods)
def test_a_consensus_is_the_official_mark_whatever_the_reviews_say(data, method):
    criteria, candidates = data.draw(calls())
    agreed = [c for c in candidates if c.consensus is not None]
    ranked = by_proposal(rank(criteria, candidates, method))
    for c in agreed:
        assert ranked[c.proposal].marks == c.consensus
    without_reviews = [replace(c, reviews=()) if c.consensus is not None else c for c in candidates]
    assert rank(criteria, without_reviews, method) == rank(criteria, candidates, method)


@given(calls(), methods, budgets, policies)
def test_what_if_without_changes_moves_nobody(call, method, budget, policy):
    criteria, candidates = call
    change = what_if(criteria, candidates, method, budget, policy, Scenario())
    assert change.before == change.after
    assert change.entered == change.left == change.moved == ()


@given(st.data(), methods, budgets, policies)
def test_what_if_is_the_funding_line_of_the_changed_call(data, method, budget, policy):
    criteria, candidates = data.draw(calls())
    size = len(criteria.items)
    scenario = Scenario(
        weights=tuple(data.draw(st.sampled_from([1, 500, 1000, 2000])) for _ in range(size)),
        thresholds=tuple(data.draw(st.sampled_from([0, 25, 30, 40])) for _ in range(size)),
        budget_vnd=data.draw(budgets),
        policy=data.draw(policies),
    )
    change = what_if(criteria, candidates, method, budget, policy, scenario)
    requested = requested_of(candidates)
    assert change.before == funding_line(
        rank(criteria, candidates, method), requested, budget, policy
    )
    changed = scenario.apply(criteria)
    expected = funding_line(
        rank(changed, candidates, method), requested, scenario.budget_vnd, scenario.policy
    )
    assert change.after == expected
    assert set(change.entered) == set(expected.funded) - set(change.before.funded)
    assert set(change.left) == set(change.before.funded) - set(expected.funded)
