"""A call's decision: a fund manager proposes every submitted proposal's outcome, a second
manager of the fund approves it (two-person rule), and approved outcomes are final.

Proposing checks the outcomes against the funding line (`domain.decisions.check`) and keeps
a digest of the ranking they were proposed on; approving recomputes it and refuses when a
review changed in between, so nobody approves outcomes proposed on a ranking that no longer
holds. Each step is one transaction and one audit event.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from registry import database
from registry.domain.accounts import Actor, Origin
from registry.domain.decisions import (
    Choice,
    Preview,
    Standing,
    check,
    preview_of,
    suggested_choices,
)
from registry.domain.errors import Conflict, NotAllowed, NotFound
from registry.domain.reviews import DecisionStatus, OutcomeKind
from registry.domain.scoring import Line
from registry.services import audit, calls, clock, public_record, ranking
from registry.services.queries import decisions as sql

SUGGESTION = {
    Line.FUNDED: OutcomeKind.FUNDED,
    Line.RESERVE: OutcomeKind.RESERVE,
    Line.ELIMINATED: OutcomeKind.REJECTED,
}
RANKING_CHANGED = (
    "The ranking changed since these outcomes were proposed (a review was submitted, reopened"
    " or a consensus entered). Propose the outcomes again."
)


@dataclass(frozen=True, slots=True)
class Decision:
    """The live (proposed or approved) decision of a call."""

    id: int
    status: DecisionStatus
    preview: Preview
    proposed_by: int
    proposed_by_name: str
    proposed_at: datetime
    approved_by_name: str | None
    approved_at: datetime | None
    #: The ranking it was proposed on still holds (approving is possible).
    current: bool

    @property
    def final(self) -> bool:
        return self.status == DecisionStatus.APPROVED


@dataclass(frozen=True, slots=True)
class DecisionDesk:
    """What the decision page shows: the standings, the live decision if any, and the
    choices to start a new proposal from."""

    review: ranking.CallReview
    standings: tuple[Standing, ...]
    decision: Decision | None

    @property
    def unranked(self) -> tuple[str, ...]:
        """References of submitted proposals with no submitted review and no consensus: no
        outcome can be given to them yet."""
        return tuple(p.reference for p in self.review.unranked)

    def suggested(self) -> tuple[Choice, ...]:
        return suggested_choices(self.standings)


def standings(review: ranking.CallReview) -> tuple[Standing, ...]:
    """Each ranked proposal where the funding line put it."""
    return tuple(
        Standing(
            entry.ranked.proposal,
            review.proposal(entry.ranked.proposal).reference,
            review.proposal(entry.ranked.proposal).requested_vnd,
            entry.ranked.rank,
            SUGGESTION[entry.line],
        )
        for entry in review.line.entries
    )


def _digest(rows: tuple[Standing, ...]) -> str:
    text = json.dumps(
        [[s.proposal, s.rank, s.requested_vnd, str(s.suggested)] for s in rows],
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode()).hexdigest()


async def desk(actor: Actor, call_id: int) -> DecisionDesk:
    review = await ranking.call_review(actor, call_id)
    rows = standings(review)
    live = await database.fetchrow(sql.LIVE_DECISION, call_id)
    decision = None
    if live is not None:
        outcomes = await database.fetch(sql.OUTCOMES, live["id"])
        choices = tuple(
            Choice(o["proposal"], OutcomeKind(o["outcome"]), o["amount_vnd"], o["reason"])
            for o in outcomes
        )
        decision = Decision(
            id=live["id"],
            status=DecisionStatus(live["status"]),
            preview=preview_of(rows, choices, live["budget_vnd"]),
            proposed_by=live["proposed_by"],
            proposed_by_name=live["proposed_by_name"],
            proposed_at=live["proposed_at"],
            approved_by_name=live["approved_by_name"],
            approved_at=live["approved_at"],
            current=json.loads(live["basis"]).get("standings_sha256") == _digest(rows),
        )
    return DecisionDesk(review, rows, decision)


def preview(desk_: DecisionDesk, choices: list[Choice]) -> Preview:
    """The outcomes as they would be proposed, checked; saves nothing."""
    return check(desk_.standings, choices, desk_.review.line.budget_vnd)


async def propose(actor: Actor, call_id: int, choices: list[Choice], origin: Origin) -> int:
    """Propose the call's outcomes, replacing any earlier proposal not yet approved."""
    at = clock.arrival(origin)
    async with database.transaction():
        await calls.managed_call(actor, call_id, lock=True)
        current = await desk(actor, call_id)
        if current.decision is not None and current.decision.final:
            raise Conflict("This call's outcomes are approved and final.")
        if current.unranked:
            raise Conflict(
                "Some proposals have no submitted review yet: %(refs)s.",
                refs=", ".join(current.unranked),
            )
        checked = preview(current, choices)
        replaced = await database.fetch(sql.WITHDRAW_PROPOSED, call_id)
        rank = {s.proposal: s.rank for s in current.standings}
        basis = _basis(current)
        decision_id = await database.fetchval(
            sql.INSERT_DECISION,
            call_id,
            checked.budget_vnd,
            checked.funded_vnd,
            json.dumps(basis),
            actor.account_id,
            at,
        )
        await database.execute(
            sql.INSERT_OUTCOMES,
            decision_id,
            [c.proposal for c in checked.choices],
            [str(c.outcome) for c in checked.choices],
            [c.amount_vnd for c in checked.choices],
            [c.reason.strip() for c in checked.choices],
            [rank[c.proposal] for c in checked.choices],
        )
        await audit.record(
            "decision.proposed",
            f"call_decision:{decision_id}",
            actor=actor,
            origin=origin,
            before={"replaced": [r["id"] for r in replaced]} if replaced else None,
            after=_summary(checked) | {"call": call_id},
        )
    return decision_id


