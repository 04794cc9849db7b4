"""The ranking desk of a call: its submitted proposals with every review and consensus, ranked
against the criteria version ranking uses, the funding line under the call's budget, the
calibrated view beside it, consensus entry and the what-if panel.

`call_review` is the one loader: pages, exports and decisions read the same ranking. It costs a
fixed number of queries whatever the number of proposals (each statement reads the whole call).
Only submitted reviews feed the ranking; drafts are listed so the manager sees where each
proposal stands. When the criteria changed while proposals came in, ranking uses the latest
version and a review with another number of marks is counted as not rankable, never guessed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from typing import Any

from registry import database
from registry.domain.accounts import Actor, Origin
from registry.domain.catalogue import Localized
from registry.domain.consensus import check_consensus
from registry.domain.errors import N_, Conflict, NotFound
from registry.domain.permissions import Target, may_decide
from registry.domain.reviews import AssignmentStatus, ReviewStatus
from registry.domain.scoring import (
    Aggregation,
    Calibration,
    Candidate,
    Criteria,
    FundingLine,
    FundingPolicy,
    Ranked,
    ReviewScores,
    Scenario,
    WhatIf,
    calibrate,
    criteria_from_json,
    funding_line,
    rank,
)
from registry.domain.scoring import what_if as scenario_what_if
from registry.services import audit, scopes
from registry.services.calls import Call, call_from_row
from registry.services.queries import ranking as sql

DECIDED = N_("The outcomes of this call are approved and final: the marks can no longer change.")


@dataclass(frozen=True, slots=True)
class ReviewRow:
    review_id: int
    assignment_id: int
    reviewer_id: int
    reviewer_name: str
    #: Tenths per criterion in the order of the criteria the review was given under; None
    #: where a draft has no mark yet.
    marks: tuple[int | None, ...]
    #: Per criterion, and the overall comment.
    comments: tuple[str, ...]
    overall_comment: str
    status: ReviewStatus
    submitted_at: datetime | None
    #: Submitted, with one mark per criterion of the criteria ranking uses.
    rankable: bool


@dataclass(frozen=True, slots=True)
class ConsensusRow:
    marks: tuple[int, ...]
    justification: str
    entered_by_name: str
    entered_at: datetime


@dataclass(frozen=True, slots=True)
class ProposalRow:
    proposal_id: int
    reference: str
    #: Of the latest submitted version (never the draft).
    title: Localized
    organisation_name: Localized
    requested_vnd: int
    submitted_at: datetime
    technologies: tuple[int, ...]
    version: int
    #: The criteria version in force when the latest version was received.
    criteria_version: int
    #: Every review, drafts included (the manager sees where each stands), in assignment
    #: order; empty when loaded with `call_review(..., reviews=False)`.
    reviews: tuple[ReviewRow, ...]
    consensus: ConsensusRow | None
    #: Reviewers assigned (not declined, no conflict declared).
    assigned: int
    submitted_reviews: int
    #: Submitted reviews left out of the ranking (given under criteria with another number of
    #: criteria).
    not_rankable_reviews: int


@dataclass(frozen=True)
class CallReview:
    """A call's submitted proposals as loaded, and what the domain makes of them: the ranking,
    the funding line and the calibrated view, each computed once, when first asked for (the
    what-if panel needs only the candidates; a decision needs no calibration). Not slotted,
    so those can be cached on the instance."""

    call: Call
    #: The criteria ranking uses: the call's latest frozen version (call.spec.criteria too).
    criteria: Criteria
    aggregation: Aggregation
    policy: FundingPolicy
    #: Every submitted proposal, by id.
    proposals: tuple[ProposalRow, ...]
    #: What the domain ranks (only submitted, rankable reviews; consensus where entered).
    candidates: tuple[Candidate, ...]
    #: Lookup by proposal id.
    by_id: Mapping[int, ProposalRow] = field(repr=False, compare=False)

    @cached_property
    def ranked(self) -> tuple[Ranked, ...]:
        """Eligible in rank order, then eliminated; proposals with nothing to rank are left
        out (`unranked`)."""
        return rank(self.criteria, self.candidates, self.aggregation)

    @cached_property
    def line(self) -> FundingLine:
        requested = {p.proposal_id: p.requested_vnd for p in self.proposals}
        return funding_line(self.ranked, requested, self.budget_vnd, self.policy)

    @cached_property
    def calibration(self) -> Calibration:
        """Display only: never an input to the ranking or the line."""
        return calibrate(self.criteria, self.candidates)

    @cached_property
    def calibrated_rank(self) -> Mapping[int, int]:
        """Display only: the order of the calibrated scores (1 = highest)."""
        by_z = sorted(self.calibration.z_score.items(), key=lambda item: (-item[1], item[0]))
        return {proposal: place for place, (proposal, _) in enumerate(by_z, 1)}

    @cached_property
    def ranked_by_id(self) -> Mapping[int, Ranked]:
        return {r.proposal: r for r in self.ranked}

    def proposal(self, proposal_id: int) -> ProposalRow:
        return self.by_id[proposal_id]

    def ranked_of(self, proposal_id: int) -> Ranked | None:
        """None for a proposal without any rankable review or consensus yet."""
        return self.ranked_by_id.get(proposal_id)

    @cached_property
    def unranked(self) -> tuple[ProposalRow, ...]:
        """Submitted proposals with nothing to rank yet (no submitted rankable review)."""
        return tuple(p for p in self.proposals if p.proposal_id not in self.ranked_by_id)

    @property
    def not_rankable_reviews(self) -> int:
        return sum(p.not_rankable_reviews for p in self.proposals)

    @property
    def budget_vnd(self) -> int:
        return self.call.spec.budget_vnd


def _marks(raw: str | None) -> tuple[Any, ...]:
    return tuple(json.loads(raw)) if raw else ()


#: Assignments that count as a reviewer assigned (not declined, no conflict declared).
_ASSIGNED = frozenset({AssignmentStatus.ASSIGNED, AssignmentStatus.ACCEPTED})


def _assignment_id(item: Any) -> int:
    """The assignment of a ReviewRow or a row: a proposal's reviews are shown in this order."""
    return item.assignment_id if isinstance(item, ReviewRow) else item["assignment_id"]


