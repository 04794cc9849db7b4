"""Assigning reviewers to a call's proposals: automatically (the plan of greatest affinity
under the conflict rules and the manager's load bounds) or by hand, and removing them.

The facts come from the submitted versions (organisation, principal investigator, team), the
fund's pool (reviewers who accepted: fields, keywords, ORCID iD, organisation, applicant
roles), their declared relations, and every version submitted in the last three years (who
applied together). The rules are pure (domain.conflicts, domain.assignment); this module
gathers, decides in one transaction per action, audits it and queues the invitations.

Only the call's fund's managers reach any of it (`may_manage_call`; others get NotFound).
Every change of one call's assignments first locks the call, so loads are never planned on
twice at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from registry import database
from registry.domain import assignment, conflicts
from registry.domain.accounts import Actor, Origin
from registry.domain.catalogue import Localized
from registry.domain.clock import VIETNAM
from registry.domain.errors import Conflict, ConflictOfInterestFound, InvalidInput, NotFound
from registry.domain.permissions import Target, may_manage_call
from registry.domain.proposals import proposal_reference
from registry.domain.reviews import AssignmentStatus
from registry.i18n import N_
from registry.services import audit, calls, clock, reviews, scopes
from registry.services.calls import Call
from registry.services.queries import assignments as sql

#: Assignments that hold a place: the reviewer was asked and has not said no.
LIVE = frozenset({AssignmentStatus.ASSIGNED, AssignmentStatus.ACCEPTED})
NOT_IN_POOL = N_("This person is not among the reviewers who joined the fund's pool.")


# What pages show ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Assigned:
    """A reviewer asked to review a proposal."""

    reviewer_id: int
    name: str
    status: str  # domain.reviews.AssignmentStatus
    affinity: int
    shared_terms: tuple[str, ...]
    source: str  # auto or manual
    #: Conflicts found now (a relation declared after the assignment, a new version...).
    conflicts: tuple[conflicts.ConflictOfInterest, ...]
    #: A review was started: the assignment can no longer be removed.
    has_review: bool

    @property
    def live(self) -> bool:
        return self.status in LIVE


@dataclass(frozen=True, slots=True)
class ProposalRow:
    proposal_id: int
    reference: str
    title: str
    organisation: Localized
    assigned: tuple[Assigned, ...]
    missing: int  # reviewers still to find


@dataclass(frozen=True, slots=True)
class PoolReviewer:
    reviewer_id: int
    name: str
    load: int  # live assignments in this call


@dataclass(frozen=True, slots=True)
class Board:
    call: Call
    per_proposal: int
    proposals: tuple[ProposalRow, ...]
    pool: tuple[PoolReviewer, ...]
    #: The default load bounds: the average load, rounded down and up (None: no reviewers).
    bounds: tuple[int, int] | None


@dataclass(frozen=True, slots=True)
class CandidateCheck:
    """What a manager learns about a reviewer before asking them to review a proposal."""

    proposal_id: int
    reviewer_id: int
    name: str
    conflicts: tuple[conflicts.ConflictOfInterest, ...]
    affinity: assignment.Affinity
    #: The assignment's status when the reviewer was already asked, else None.
    already: str | None


@dataclass(frozen=True, slots=True)
class ProposalAssignments:
    call_id: int
    call_title: Localized
    proposal: ProposalRow
    per_proposal: int
    #: Pool reviewers not yet asked, best affinity first, conflicted ones last.
    candidates: tuple[CandidateCheck, ...]


@dataclass(frozen=True, slots=True)
class AutoResult:
    added: int
    total_affinity: int  # of the whole plan, kept assignments included
    min_load: int
    max_load: int


# Gathering the facts --------------------------------------------------------------------------


def _today(origin: Origin | None) -> dt.date:
    moment = clock.arrival(origin) if origin is not None else clock.now()
    return moment.astimezone(VIETNAM).date()


def _people(draft: dict[str, Any]) -> tuple[conflicts.Person, ...]:
    """The principal investigator and the team of a submitted draft."""
    found = [conflicts.Person(draft.get("pi_name") or "", draft.get("pi_orcid") or "")]
    found += [
        conflicts.Person(member.get("name") or "", member.get("orcid") or "")
        for member in draft.get("team") or ()
    ]
    return tuple(p for p in found if p.name or p.orcid)


@dataclass(frozen=True, slots=True)
class _Proposal:
    id: int
    reference: str
    title: str
    organisation_name: Localized
    facts: conflicts.ProposalFacts
    profile: assignment.ProposalProfile


def _proposal(row: Any, fund_code: str) -> _Proposal:
    draft = json.loads(row["draft"]) if row["draft"] else {}
    title = draft.get("title_vi") or ""
    abstract = " ".join(
        text for text in (draft.get("abstract_vi"), draft.get("title_en"), draft.get("abstract_en"))
        if text
    )  # fmt: skip
    return _Proposal(
        id=row["id"],
        reference=proposal_reference(fund_code, row["created_at"].year, row["id"]),
        title=title,
        organisation_name=Localized(row["organisation_vi"], row["organisation_en"]),
        facts=conflicts.ProposalFacts(row["id"], row["organisation"], _people(draft)),
        profile=assignment.ProposalProfile(
            row["id"], frozenset(draft.get("technologies") or ()), title, abstract
        ),
    )


@dataclass(frozen=True, slots=True)
class _Reviewer:
    id: int
    name: str
    facts: conflicts.ReviewerFacts
    profile: assignment.ReviewerProfile


async def _pool(fund_id: int, call_id: int, reviewer_id: int | None = None) -> list[_Reviewer]:
    """The fund's reviewers (or the one asked for), with relations and past work."""
    rows = await database.fetch(sql.POOL, fund_id, reviewer_id)
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    relations: dict[int, list[Any]] = {}
    for relation in await database.fetch(sql.RELATIONS, ids):
        relations.setdefault(relation["reviewer"], []).append(relation)
    by_orcid = {conflicts.orcid_key(r["orcid"]): r["id"] for r in rows if r["orcid"]}
    past: dict[int, list[str]] = {}
    for work in await database.fetch(sql.PAST_WORK, ids, sorted(by_orcid), call_id):
        owners = {work["created_by"]} | {
            by_orcid[orcid]
            for orcid in (work["pi_orcid"], *work["team_orcids"])
            if orcid in by_orcid
        }
        text = f"{work['title_vi'] or ''}. {work['abstract_vi'] or ''}"
        for owner in owners & set(ids):
            past.setdefault(owner, []).append(text)
    found = []
    for row in rows:
        declared = relations.get(row["id"], [])
        facts = conflicts.ReviewerFacts(
            account=row["id"],
            name=row["display_name"],
            orcid=row["orcid"],
            organisation=row["organisation"],
            member_of=frozenset(row["member_of"]),
            declared_organisations=frozenset(
                d["organisation"] for d in declared if d["organisation"] is not None
            ),
            declared_people=tuple(
                conflicts.Person(d["person_name"], d["person_orcid"])
                for d in declared
                if d["person_name"] or d["person_orcid"]
            ),
        )
        profile = assignment.ReviewerProfile(
            account=row["id"],
            fields=frozenset(row["expertise"] or ()),
            keywords=row["keywords"] or "",
            past=tuple(past.get(row["id"], ())),
        )
        found.append(_Reviewer(row["id"], row["display_name"], facts, profile))
    return found


