"""The ranking desk against the real database: one call's proposals ranked from their submitted
reviews (medians or means, as the call says), the funding line under the budget (stop or skip),
thresholds that eliminate, ties and the rule that broke them, reviews under other criteria left
out, consensus entry (validated, audited, replacing the aggregate) and the what-if panel that
saves nothing, for the fund's managers only, at a fixed number of queries."""

from __future__ import annotations

from fractions import Fraction

import pytest

from registry.domain.accounts import Role
from registry.domain.errors import Conflict, InvalidForm, NotFound
from registry.domain.reviews import ReviewStatus
from registry.domain.scoring import Line, Scenario, TieBreak
from registry.services import ranking
from tests.factories import (
    ORIGIN,
    add_review,
    counted_queries,
    inserted_proposals,
    open_call,
    person,
    reviewed_proposals,
)

pytestmark = pytest.mark.integration

BILLION = 1_000_000_000

#: Each proposal's requested amount and its reviewers' marks (tenths; Horizon RIA criteria:
#: Excellence, Impact, Implementation; thresholds 3 each and 10 overall; budget 3 billion).
PLAN = {
    # Medians (40, 45, 40) = 125; Excellence spreads 2 points: a disagreement.
    "strong": (1_200_000_000, [[50, 45, 40], [40, 45, 40], [30, 40, 45]]),
    "good A": (BILLION, [[40, 30, 30]] * 3),  # 100, ties with good B: higher Excellence
    "good B": (BILLION, [[30, 40, 30]] * 3),  # 100: does not fit after strong and good A
    "small": (500_000_000, [[30, 30, 40]] * 3),  # 100, last of the tie; fits if skipping
    "fails impact": (500_000_000, [[50, 20, 50]] * 3),  # 120, but Impact below 3
    "unreviewed": (BILLION, []),
}


@pytest.fixture
async def desk(db, database_url, make_person):
    """A closed NAFOSTED call with PLAN's proposals and reviews, its manager and reviewers."""
    fund_id = await db.fetchval("SELECT id FROM fund WHERE code = 'nafosted'")
    organisation = await db.fetchval("SELECT id FROM organisation WHERE code = 'vast'")
    manager = await person(database_url, (Role.FUND_MANAGER, "nafosted"))
    applicant = await person(database_url, (Role.APPLICANT, "vast"))
    call_id = await open_call(manager, fund_id, budget_vnd=3 * BILLION)
    reviewers = [(await make_person((Role.REVIEWER, None))).id for _ in range(3)]
    proposal = await reviewed_proposals(
        db, call_id, organisation, applicant.account_id, PLAN, reviewers
    )
    # The unreviewed one has a draft under way: listed, never ranked.
    await add_review(db, proposal["unreviewed"], reviewers[0], [40, None, None], status="draft")
    return {
        "call_id": call_id,
        "manager": manager,
        "applicant": applicant,
        "reviewers": reviewers,
        "proposal": proposal,
        "organisation": organisation,
    }


async def test_the_ranking_funds_down_the_list_and_eliminates_below_thresholds(desk):
    review = await ranking.call_review(desk["manager"], desk["call_id"])
    p = desk["proposal"]
    assert [r.proposal for r in review.ranked] == [
        p["strong"],
        p["good A"],
        p["good B"],
        p["small"],
        p["fails impact"],
    ]
    strong = review.ranked_of(p["strong"])
    assert strong.marks == (40, 45, 40)
    assert strong.rank == 1
    # The tie at 10 points: Excellence decides, then Impact (the call's criterion order).
    assert review.ranked_of(p["good A"]).separated_by is None  # a lower score than strong
    assert review.ranked_of(p["good B"]).separated_by == TieBreak.CRITERION_ORDER
    assert review.ranked_of(p["small"]).separated_by == TieBreak.CRITERION_ORDER
    # Stop at the first that does not fit: good B and everything after are the reserve.
    assert review.line.funded == (p["strong"], p["good A"])
    assert review.line.funded_vnd == 2_200_000_000
    assert review.line.reserve == (p["good B"], p["small"])
    failed = review.ranked_of(p["fails impact"])
    assert failed.rank is None
    assert failed.failed == (1,)
    assert review.line.of(p["fails impact"]).line == Line.ELIMINATED
    # Unreviewed: listed with its draft review, not ranked.
    assert [row.proposal_id for row in review.unranked] == [p["unreviewed"]]
    unreviewed = review.proposal(p["unreviewed"])
    assert [r.status for r in unreviewed.reviews] == [ReviewStatus.DRAFT]
    assert (unreviewed.submitted_reviews, unreviewed.assigned) == (0, 1)
    row = review.proposal(p["strong"])
    assert (row.submitted_reviews, row.assigned) == (3, 3)
    assert row.requested_vnd == 1_200_000_000
    assert row.title.vi == "Đề xuất 0"
    assert row.reviews[0].comments == ("Nhận xét 50", "Nhận xét 45", "Nhận xét 40")
    # Calibration sits beside, for information: a disagreement on Excellence for strong.
    assert review.calibration.disagreements[p["strong"]] == (0,)
    assert set(review.calibration.z_score) == {r.proposal for r in review.ranked}