def _review(row: Any, criteria_count: int) -> ReviewRow:
    marks = _marks(row["marks"])
    status = ReviewStatus(row["status"])
    return ReviewRow(
        review_id=row["id"],
        assignment_id=row["assignment_id"],
        reviewer_id=row["reviewer"],
        reviewer_name=row["reviewer_name"],
        marks=marks,
        comments=tuple(c or "" for c in _marks(row["comments"])),
        overall_comment=row["overall_comment"] or "",
        status=status,
        submitted_at=row["submitted_at"],
        rankable=status == ReviewStatus.SUBMITTED and _rankable(marks, criteria_count),
    )


def _rankable(marks: Sequence[Any], criteria_count: int) -> bool:
    """One whole mark per criterion of the criteria ranking uses."""
    return len(marks) == criteria_count and all(type(m) is int for m in marks)


def _candidate(
    proposal: ProposalRow, scores: tuple[ReviewScores, ...], criteria_count: int
) -> Candidate:
    consensus = proposal.consensus
    return Candidate(
        proposal=proposal.proposal_id,
        requested_vnd=proposal.requested_vnd,
        submitted_at=proposal.submitted_at,
        technologies=frozenset(proposal.technologies),
        reviews=scores,
        consensus=consensus.marks
        if consensus is not None and len(consensus.marks) == criteria_count
        else None,
    )