async def _history(today: dt.date) -> conflicts.History:
    """Every version submitted in the last three years, as collaborations."""
    since = dt.datetime.combine(
        conflicts.years_before(today, conflicts.COLLABORATION_YEARS), dt.time(), VIETNAM
    )
    found = []
    for row in await database.fetch(sql.COLLABORATIONS, since):
        team = json.loads(row["team"]) if row["team"] else []
        people = _people({"pi_name": row["pi_name"], "pi_orcid": row["pi_orcid"], "team": team})
        found.append(
            conflicts.Collaboration(
                organisation=row["organisation"],
                people=people,
                on=row["received_at"].astimezone(VIETNAM).date(),
                label=row["receipt_no"],
                accounts=frozenset({row["created_by"], row["submitted_by"]}),
                proposal=row["proposal"],
            )
        )
    return conflicts.History.of(found)


async def _technology_names() -> dict[int, str]:
    return {r["id"]: r["name_vi"] for r in await database.fetch(sql.TECHNOLOGY_NAMES)}


def _common_terms(proposals: Iterable[_Proposal]) -> frozenset[str]:
    """Boilerplate of this call's proposals: neither scores nor explains."""
    return assignment.common_terms(f"{p.profile.title}\n{p.profile.abstract}" for p in proposals)


async def _call_proposals(call: Call) -> list[_Proposal]:
    rows = await database.fetch(sql.SUBMITTED_PROPOSALS, call.id)
    return [_proposal(row, call.fund_code) for row in rows]


