"""Affinity from text and the optimal assignment of reviewers."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import optimize, sparse

from registry.domain import assignment
from registry.domain.assignment import (
    AffinityTable,
    ProposalProfile,
    ReviewerProfile,
    affinity,
    assign,
    balanced_bounds,
    common_terms,
    greedy,
    terms,
)
from registry.domain.errors import InvalidInput
from tests.strategies import vietnamese_text

pytestmark = pytest.mark.unit

AI = 1
ENERGY = 2
NAMES = {AI: "Trí tuệ nhân tạo", ENERGY: "Năng lượng"}

PROPOSAL = ProposalProfile(
    proposal=1,
    technologies=frozenset({AI}),
    title="Trí tuệ nhân tạo chẩn đoán hình ảnh y tế",
    abstract="Mô hình học sâu phát hiện tổn thương phổi trên ảnh X-quang.",
)


# Terms ----------------------------------------------------------------------------------------


def test_terms_are_folded_words_and_adjacent_syllable_pairs():
    found = terms("Trí Tuệ nhân tạo")
    assert {"tri", "tue", "nhan", "tao", "tri tue", "nhan tao"} <= found
    assert terms("tri tue nhan tao") == found


def test_function_words_are_dropped_before_folding():
    assert "tu" not in terms("điều khiển từ xa")  # "từ" (from) is a function word
    assert "tu dong" in terms("điều khiển tự động")  # "tự" is not, though it folds alike
    assert "dien tu" in terms("linh kiện điện tử")


def test_a_dropped_word_breaks_the_pair_around_it():
    assert "lieu nang" not in terms("vật liệu của năng lượng")


def test_function_words_that_fold_like_content_words_stay_for_keywords_typed_plainly():
    assert {"do luong", "hoc sau", "khi thai"} <= terms("do luong, hoc sau, khi thai")


def test_generic_research_words_neither_count_nor_pair():
    found = terms("Nghiên cứu ứng dụng trí tuệ nhân tạo")
    assert not {"nghien cuu", "ung dung", "cuu ung", "dung tri", "nghien"} & found
    assert "tri tue" in found


def test_hyphenated_words_stay_one_word():
    assert {"cacbon", "riscv"} <= terms("sợi các-bon cho vi xử lý RISC-V")


def test_common_terms_are_those_in_too_many_texts():
    texts = ["bài báo khoa học về pin"] * 5 + ["bài báo khoa học về gen"] * 5
    common = common_terms(texts, share_permille=600)
    assert "bai bao" in common
    assert "pin" not in common


# Affinity -------------------------------------------------------------------------------------


def test_keywords_typed_without_marks_match_the_title():
    reviewer = ReviewerProfile(7, keywords="tri tue nhan tao, hoc sau")
    found = affinity(reviewer, PROPOSAL, NAMES)
    assert found.score > 0
    assert found.shared[:2] == ("trí tuệ nhân tạo", "học sâu")


def test_declared_fields_weigh_most():
    by_field = ReviewerProfile(7, fields=frozenset({AI}))
    by_keywords = ReviewerProfile(8, keywords="chẩn đoán hình ảnh y tế, học sâu")
    by_past = ReviewerProfile(9, past=("Trí tuệ nhân tạo chẩn đoán hình ảnh y tế, học sâu",))
    scores = [affinity(r, PROPOSAL, NAMES).score for r in (by_field, by_keywords, by_past)]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > scores[1] > scores[2] > 0
    assert affinity(by_field, PROPOSAL, NAMES).shared == ("Trí tuệ nhân tạo",)


def test_an_unrelated_reviewer_scores_nothing():
    reviewer = ReviewerProfile(7, fields=frozenset({ENERGY}), keywords="pin mặt trời perovskite")
    assert affinity(reviewer, PROPOSAL, NAMES) == assignment.Affinity(0, ())


def test_ignored_terms_neither_score_nor_explain():
    reviewer = ReviewerProfile(7, keywords="hình ảnh")
    assert affinity(reviewer, PROPOSAL, NAMES).score > 0
    ignored = affinity(reviewer, PROPOSAL, NAMES, ignore=terms("hình ảnh"))
    assert ignored == assignment.Affinity(0, ())


profiles_text = st.lists(vietnamese_text, max_size=3).map(", ".join)
technology_sets = st.frozensets(st.integers(1, 4), max_size=3)
reviewer_profiles = st.builds(
    ReviewerProfile,
    st.integers(1, 10**6),
    technology_sets,
    profiles_text,
    st.lists(vietnamese_text, max_size=2).map(tuple),
)
proposal_profiles = st.builds(
    ProposalProfile, st.integers(1, 10**6), technology_sets, vietnamese_text, profiles_text
)


@given(reviewer_profiles, proposal_profiles)
def test_affinity_is_an_integer_from_0_to_1000_with_a_few_reasons(reviewer, proposal):
    found = affinity(reviewer, proposal, NAMES)
    assert isinstance(found.score, int)
    assert 0 <= found.score <= 1000
    assert len(found.shared) <= assignment.MAX_SHARED
    assert found == affinity(reviewer, proposal, NAMES)
    if found.score == 0:
        assert found.shared == ()


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=50)
@given(
    st.lists(reviewer_profiles, min_size=1, max_size=4, unique_by=lambda r: r.account),
    st.lists(proposal_profiles, min_size=1, max_size=4, unique_by=lambda p: p.proposal),
)
def test_the_table_gives_the_same_scores_as_pair_by_pair(reviewers, proposals):
    table = AffinityTable(reviewers, proposals)
    for reviewer in reviewers:
        for proposal in proposals:
            expected = affinity(reviewer, proposal, NAMES).score
            assert table[(proposal.proposal, reviewer.account)] == expected
    assert len(table) == len(reviewers) * len(proposals)


# The plan -------------------------------------------------------------------------------------


def test_balanced_bounds_are_the_floor_and_ceiling_of_the_average_load():
    assert balanced_bounds(2000, 300, 3) == (20, 20)
    assert balanced_bounds(10, 3, 2) == (6, 7)
    with pytest.raises(InvalidInput):
        balanced_bounds(10, 0, 2)


@st.composite
def instances(draw, max_proposals=4, max_reviewers=4):
    """(proposals, reviewers, affinity, excluded, bounds); bounds hold per_proposal,
    min_load, max_load and sometimes assignments already made (`kept`)."""
    proposals = list(range(100, 100 + draw(st.integers(0, max_proposals))))
    reviewers = list(range(1, 1 + draw(st.integers(1, max_reviewers))))
    per_proposal = draw(st.integers(1, min(2, len(reviewers))))
    scores = st.sampled_from([0, 1, 500, 999, 1000]) | st.integers(0, 1000)
    affinity = {(p, r): draw(scores) for p in proposals for r in reviewers}
    pairs = sorted(affinity)
    excluded = draw(st.sets(st.sampled_from(pairs), max_size=len(pairs) // 3)) if pairs else set()
    free = [pair for pair in pairs if pair not in excluded]
    kept = (
        draw(st.sets(st.sampled_from(free), max_size=2)) if free and draw(st.booleans()) else set()
    )
    min_load = draw(st.integers(0, 2))
    max_load = draw(st.integers(min_load, 4))
    bounds = {"per_proposal": per_proposal, "min_load": min_load, "max_load": max_load}
    return proposals, reviewers, affinity, excluded, bounds | ({"kept": kept} if kept else {})


def brute_force(proposals, reviewers, affinity, excluded, bounds):
    """The best total of every plan, by trying them all (None when none exists)."""
    kept = bounds.get("kept", set())
    choices = []
    for p in proposals:
        mine = [r for r in reviewers if (p, r) in kept]
        others = [r for r in reviewers if (p, r) not in excluded and r not in mine]
        need = max(0, bounds["per_proposal"] - len(mine))
        choices.append([(*mine, *c) for c in itertools.combinations(others, need)])
    best = None
    for plan in itertools.product(*choices):
        loads = {r: 0 for r in reviewers}
        for chosen in plan:
            for r in chosen:
                loads[r] += 1
        if all(bounds["min_load"] <= load <= bounds["max_load"] for load in loads.values()):
            total = sum(
                affinity[(p, r)] for p, chosen in zip(proposals, plan, strict=True) for r in chosen
            )
            best = total if best is None else max(best, total)
    return best


def check_rules(plan, proposals, reviewers, excluded, bounds):
    kept = set(bounds.get("kept", ()))
    assert kept <= set(plan.pairs)
    assert not (set(plan.pairs) - kept) & set(excluded)
    for proposal in proposals:
        chosen = plan.reviewers_of(proposal)
        kept_here = sum(1 for p, _ in kept if p == proposal)
        assert len(chosen) == len(set(chosen)) == max(bounds["per_proposal"], kept_here)
    loads = plan.loads()
    assert all(bounds["min_load"] <= loads.get(r, 0) <= bounds["max_load"] for r in reviewers)


@settings(max_examples=300, deadline=None)
@given(instances())
def test_the_plan_is_the_best_one_there_is_and_keeps_every_rule(instance):
    proposals, reviewers, affinity, excluded, bounds = instance
    best = brute_force(*instance)
    try:
        plan = assign(proposals, reviewers, affinity, excluded, **bounds)
    except InvalidInput:
        assert best is None
        return
    assert best is not None
    check_rules(plan, *instance[:2], excluded, bounds)
    assert plan.total == best == sum(affinity[pair] for pair in plan.pairs)


@settings(max_examples=200, deadline=None)
@given(instances(max_proposals=8, max_reviewers=6))
def test_the_plan_is_never_worse_than_greedy(instance):
    proposals, reviewers, affinity, excluded, bounds = instance
    baseline = greedy(proposals, reviewers, affinity, excluded, **bounds)
    if baseline is None:
        return
    check_rules(baseline, proposals, reviewers, excluded, bounds)
    plan = assign(proposals, reviewers, affinity, excluded, **bounds)
    assert plan.total >= baseline.total


@settings(max_examples=100, deadline=None)
@given(instances(max_proposals=8, max_reviewers=6), st.randoms(use_true_random=False))
def test_the_same_input_in_any_order_gives_the_same_plan(instance, rng):
    proposals, reviewers, affinity, excluded, bounds = instance
    try:
        plan = assign(proposals, reviewers, affinity, excluded, **bounds)
    except InvalidInput as error:
        plan = error.message
    shuffled = list(affinity.items())
    rng.shuffle(shuffled)
    try:
        again = assign(
            rng.sample(proposals, len(proposals)),
            rng.sample(reviewers, len(reviewers)),
            dict(shuffled),
            list(reversed(list(excluded))),
            **bounds,
        )
    except InvalidInput as error:
        again = error.message
    assert again == plan


def whole_problem_optimum(proposals, reviewers, scores, excluded, per_proposal, min_load, max_load):
    """The optimum from HiGHS's branch and bound over every pair at once: an independent check
    of the shortlist-and-price route."""
    pairs = [(p, r) for p in proposals for r in reviewers if (p, r) not in excluded]
    row = {p: i for i, p in enumerate(proposals)}
    column = {r: j for j, r in enumerate(reviewers)}
    by_proposal = sparse.csr_array(
        (np.ones(len(pairs)), ([row[p] for p, _ in pairs], range(len(pairs)))),
        shape=(len(proposals), len(pairs)),
    )
    by_reviewer = sparse.csr_array(
        (np.ones(len(pairs)), ([column[r] for _, r in pairs], range(len(pairs)))),
        shape=(len(reviewers), len(pairs)),
    )
    result = optimize.milp(
        [-scores[pair] for pair in pairs],
        constraints=[
            optimize.LinearConstraint(by_proposal, per_proposal, per_proposal),
            optimize.LinearConstraint(by_reviewer, min_load, max_load),
        ],
        integrality=np.ones(len(pairs)),
        bounds=optimize.Bounds(0, 1),
    )
    return round(-result.fun)


def test_a_short_first_shortlist_still_reaches_the_optimum(monkeypatch):
    """One reviewer per proposal at first, and reviewers everybody wants: pricing rounds have
    to bring in more pairs, and the plan must still be the whole problem's optimum."""
    monkeypatch.setattr(assignment, "FIRST_CANDIDATES", 1)
    shortlists: list[int] = []
    solve = assignment._linear_programme

    def counted(problem, candidates, *rest):
        shortlists.append(int(candidates.sum()))
        return solve(problem, candidates, *rest)

    monkeypatch.setattr(assignment, "_linear_programme", counted)
    priced = 0
    for seed in range(8):
        rng = random.Random(seed)
        proposals, reviewers = list(range(1, 61)), list(range(1, 16))
        appeal = {r: rng.randint(0, 800) for r in reviewers}
        scores = {(p, r): appeal[r] + rng.randint(0, 200) for p in proposals for r in reviewers}
        excluded = {pair for pair in scores if rng.random() < 0.1}
        low, high = balanced_bounds(len(proposals), len(reviewers), 3)
        bounds = {"per_proposal": 3, "min_load": low - seed % 2, "max_load": high + seed % 3}
        shortlists.clear()

        plan = assign(proposals, reviewers, scores, excluded, **bounds)

        check_rules(plan, proposals, reviewers, excluded, bounds)
        optimum = whole_problem_optimum(proposals, reviewers, scores, excluded, **bounds)
        assert plan.total == optimum
        # Priced in more pairs, never all of them:
        priced += len(shortlists) > 1 and max(shortlists) < len(scores) - len(excluded)
    assert priced >= 4