def _basis(current: DecisionDesk) -> dict[str, Any]:
    review = current.review
    return {
        "criteria_version": review.call.criteria_version,
        "aggregation": str(review.aggregation),
        "policy": str(review.policy),
        "standings_sha256": _digest(current.standings),
    }


def _summary(checked: Preview) -> dict[str, Any]:
    return {
        "funded": checked.count(OutcomeKind.FUNDED),
        "reserve": checked.count(OutcomeKind.RESERVE),
        "rejected": checked.count(OutcomeKind.REJECTED),
        "funded_vnd": checked.funded_vnd,
        "budget_vnd": checked.budget_vnd,
        "departures": sorted(checked.departures),
    }


async def _proposed(actor: Actor, call_id: int, decision_id: int) -> DecisionDesk:
    """The call's desk, locked, whose live decision is `decision_id` and still proposed."""
    await calls.managed_call(actor, call_id, lock=True)
    current = await desk(actor, call_id)
    if current.decision is None or current.decision.id != decision_id:
        raise Conflict("These outcomes were replaced or withdrawn. Reload the page.")
    if current.decision.final:
        raise Conflict("This call's outcomes are approved and final.")
    return current


async def approve(actor: Actor, call_id: int, decision_id: int, origin: Origin) -> None:
    """Approve the proposed outcomes: another manager of the fund than the proposer."""
    at = clock.arrival(origin)
    async with database.transaction():
        current = await _proposed(actor, call_id, decision_id)
        decision = current.decision
        assert decision is not None
        if decision.proposed_by == actor.account_id:
            raise NotAllowed(
                "You proposed these outcomes: another manager of the fund must approve them."
            )
        if not decision.current:
            raise Conflict(RANKING_CHANGED)
        await database.execute(sql.APPROVE, decision_id, actor.account_id, at)
        projects = await public_record.publish(decision_id, at, current.review, decision.preview)
        await audit.record(
            "decision.approved",
            f"call_decision:{decision_id}",
            actor=actor,
            origin=origin,
            before={"status": str(DecisionStatus.PROPOSED)},
            after={"status": str(DecisionStatus.APPROVED), "call": call_id}
            | _summary(decision.preview)
            | {"projects": list(projects)},
        )


async def withdraw(actor: Actor, call_id: int, decision_id: int, origin: Origin) -> None:
    """Withdraw proposed outcomes (any manager of the fund), before approval."""
    async with database.transaction():
        await _proposed(actor, call_id, decision_id)
        await database.execute(sql.WITHDRAW, decision_id)
        await audit.record(
            "decision.withdrawn",
            f"call_decision:{decision_id}",
            actor=actor,
            origin=origin,
            before={"status": str(DecisionStatus.PROPOSED)},
            after={"status": str(DecisionStatus.WITHDRAWN), "call": call_id},
        )


async def approved_outcomes(actor: Actor, call_id: int) -> Decision:
    """The call's approved decision (for exports and decision documents)."""
    current = await desk(actor, call_id)
    if current.decision is None or not current.decision.final:
        raise NotFound()
    return current.decision