def _reasons(found: Iterable[conflicts.ConflictOfInterest]) -> tuple[tuple[str, dict], ...]:
    return tuple((c.message, dict(c.params)) for c in found)


# The board ------------------------------------------------------------------------------------


async def board(actor: Actor, call_id: int) -> Board:
    """The call's submitted proposals with their reviewers, the pool and its loads."""
    call = await calls.managed_call(actor, call_id)
    proposals = await _call_proposals(call)
    reviewers = await _pool(call.fund_id, call.id)
    rows = await database.fetch(sql.CALL_ASSIGNMENTS, call.id)
    history = await _history(_today(None))
    clashes = await asyncio.to_thread(
        conflicts.conflicted_pairs,
        [r.facts for r in reviewers],
        [p.facts for p in proposals],
        history,
        _today(None),
    )
    by_proposal: dict[int, list[Assigned]] = {}
    loads = dict.fromkeys((r.id for r in reviewers), 0)
    for row in rows:
        made = _assigned(row, clashes.get((row["proposal"], row["reviewer"]), ()))
        by_proposal.setdefault(row["proposal"], []).append(made)
        if made.live and row["reviewer"] in loads:
            loads[row["reviewer"]] += 1
    per_proposal = call.spec.reviewers_per_proposal
    table = tuple(
        ProposalRow(
            proposal_id=p.id,
            reference=p.reference,
            title=p.title,
            organisation=p.organisation_name,
            assigned=tuple(by_proposal.get(p.id, ())),
            missing=max(0, per_proposal - sum(a.live for a in by_proposal.get(p.id, ()))),
        )
        for p in proposals
    )
    return Board(
        call=call,
        per_proposal=per_proposal,
        proposals=table,
        pool=tuple(PoolReviewer(r.id, r.name, loads[r.id]) for r in reviewers),
        bounds=(
            assignment.balanced_bounds(len(proposals), len(reviewers), per_proposal)
            if reviewers
            else None
        ),
    )


def _assigned(row: Any, found: Sequence[conflicts.ConflictOfInterest]) -> Assigned:
    return Assigned(
        reviewer_id=row["reviewer"],
        name=row["display_name"],
        status=row["status"],
        affinity=row["affinity"],
        shared_terms=tuple(row["shared_terms"] or ()),
        source=row["source"],
        conflicts=tuple(found),
        has_review=row["has_review"],
    )


# Automatic assignment -------------------------------------------------------------------------


async def auto_assign(
    actor: Actor, call_id: int, min_load: int | None, max_load: int | None, origin: Origin
) -> AutoResult:
    """Give every submitted proposal of the call the call's number of reviewers from the
    fund's pool: never a conflicted, declined or already asked pair, each reviewer's load
    (assignments kept included) within the bounds (balanced when not given), with the
    greatest total affinity. One transaction: all new assignments or none, one audit event
    listing them, one invitation per reviewer."""
    call = await calls.managed_call(actor, call_id)
    today = _today(origin)
    async with database.transaction():
        await database.execute(sql.LOCK_CALL, call.id)
        proposals = await _call_proposals(call)
        if not proposals:
            raise InvalidInput("The call has no submitted proposals yet.")
        reviewers = await _pool(call.fund_id, call.id)
        per_proposal = call.spec.reviewers_per_proposal
        low, high = assignment.balanced_bounds(len(proposals), len(reviewers), per_proposal)
        min_load = low if min_load is None else min_load
        max_load = high if max_load is None else max_load
        history = await _history(today)
        existing = await database.fetch(sql.CALL_ASSIGNMENTS, call.id)
        kept = {(r["proposal"], r["reviewer"]) for r in existing if r["status"] in LIVE}
        answered = {(r["proposal"], r["reviewer"]) for r in existing if r["status"] not in LIVE}
        names = await _technology_names()
        plan, explained = await asyncio.to_thread(
            _plan,
            proposals,
            reviewers,
            history,
            today,
            kept,
            answered,
            names,
            per_proposal,
            min_load,
            max_load,
        )
        added = sorted(set(plan.pairs) - kept)
        inserted = await database.fetch(
            sql.INSERT_ASSIGNMENTS,
            [p for p, _ in added],
            [r for _, r in added],
            [explained[pair].score for pair in added],
            [json.dumps(explained[pair].shared, ensure_ascii=False) for pair in added],
            "auto",
            actor.account_id,
        )
        if len(inserted) != len(added):  # the call is locked: nobody else adds meanwhile
            raise Conflict("The assignments changed meanwhile. Reload the page and try again.")
        await reviews.notify_assigned([row["id"] for row in inserted])
        await audit.record(
            "assignments.auto",
            f"call:{call.id}",
            actor=actor,
            origin=origin,
            after={
                "min_load": min_load,
                "max_load": max_load,
                "per_proposal": per_proposal,
                "total_affinity": plan.total,
                "added": [[p, r, explained[(p, r)].score] for p, r in added],
            },
        )
    return AutoResult(len(added), plan.total, min_load, max_load)