def test_a_proposal_with_too_few_free_reviewers_is_named():
    excluded = {(2, 1), (2, 2)}
    with pytest.raises(InvalidInput) as error:
        assign(
            [1, 2],
            [1, 2, 3],
            {},
            excluded,
            per_proposal=2,
            min_load=0,
            max_load=2,
            proposal_labels={2: "QPTKHCN-2026-000002"},
        )
    assert error.value.params["proposals"] == "QPTKHCN-2026-000002"
    assert "Too few reviewers without a conflict" in error.value.message


@pytest.mark.parametrize(
    ("min_load", "max_load", "field", "words"),
    [
        (0, 1, "max_load", "raise the maximum load to 2"),
        (3, 4, "min_load", "lower the minimum load to 2"),
        (3, 2, "min_load", "between 0 and the maximum load"),
    ],
)
def test_impossible_loads_say_which_bound_to_move(min_load, max_load, field, words):
    with pytest.raises(InvalidInput) as error:
        assign(
            [1, 2, 3], [1, 2, 3], {}, set(), per_proposal=2, min_load=min_load, max_load=max_load
        )
    assert error.value.field == field
    assert words in error.value.message % error.value.params


def test_a_reviewer_who_cannot_reach_the_minimum_load_is_named():
    excluded = {(1, 3), (2, 3), (3, 3)}
    with pytest.raises(InvalidInput) as error:
        assign(
            [1, 2, 3],
            [1, 2, 3],
            {},
            excluded,
            per_proposal=1,
            min_load=1,
            max_load=1,
            reviewer_labels={3: "Phạm Minh Đức"},
        )
    assert error.value.params["reviewers"] == "Phạm Minh Đức"