async def test_the_call_chooses_mean_or_median_and_stop_or_skip(desk, db):
    await db.execute(
        "UPDATE call SET aggregation = 'mean', funding_policy = 'skip' WHERE id = $1",
        desk["call_id"],
    )
    review = await ranking.call_review(desk["manager"], desk["call_id"])
    p = desk["proposal"]
    assert review.ranked_of(p["strong"]).marks == (40, Fraction(130, 3), Fraction(125, 3))
    # Skipping good B (1 billion does not fit in the 0.8 left), small (0.5) still does.
    assert review.line.funded == (p["strong"], p["good A"], p["small"])
    assert review.line.reserve == (p["good B"],)


async def test_only_the_funds_managers_see_the_ranking(desk, database_url):
    others = [
        await person(database_url, (Role.FUND_MANAGER, "natif")),
        await person(database_url, (Role.REVIEWER, None)),
        desk["applicant"],
        await person(database_url, (Role.ADMIN, None)),
    ]
    for other in others:
        with pytest.raises(NotFound):
            await ranking.call_review(other, desk["call_id"])
        with pytest.raises(NotFound):
            await ranking.proposal_review(other, desk["proposal"]["strong"])
        with pytest.raises(NotFound):
            await ranking.what_if(other, desk["call_id"], Scenario(budget_vnd=BILLION))
        with pytest.raises(NotFound):
            await ranking.enter_consensus(
                other, desk["proposal"]["strong"], (50, 50, 50), "Thống nhất", ORIGIN
            )
    with pytest.raises(NotFound):
        await ranking.call_review(desk["manager"], 2_000_000_000)


async def test_reviews_under_another_number_of_criteria_are_not_ranked(desk, db, make_person):
    p = desk["proposal"]
    reviewer = await make_person((Role.REVIEWER, None))
    await add_review(db, p["unreviewed"], reviewer.id, [50, 50], criteria_version=0)
    review = await ranking.call_review(desk["manager"], desk["call_id"])
    assert review.not_rankable_reviews == 1
    assert review.ranked_of(p["unreviewed"]) is None
    row = review.proposal(p["unreviewed"])
    assert [r.rankable for r in row.reviews] == [False, False]  # a draft, and two marks


async def test_consensus_replaces_the_aggregate_keeps_the_reviews_and_is_audited(desk, db):
    manager, p = desk["manager"], desk["proposal"]
    await ranking.enter_consensus(
        manager, p["good B"], (50, 45, 50), "  Hội đồng thống nhất sau thảo luận.  ", ORIGIN
    )
    review, row = await ranking.proposal_review(manager, p["good B"])
    assert review.ranked[0].proposal == p["good B"]
    assert review.ranked_of(p["good B"]).marks == (50, 45, 50)
    assert row.consensus.marks == (50, 45, 50)
    assert row.consensus.justification == "Hội đồng thống nhất sau thảo luận."
    assert row.consensus.entered_by_name == manager.display_name
    assert len(row.reviews) == 3  # individual reviews stay, with their comments
    assert row.reviews[0].comments == ("Nhận xét 30", "Nhận xét 40", "Nhận xét 30")
    event = await db.fetchrow(
        "SELECT actor, action, summary::text FROM audit.event WHERE object_ref = $1 "
        "ORDER BY seq DESC LIMIT 1",
        f"proposal:{p['good B']}",
    )
    assert event["action"] == "consensus.entered"
    assert event["actor"] == manager.ref
    assert "[50, 45, 50]" in event["summary"]

    assert await ranking.clear_consensus(manager, p["good B"], ORIGIN) is True
    review = await ranking.call_review(manager, desk["call_id"])
    assert review.ranked_of(p["good B"]).marks == (30, 40, 30)
    assert review.proposal(p["good B"]).consensus is None
    last = await db.fetchval(
        "SELECT action FROM audit.event WHERE object_ref = $1 ORDER BY seq DESC LIMIT 1",
        f"proposal:{p['good B']}",
    )
    assert last == "consensus.cleared"
    assert await ranking.clear_consensus(manager, p["good B"], ORIGIN) is False