async def _call(actor: Actor | None, call_id: int) -> tuple[Call, Aggregation, FundingPolicy]:
    row = await database.fetchrow(sql.CALL, call_id)
    if row is None:
        raise NotFound()
    if actor is not None:
        scopes.require(may_decide, actor, Target(fund=row["fund"]))
    return call_from_row(row), Aggregation(row["aggregation"]), FundingPolicy(row["funding_policy"])


async def call_review(actor: Actor, call_id: int, *, reviews: bool = True) -> CallReview:
    """A call's submitted proposals, reviews and consensus, ranked with the funding line and
    the calibrated view, for a manager of its fund (anyone else: NotFound). Four queries,
    whatever the number of proposals.

    `reviews=False` (the ranking page, the what-if panel): every submitted review is ranked,
    but each ProposalRow's `reviews` is left empty (its counts are given), and no comment or
    reviewer's name is read."""
    return await _load(actor, call_id, reviews=reviews)


async def call_review_for_documents(call_id: int) -> CallReview:
    """`call_review` with every review, for the documents a call's approved outcomes get
    (services.decision_content): their issuing was already allowed (services.documents), a
    batch job has no person behind it."""
    return await _load(None, call_id, reviews=True)


async def _load(actor: Actor | None, call_id: int, *, reviews: bool) -> CallReview:
    call, aggregation, policy = await _call(actor, call_id)
    criteria = call.spec.criteria
    count = len(criteria.items)
    consensus = {
        row["proposal"]: ConsensusRow(
            marks=_marks(row["marks"]),
            justification=row["justification"],
            entered_by_name=row["entered_by_name"],
            entered_at=row["entered_at"],
        )
        for row in await database.fetch(sql.CONSENSUS, call_id)
    }
    proposal_rows = await database.fetch(sql.PROPOSALS, call_id)
    assigned: dict[int, int] = {}
    listed: dict[int, list[Any]] = {}  # ReviewRows, or the rows of submitted reviews
    for row in await database.fetch(sql.REVIEWS if reviews else sql.ASSIGNMENTS, call_id):
        proposal_id = row["proposal"]
        if row["assignment_status"] in _ASSIGNED:
            assigned[proposal_id] = assigned.get(proposal_id, 0) + 1
        if reviews and row["status"] is not None:
            listed.setdefault(proposal_id, []).append(_review(row, count))
        elif row["status"] == ReviewStatus.SUBMITTED:
            listed.setdefault(proposal_id, []).append(row)
    proposals: list[ProposalRow] = []
    candidates: list[Candidate] = []
    for row in proposal_rows:
        proposal_id = row["id"]
        own = sorted(listed.get(proposal_id, ()), key=_assignment_id)
        if reviews:
            submitted = [r for r in own if r.status == ReviewStatus.SUBMITTED]
            scores = tuple(ReviewScores(r.reviewer_id, r.marks) for r in submitted if r.rankable)
        else:
            submitted = own
            marks = [(r["reviewer"], json.loads(r["marks"])) for r in own]
            scores = tuple(
                ReviewScores(reviewer, tuple(given))
                for reviewer, given in marks
                if _rankable(given, count)
            )
        proposal = ProposalRow(
            proposal_id=proposal_id,
            reference=row["reference"],
            title=Localized(row["title_vi"] or "", row["title_en"] or None),
            organisation_name=Localized(row["organisation_vi"], row["organisation_en"]),
            requested_vnd=row["requested_vnd"],
            submitted_at=row["received_at"],
            technologies=tuple(row["technologies"]),
            version=row["version"],
            criteria_version=row["criteria_version"],
            reviews=tuple(own) if reviews else (),
            consensus=consensus.get(proposal_id),
            assigned=assigned.get(proposal_id, 0),
            submitted_reviews=len(submitted),
            not_rankable_reviews=len(submitted) - len(scores),
        )
        proposals.append(proposal)
        candidates.append(_candidate(proposal, scores, count))
    return CallReview(
        call=call,
        criteria=criteria,
        aggregation=aggregation,
        policy=policy,
        proposals=tuple(proposals),
        candidates=tuple(candidates),
        by_id={p.proposal_id: p for p in proposals},
    )