def test_a_plan_blocked_only_as_a_whole_gives_no_partial_plan():
    # Every count fits, yet proposals 1 and 2 can only have reviewer 1, who takes one.
    excluded = {(1, 2), (1, 3), (2, 2), (2, 3)}
    with pytest.raises(InvalidInput) as error:
        assign([1, 2, 3], [1, 2, 3], {}, excluded, per_proposal=1, min_load=0, max_load=1)
    assert "No plan gives every proposal" in error.value.message


def test_no_proposals_give_an_empty_plan():
    plan = assign([], [1, 2], {}, set(), per_proposal=3, min_load=0, max_load=5)
    assert plan.pairs == ()
    assert plan.total == 0


def test_assignments_already_made_stay_and_count():
    scores = {(p, r): {1: 1000, 2: 20, 3: 10}[r] for p in (1, 2) for r in (1, 2, 3)}
    plan = assign(
        [1, 2], [1, 2, 3], scores, set(), per_proposal=2, min_load=0, max_load=2, kept={(1, 3)}
    )
    assert plan.reviewers_of(1) == (1, 3)  # the kept reviewer stays, one more is added
    assert set(plan.reviewers_of(2)) == {1, 2}
    assert plan.total == 10 + 1000 + 1000 + 20


def test_a_reviewer_kept_beyond_the_maximum_load_is_named():
    with pytest.raises(InvalidInput) as error:
        assign(
            [1, 2],
            [1, 2],
            {},
            set(),
            per_proposal=1,
            min_load=0,
            max_load=1,
            kept={(1, 2), (2, 2)},
            reviewer_labels={2: "Phạm Minh Đức"},
        )
    assert error.value.params["reviewers"] == "Phạm Minh Đức"
    assert "already have more than" in error.value.message