@pytest.mark.parametrize(
    ("marks", "justification", "field"),
    [
        ((55, 30, 30), "Thống nhất", "consensus-0"),  # above the scale
        ((30, 33, 30), "Thống nhất", "consensus-1"),  # off the step of 0.5
        ((30, 30, None), "Thống nhất", "consensus-2"),
        ((30, 30, 30), " \n ", "justification"),
        ((30, 30), "Thống nhất", "consensus-0"),  # not one mark per criterion
        ((30, 30, 30), "x" * 5001, "justification"),
    ],
)
async def test_bad_consensus_is_refused_and_nothing_is_saved(desk, db, marks, justification, field):
    proposal = desk["proposal"]["good A"]
    events = await db.fetchval("SELECT count(*) FROM audit.event")
    with pytest.raises(InvalidForm) as refused:
        await ranking.enter_consensus(desk["manager"], proposal, marks, justification, ORIGIN)
    assert field in {problem.field for problem in refused.value.problems}
    assert (
        await db.fetchval("SELECT count(*) FROM review_consensus WHERE proposal = $1", proposal)
        == 0
    )
    assert await db.fetchval("SELECT count(*) FROM audit.event") == events


async def test_consensus_is_refused_once_the_outcomes_are_approved(desk, db):
    await db.execute(
        "INSERT INTO call_decision (call, status, budget_vnd, funded_vnd, basis, proposed_by) "
        "VALUES ($1, 'approved', 0, 0, '{}', $2)",
        desk["call_id"],
        desk["manager"].account_id,
    )
    with pytest.raises(Conflict):
        await ranking.enter_consensus(
            desk["manager"], desk["proposal"]["good A"], (50, 50, 50), "Thống nhất", ORIGIN
        )


async def test_what_if_shows_who_enters_and_leaves_and_saves_nothing(desk, db):
    p = desk["proposal"]

    async def state() -> tuple:
        return (
            await db.fetchval("SELECT max(seq) FROM audit.event"),
            await db.fetchval("SELECT count(*) FROM review_consensus"),
            await db.fetchval("SELECT string_agg(marks::text, ';' ORDER BY id) FROM review"),
            tuple(
                await db.fetchrow(
                    "SELECT budget_vnd, criteria::text, row_version, aggregation, funding_policy "
                    "FROM call WHERE id = $1",
                    desk["call_id"],
                )
            ),
        )

    before = await state()
    # Implementation weighs 3 times: small (4 on it) climbs above good A and good B.
    moved = await ranking.what_if(
        desk["manager"], desk["call_id"], Scenario(weights=(1000, 1000, 3000))
    )
    assert moved.before.funded == (p["strong"], p["good A"])
    assert moved.after.funded == (p["strong"], p["small"], p["good A"])
    assert moved.entered == (p["small"],)
    assert moved.left == ()
    assert moved.ranks(p["small"]) == (4, 2)
    # A lower Impact threshold lets "fails impact" in, a smaller budget pushes good A out.
    changed = await ranking.what_if(
        desk["manager"],
        desk["call_id"],
        Scenario(thresholds=(30, 20, 30), budget_vnd=2 * BILLION),
    )
    assert changed.after.funded == (p["strong"], p["fails impact"])
    assert changed.entered == (p["fails impact"],)
    assert changed.left == (p["good A"],)
    assert await state() == before


async def test_the_ranking_costs_the_same_queries_for_3_or_30_proposals(
    db, database_url, make_person
):
    fund_id = await db.fetchval("SELECT id FROM fund WHERE code = 'nafosted'")
    organisation = await db.fetchval("SELECT id FROM organisation WHERE code = 'vast'")
    manager = await person(database_url, (Role.FUND_MANAGER, "nafosted"))
    submitter = await make_person((Role.APPLICANT, "vast"))
    reviewers = [(await make_person((Role.REVIEWER, None))).id for _ in range(3)]
    counts = []
    for size in (3, 30):
        call_id = await open_call(manager, fund_id)
        ids = await inserted_proposals(db, call_id, organisation, submitter.id, [BILLION] * size)
        for index, proposal in enumerate(ids):
            for reviewer in reviewers:
                await add_review(db, proposal, reviewer, [30 + index % 20, 40, 35])
        await ranking.enter_consensus(manager, ids[0], (50, 50, 50), "Thống nhất", ORIGIN)
        with counted_queries() as run:
            review = await ranking.call_review(manager, call_id)
            assert len(review.ranked) == size
        with counted_queries() as lean:
            marks_only = await ranking.call_review(manager, call_id, reviews=False)
            assert marks_only.ranked == review.ranked
        counts.append((len(run), len(lean)))
    # The call, consensus marks, proposals, reviews (or only their marks, for the page).
    assert counts[0] == counts[1] == (4, 4), counts