async def proposal_review(actor: Actor, proposal_id: int) -> tuple[CallReview, ProposalRow]:
    """One submitted proposal's reviews with their comments, and its call's ranking (without
    comments) for its rank and place on the funding line. NotFound unless the actor decides
    for the proposal's call and the proposal is submitted."""
    call_id = await database.fetchval(sql.SUBMITTED_PROPOSAL_CALL, proposal_id)
    if call_id is None:
        raise NotFound()
    review = await call_review(actor, call_id, reviews=False)
    rows = await database.fetch(sql.PROPOSAL_REVIEWS, call_id, proposal_id)
    count = len(review.criteria.items)
    reviews = sorted(
        (_review(row, count) for row in rows if row["status"] is not None), key=_assignment_id
    )
    proposal = replace(review.proposal(proposal_id), reviews=tuple(reviews))
    return review, proposal


async def what_if(actor: Actor, call_id: int, scenario: Scenario) -> WhatIf:
    """How the funding line would move under other weights, thresholds, budget or policy.
    Nothing is saved. InvalidForm for a scenario out of range (fields as the call form's)."""
    return what_if_for(await call_review(actor, call_id, reviews=False), scenario)


def what_if_for(review: CallReview, scenario: Scenario) -> WhatIf:
    """`what_if` on a ranking already loaded (the page loads it to read the panel's fields)."""
    return scenario_what_if(
        review.criteria,
        review.candidates,
        review.aggregation,
        review.budget_vnd,
        review.policy,
        scenario,
    )


# Consensus ------------------------------------------------------------------------------------


async def _consensus_target(actor: Actor, proposal_id: int) -> tuple[Any, Criteria]:
    """The submitted proposal, locked, for a manager of its call's fund; its criteria."""
    row = await database.fetchrow(sql.CONSENSUS_TARGET, proposal_id)
    if row is None:
        raise NotFound()
    scopes.require(may_decide, actor, Target(fund=row["fund"]))
    if row["status"] != "submitted":
        raise NotFound()
    if row["decided"]:
        raise Conflict(DECIDED)
    return row, criteria_from_json(json.loads(row["criteria"]))


async def enter_consensus(
    actor: Actor,
    proposal_id: int,
    marks: tuple[int | None, ...],
    justification: str,
    origin: Origin,
) -> None:
    """Record (or replace) the marks the panel agreed for a proposal, with why; they replace
    the aggregate of the reviews in the ranking. InvalidForm (nothing saved) for a mark off
    its criterion's scale or a missing justification."""
    async with database.transaction():
        _, criteria = await _consensus_target(actor, proposal_id)
        checked, text = check_consensus(criteria, marks, justification)
        before = await database.fetchrow(sql.CURRENT_CONSENSUS, proposal_id)
        await database.execute(
            sql.SAVE_CONSENSUS, proposal_id, json.dumps(list(checked)), text, actor.account_id
        )
        await audit.record(
            "consensus.entered",
            f"proposal:{proposal_id}",
            actor=actor,
            origin=origin,
            before=_summary(before) if before else None,
            after={"marks": list(checked), "justification": text},
        )


async def clear_consensus(actor: Actor, proposal_id: int, origin: Origin) -> bool:
    """Remove a proposal's consensus: the aggregate of the reviews counts again. False (and
    nothing recorded) when there was none."""
    async with database.transaction():
        await _consensus_target(actor, proposal_id)
        removed = await database.fetchrow(sql.CLEAR_CONSENSUS, proposal_id)
        if removed is None:
            return False
        await audit.record(
            "consensus.cleared",
            f"proposal:{proposal_id}",
            actor=actor,
            origin=origin,
            before=_summary(removed),
        )
    return True


def _summary(row: Any) -> dict[str, Any]:
    return {"marks": list(_marks(row["marks"])), "justification": row["justification"]}
