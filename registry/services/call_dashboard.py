"""The fund manager's view of a call's proposals: counts by status, submitted proposals and
requested amounts by technology against the budget, possible near-duplicates, the list of
submissions (filtered, sorted, exported) and each submitted proposal, read-only.

Only what was submitted counts, never drafts. A near-duplicate in another fund is named only
as "a proposal in another fund": its id, title and organisation belong to that fund's managers
(`domain.permissions.may_manage_call`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from registry import database
from registry.domain.accounts import Actor
from registry.domain.catalogue import Localized
from registry.domain.errors import NotFound
from registry.domain.permissions import Target, may_manage_call
from registry.domain.proposals import Draft, Status, proposal_reference
from registry.domain.text import fold
from registry.services.calls import Call, managed_call
from registry.services.queries import proposals as sql
from registry.services.reviewers import technology_names
from registry.services.submissions import Receipt


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


# The list of submissions ----------------------------------------------------------------------


class SortBy(StrEnum):
    RECEIVED = "received"
    TITLE = "title"
    ORGANISATION = "organisation"
    REQUESTED = "requested"
    STATUS = "status"
    SIMILARITY = "similarity"


@dataclass(frozen=True, slots=True)
class Submission:
    """A proposal as its latest submitted version says (withdrawn ones too, never drafts)."""

    proposal_id: int
    reference: str
    title: str
    status: Status
    organisation_id: int
    organisation: Localized
    technologies: tuple[tuple[int, Localized], ...]
    requested_vnd: int
    version: int
    received_at: datetime
    #: The highest near-duplicate similarity flagged (percent), None when not flagged.
    similarity: int | None


@dataclass(frozen=True, slots=True)
class Selection:
    """What the manager asked the list for: filters (None: all) and the order."""

    status: Status | None = None
    organisation: int | None = None
    technology: int | None = None
    sort: SortBy = SortBy.RECEIVED
    descending: bool = False
    flagged: bool = False


@dataclass(frozen=True, slots=True)
class Submissions:
    call: Call
    selection: Selection
    rows: tuple[Submission, ...]
    #: Every submission's organisations and technologies, for the filters' choices.
    organisations: tuple[tuple[int, Localized], ...]
    technologies: tuple[tuple[int, Localized], ...]
    total: int


async def submissions(
    actor: Actor, call_id: int, selection: Selection, language: str
) -> Submissions:
    """The call's submissions, filtered and sorted as asked (names sorted in `language`)."""
    call = await managed_call(actor, call_id)
    rows = await database.fetch(sql.SUBMISSIONS, call_id)
    ids = [json.loads(r["technologies"] or "[]") for r in rows]
    names = await technology_names([t for each in ids for t in each])
    every = tuple(
        Submission(
            proposal_id=r["id"],
            reference=proposal_reference(call.fund_code, r["created_at"].year, r["id"]),
            title=r["title"] or "",
            status=Status(r["status"]),
            organisation_id=r["organisation"],
            organisation=Localized(r["organisation_vi"], r["organisation_en"]),
            technologies=tuple((t, names[t]) for t in each if t in names),
            requested_vnd=r["requested"],
            version=r["version"],
            received_at=r["received_at"],
            similarity=r["similarity"],
        )
        for r, each in zip(rows, ids, strict=True)
    )

    def by_name(pair: tuple[int, Localized]) -> str:
        return fold(pair[1].get(language))

    organisations = {(s.organisation_id, s.organisation) for s in every}
    return Submissions(
        call=call,
        selection=selection,
        rows=_select(every, selection, language),
        organisations=tuple(sorted(organisations, key=by_name)),
        technologies=tuple(sorted({t for s in every for t in s.technologies}, key=by_name)),
        total=len(every),
    )


def _select(
    rows: tuple[Submission, ...], selection: Selection, language: str
) -> tuple[Submission, ...]:
    kept = [
        s
        for s in rows
        if (selection.status is None or s.status == selection.status)
        and (selection.organisation is None or s.organisation_id == selection.organisation)
        and (selection.technology is None or selection.technology in dict(s.technologies))
        and (not selection.flagged or s.similarity is not None)
    ]
    key: dict[SortBy, Any] = {
        SortBy.RECEIVED: lambda s: (s.received_at, s.proposal_id),
        SortBy.TITLE: lambda s: (fold(s.title), s.proposal_id),
        SortBy.ORGANISATION: lambda s: (fold(s.organisation.get(language)), s.proposal_id),
        SortBy.REQUESTED: lambda s: (s.requested_vnd, s.proposal_id),
        SortBy.STATUS: lambda s: (str(s.status), s.proposal_id),
        SortBy.SIMILARITY: lambda s: (s.similarity or 0, s.proposal_id),
    }
    return tuple(sorted(kept, key=key[selection.sort], reverse=selection.descending))


# One submitted proposal, read-only --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubmittedProposal:
    """A proposal's latest submitted version as its call's managers read it (they see who
    applied: blind review hides applicants from reviewers only)."""

    call: Call
    status: Status
    receipt: Receipt
    draft: Draft
    technologies: dict[int, Localized]
    duplicates: tuple[DuplicateRow, ...]


async def submitted_proposal(actor: Actor, proposal_id: int) -> SubmittedProposal:
    """NotFound unless the actor manages the proposal's call and it was ever submitted."""
    row = await database.fetchrow(sql.SUBMITTED_PROPOSAL, proposal_id)
    if row is None:
        raise NotFound()
    call = await managed_call(actor, row["call"])
    content = json.loads(row["content"])
    draft = Draft.from_json(content["proposal"])
    flags = await database.fetch(sql.DUPLICATES, call.id)
    return SubmittedProposal(
        call=call,
        status=Status(row["status"]),
        receipt=Receipt(
            receipt_no=row["receipt_no"],
            reference=proposal_reference(call.fund_code, row["created_at"].year, proposal_id),
            proposal_id=proposal_id,
            version=row["version"],
            title=draft.title_vi,
            call_title=call.title,
            fund_name=call.fund_name,
            organisation_name=Localized(row["organisation_vi"], row["organisation_en"]),
            submitted_by=row["submitted_by"],
            received_at=row["received_at"],
            content_sha256=row["content_sha256"],
            files=tuple(content.get("files", ())),
        ),
        draft=draft,
        technologies=await technology_names(list(draft.technologies)),
        duplicates=tuple(_duplicate(actor, call, f) for f in flags if f["id"] == proposal_id),
    )


async def submitted_file(actor: Actor, proposal_id: int, sha256: str) -> tuple[str, str]:
    """(sha256, file name) of a file of the proposal's latest submitted version, for its
    call's managers; any other file or reader is NotFound."""
    proposal = await submitted_proposal(actor, proposal_id)
    for item in proposal.receipt.files:
        if item["sha256"] == sha256:
            return sha256, item["filename"]
    raise NotFound()
