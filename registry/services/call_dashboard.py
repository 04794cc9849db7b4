"""The fund manager's view of a call's proposals: counts by status, submitted proposals and
requested amounts by technology against the budget, and possible near-duplicates.

Only what was submitted counts, never drafts. A near-duplicate in another fund is named only
as "a proposal in another fund": its id, title and organisation belong to that fund's managers
(`domain.permissions.may_manage_call`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from registry import database
from registry.domain.accounts import Actor
from registry.domain.catalogue import Localized
from registry.domain.permissions import Target, may_manage_call
from registry.domain.proposals import Status, proposal_reference
from registry.services.calls import Call, managed_call
from registry.services.queries import proposals as sql


class DuplicateOf(StrEnum):
    PROPOSAL = "proposal"  # a proposal to a fund the manager manages: named
    OTHER_FUND = "other_fund"  # a proposal to another fund: not named
    PROJECT = "project"  # a funded project (public)


@dataclass(frozen=True, slots=True)
class DuplicateRow:
    proposal_id: int
    reference: str
    title: str
    other_kind: DuplicateOf
    #: The other proposal or project, when the manager may know it.
    other_id: int | None
    other_reference: str
    other_title: str
    similarity: int


@dataclass(frozen=True, slots=True)
class Dashboard:
    call: Call
    by_status: dict[str, int]
    by_technology: tuple[tuple[Localized, int, int], ...]  # name, submitted, requested VND
    requested_vnd: int
    duplicates: tuple[DuplicateRow, ...]


async def dashboard(actor: Actor, call_id: int) -> Dashboard:
    call = await managed_call(actor, call_id)
    counts = await database.fetch(sql.COUNT_BY_STATUS, call_id)
    by_status = {str(s): 0 for s in Status} | {r["status"]: r["n"] for r in counts}
    technologies = await database.fetch(sql.SUBMITTED_BY_TECHNOLOGY, call_id)
    flags = await database.fetch(sql.DUPLICATES, call_id)
    return Dashboard(
        call=call,
        by_status=by_status,
        by_technology=tuple(
            (Localized(r["name_vi"], r["name_en"]), r["n"], r["requested"]) for r in technologies
        ),
        requested_vnd=await database.fetchval(sql.REQUESTED_TOTAL, call_id),
        duplicates=tuple(_duplicate(actor, call, flag) for flag in flags),
    )


def _duplicate(actor: Actor, call: Call, flag) -> DuplicateRow:  # type: ignore[no-untyped-def]
    other_id, other_reference, other_title = None, "", ""
    if flag["other_project"] is not None:
        kind = DuplicateOf.PROJECT
        other_id, other_title = flag["other_project"], flag["other_project_title"]
    elif may_manage_call(actor, Target(fund=flag["other_fund"])):
        kind = DuplicateOf.PROPOSAL
        other_id = flag["other_proposal"]
        other_reference = proposal_reference(
            flag["other_fund_code"], flag["other_created_at"].year, other_id
        )
        other_title = flag["other_proposal_title"] or ""
    else:
        kind = DuplicateOf.OTHER_FUND
    return DuplicateRow(
        proposal_id=flag["id"],
        reference=proposal_reference(call.fund_code, flag["created_at"].year, flag["id"]),
        title=flag["title"],
        other_kind=kind,
        other_id=other_id,
        other_reference=other_reference,
        other_title=other_title,
        similarity=flag["similarity"],
    )