def _plan(
    proposals: list[_Proposal],
    reviewers: list[_Reviewer],
    history: conflicts.History,
    today: dt.date,
    kept: set[tuple[int, int]],
    answered: set[tuple[int, int]],
    names: dict[int, str],
    per_proposal: int,
    min_load: int,
    max_load: int,
) -> tuple[assignment.Plan, dict[tuple[int, int], assignment.Affinity]]:
    """The optimal plan and the affinity (with its reasons) of every pair it adds. CPU work:
    run in a thread (HiGHS releases the interpreter while it solves)."""
    clashes = conflicts.conflicted_pairs(
        [r.facts for r in reviewers], [p.facts for p in proposals], history, today
    )
    ignore = _common_terms(proposals)
    table = assignment.AffinityTable(
        [r.profile for r in reviewers], [p.profile for p in proposals], ignore=ignore
    )
    plan = assignment.assign(
        [p.id for p in proposals],
        [r.id for r in reviewers],
        table,
        set(clashes) | answered,
        per_proposal=per_proposal,
        min_load=min_load,
        max_load=max_load,
        kept=kept,
        proposal_labels={p.id: p.reference for p in proposals},
        reviewer_labels={r.id: r.name for r in reviewers},
    )
    profiles = {p.id: p.profile for p in proposals}
    mine = {r.id: r.profile for r in reviewers}
    explained = {
        (p, r): assignment.affinity(mine[r], profiles[p], names, ignore=ignore)
        for p, r in set(plan.pairs) - kept
    }
    return plan, explained


# By hand --------------------------------------------------------------------------------------


async def _managed_proposal(actor: Actor, proposal_id: int) -> Any:
    row = await database.fetchrow(sql.PROPOSAL, proposal_id)
    if row is None:
        raise NotFound()
    scopes.require(may_manage_call, actor, Target(fund=row["fund"]))
    return row


async def require_manager(actor: Actor, proposal_id: int) -> None:
    """NotFound unless the actor manages the proposal's fund: asked before reading a form,
    so nobody learns anything of another fund's proposal from a form's complaint."""
    await _managed_proposal(actor, proposal_id)


def _require_submitted(row: Any) -> None:
    if row["status"] != "submitted" or not row["draft"]:
        raise Conflict("Only submitted proposals are given reviewers.")


async def _candidates(
    row: Any, reviewer_id: int | None, today: dt.date
) -> tuple[_Proposal, list[CandidateCheck]]:
    """The proposal and what the manager should know of each pool reviewer (or one)."""
    proposal = _proposal(row, row["fund_code"])
    reviewers = await _pool(row["fund"], row["call"], reviewer_id)
    history = await _history(today)
    asked = {
        r["reviewer"]: r["status"]
        for r in await database.fetch(sql.PROPOSAL_ASSIGNMENTS, proposal.id)
    }
    others = [
        _proposal(r, row["fund_code"])
        for r in await database.fetch(sql.SUBMITTED_PROPOSALS, row["call"])
    ]
    names = await _technology_names()

    def judge() -> list[CandidateCheck]:
        ignore = _common_terms(others)
        return [
            CandidateCheck(
                proposal_id=proposal.id,
                reviewer_id=r.id,
                name=r.name,
                conflicts=conflicts.conflicts(r.facts, proposal.facts, history, today),
                affinity=assignment.affinity(r.profile, proposal.profile, names, ignore=ignore),
                already=asked.get(r.id),
            )
            for r in reviewers
        ]

    return proposal, await asyncio.to_thread(judge)


async def check_candidate(
    actor: Actor, proposal_id: int, reviewer_id: int, origin: Origin | None = None
) -> CandidateCheck:
    """Conflicts and affinity of one pool reviewer for one proposal, before inviting."""
    row = await _managed_proposal(actor, proposal_id)
    _require_submitted(row)
    _, found = await _candidates(row, reviewer_id, _today(origin))
    if not found:
        raise InvalidInput(NOT_IN_POOL, field="reviewer")
    return found[0]


async def proposal_assignments(actor: Actor, proposal_id: int) -> ProposalAssignments:
    """One proposal's reviewers and the pool's other reviewers as candidates."""
    row = await _managed_proposal(actor, proposal_id)
    _require_submitted(row)
    proposal, checks = await _candidates(row, None, _today(None))
    call = await calls.managed_call(actor, row["call"])
    assigned_rows = await database.fetch(sql.PROPOSAL_ASSIGNMENTS, proposal.id)
    by_reviewer = {c.reviewer_id: c for c in checks}
    assigned = tuple(
        _assigned(r, by_reviewer[r["reviewer"]].conflicts if r["reviewer"] in by_reviewer else ())
        for r in assigned_rows
    )
    per_proposal = row["reviewers_per_proposal"]
    candidates = sorted(
        (c for c in checks if c.already is None),
        key=lambda c: (bool(c.conflicts), -c.affinity.score, c.name, c.reviewer_id),
    )
    return ProposalAssignments(
        call_id=call.id,
        call_title=call.title,
        proposal=ProposalRow(
            proposal_id=proposal.id,
            reference=proposal.reference,
            title=proposal.title,
            organisation=proposal.organisation_name,
            assigned=assigned,
            missing=max(0, per_proposal - sum(a.live for a in assigned)),
        ),
        per_proposal=per_proposal,
        candidates=tuple(candidates),
    )


async def assign(actor: Actor, proposal_id: int, reviewer_id: int, origin: Origin) -> int:
    """Ask one pool reviewer to review the proposal (source "manual"); the assignment's id.
    A conflict of interest is ConflictOfInterestFound (409) and writes nothing."""
    row = await _managed_proposal(actor, proposal_id)
    _require_submitted(row)
    today = _today(origin)
    async with database.transaction():
        await database.execute(sql.LOCK_CALL, row["call"])
        proposal, found = await _candidates(row, reviewer_id, today)
        if not found:
            raise InvalidInput(NOT_IN_POOL, field="reviewer")
        check = found[0]
        if check.already is not None:
            raise Conflict(
                "%(name)s was already asked to review %(reference)s.",
                name=check.name,
                reference=proposal.reference,
            )
        if check.conflicts:
            raise ConflictOfInterestFound(
                "%(name)s has a conflict of interest with %(reference)s and cannot review it.",
                reasons=_reasons(check.conflicts),
                name=check.name,
                reference=proposal.reference,
            )
        inserted = await database.fetch(
            sql.INSERT_ASSIGNMENTS,
            [proposal.id],
            [reviewer_id],
            [check.affinity.score],
            [json.dumps(check.affinity.shared, ensure_ascii=False)],
            "manual",
            actor.account_id,
        )
        assignment_id = inserted[0]["id"]
        await reviews.notify_assigned([assignment_id])
        await audit.record(
            "assignment.added",
            f"proposal:{proposal.id}",
            actor=actor,
            origin=origin,
            after={
                "reviewer": reviewer_id,
                "affinity": check.affinity.score,
                "shared_terms": list(check.affinity.shared),
                "source": "manual",
            },
        )
    return assignment_id


async def unassign(actor: Actor, proposal_id: int, reviewer_id: int, origin: Origin) -> None:
    """Withdraw a reviewer's assignment that nobody has started reviewing."""
    row = await _managed_proposal(actor, proposal_id)
    async with database.transaction():
        await database.execute(sql.LOCK_CALL, row["call"])
        removed = await database.fetchrow(sql.DELETE_ASSIGNMENT, proposal_id, reviewer_id)
        if removed is None:
            current = await database.fetchrow(sql.ASSIGNMENT, proposal_id, reviewer_id)
            if current is None:
                raise NotFound()
            raise Conflict(
                "This reviewer has started the review or answered already: the assignment "
                "stays as a record."
            )
        await audit.record(
            "assignment.removed",
            f"proposal:{proposal_id}",
            actor=actor,
            origin=origin,
            before={
                "reviewer": reviewer_id,
                "status": removed["status"],
                "affinity": removed["affinity"],
                "source": removed["source"],
            },
        )
