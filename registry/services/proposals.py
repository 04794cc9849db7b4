"""Proposals: an organisation's drafts against open calls, saved as they are typed, and
withdrawal. Attachments, submission and the managers' call dashboard have modules of their
own (attachments.py, submissions.py, call_dashboard.py); all share `Proposal` from here.

Applicants reach the proposals of the organisations they are confirmed members of
(`domain.permissions.may_write_proposal`); anything else is NotFound. Each action is one
transaction that ends with its audit event, and is judged at the instant its request arrived
(`domain.clock`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from registry import database
from registry.domain.accounts import Actor, Origin
from registry.domain.catalogue import Localized
from registry.domain.clock import vietnam_time
from registry.domain.errors import Conflict, InvalidInput, NotFound, StaleEdit
from registry.domain.permissions import Target, may_write_proposal
from registry.domain.proposals import (
    AttachmentKind,
    Check,
    Draft,
    Status,
    checklist,
    proposal_reference,
)
from registry.i18n import N_
from registry.services import audit, clock, mail, scopes
from registry.services.calls import Call, published_call
from registry.services.queries import proposals as sql

CLOSED = N_("The call closed at %(closes_at)s. Proposals can no longer be changed.")


@dataclass(frozen=True, slots=True)
class AttachmentRow:
    id: int
    kind: AttachmentKind
    filename: str
    sha256: str
    #: The copy without author metadata (for blind review).
    stripped_sha256: str
    size: int
    pages: int
    uploaded_at: datetime


@dataclass(frozen=True, slots=True)
class VersionRow:
    number: int
    receipt_no: str
    received_at: datetime
    content_sha256: str


@dataclass(frozen=True, slots=True)
class Proposal:
    id: int
    reference: str
    call: Call
    organisation_id: int
    organisation_name: Localized
    organisation_verified: bool
    status: Status
    draft: Draft
    row_version: int
    submitted_version: int
    updated_at: datetime
    attachments: tuple[AttachmentRow, ...]
    versions: tuple[VersionRow, ...]

    def checks(self, at: datetime) -> tuple[Check, ...]:
        return checklist(
            self.draft,
            self.call.rules,
            attachment_kinds=frozenset(a.kind for a in self.attachments),
            organisation_verified=self.organisation_verified,
            at=at,
        )

    def editable(self, at: datetime) -> bool:
        return self.call.rules.is_open(at)

    @property
    def title(self) -> str:
        return self.draft.title_vi


@dataclass(frozen=True, slots=True)
class ProposalSummary:
    id: int
    reference: str
    title: str
    call_id: int
    call_title: Localized
    closes_at: datetime
    status: Status
    submitted_version: int
    updated_at: datetime
    #: The draft has changes not submitted since the last submitted version.
    unsubmitted: bool = False


async def applicant_organisations(actor: Actor) -> tuple[tuple[int, Localized], ...]:
    """The organisations the actor may draft proposals for (confirmed memberships)."""
    rows = await database.fetch(sql.ORGANISATIONS, scopes.organisations_of(actor))
    return tuple((r["id"], Localized(r["name_vi"], r["name_en"])) for r in rows)


async def start(actor: Actor, call_id: int, organisation_id: int, origin: Origin) -> int:
    """A new, empty draft for the actor's organisation against an open call."""
    if not may_write_proposal(actor, Target(organisation=organisation_id)):
        raise InvalidInput("Choose one of your organisations.", field="organisation")
    call = await published_call(call_id)
    if not call.rules.is_open(clock.arrival(origin)):
        raise Conflict("The call is not open for submissions.")
    async with database.transaction():
        proposal_id = await database.fetchval(
            sql.INSERT_PROPOSAL,
            call_id,
            organisation_id,
            actor.account_id,
            json.dumps(Draft().to_json()),
        )
        await audit.record(
            "proposal.started",
            f"proposal:{proposal_id}",
            actor=actor,
            origin=origin,
            after={"call": call_id, "organisation": organisation_id},
        )
    return proposal_id


async def get(actor: Actor, proposal_id: int, *, lock: bool = False) -> Proposal:
    """One of the actor's organisations' proposals; NotFound for anyone else's."""
    row = await database.fetchrow(sql.PROPOSAL_FOR_UPDATE if lock else sql.PROPOSAL, proposal_id)
    if row is None:
        raise NotFound()
    scopes.require(may_write_proposal, actor, Target(organisation=row["organisation"]))
    return await _proposal(row, await published_call(row["call"]))


async def _proposal(row: Any, call: Call) -> Proposal:
    attachments = await database.fetch(sql.ATTACHMENTS, row["id"])
    versions = await database.fetch(sql.VERSIONS, row["id"])
    return Proposal(
        id=row["id"],
        reference=proposal_reference(call.fund_code, row["created_at"].year, row["id"]),
        call=call,
        organisation_id=row["organisation"],
        organisation_name=Localized(row["organisation_vi"], row["organisation_en"]),
        organisation_verified=row["organisation_verified"],
        status=Status(row["status"]),
        draft=Draft.from_json(json.loads(row["draft"])),
        row_version=row["row_version"],
        submitted_version=row["submitted_version"],
        updated_at=row["updated_at"],
        attachments=tuple(
            AttachmentRow(
                id=a["id"],
                kind=AttachmentKind(a["kind"]),
                filename=a["filename"],
                sha256=a["sha256"],
                stripped_sha256=a["stripped_sha256"],
                size=a["size"],
                pages=a["pages"],
                uploaded_at=a["uploaded_at"],
            )
            for a in attachments
        ),
        versions=tuple(
            VersionRow(
                number=v["number"],
                receipt_no=v["receipt_no"],
                received_at=v["received_at"],
                content_sha256=v["content_sha256"],
            )
            for v in versions
        ),
    )


async def mine(actor: Actor) -> tuple[ProposalSummary, ...]:
    rows = await database.fetch(sql.SUMMARIES, scopes.organisations_of(actor))
    return tuple(
        ProposalSummary(
            id=r["id"],
            reference=proposal_reference(r["fund_code"], r["created_at"].year, r["id"]),
            title=r["title"],
            call_id=r["call"],
            call_title=Localized(r["call_title_vi"], r["call_title_en"] or None),
            closes_at=r["closes_at"],
            status=Status(r["status"]),
            submitted_version=r["submitted_version"],
            updated_at=r["updated_at"],
            unsubmitted=r["unsubmitted"],
        )
        for r in rows
    )


def require_open(proposal: Proposal, at: datetime) -> None:
    if not proposal.editable(at):
        raise Conflict(CLOSED, closes_at=proposal.call.spec.closes_at)


async def save_draft(
    actor: Actor, proposal_id: int, draft: Draft, row_version: int, origin: Origin
) -> Proposal:
    """Store the draft if nobody changed it since `row_version`; answer the proposal as saved.

    A stale `row_version` (another tab saved first) is StaleEdit, never a silent overwrite.
    Saving the draft of a submitted proposal does not change what was submitted.
    """
    at = clock.arrival(origin)
    async with database.transaction():
        proposal = await get(actor, proposal_id, lock=True)
        require_open(proposal, at)
        if proposal.row_version != row_version:
            raise StaleEdit("This draft was changed in another window or by a colleague.")
        if draft == proposal.draft:
            return proposal
        sums = draft.totals
        new_version = await database.fetchval(
            sql.SAVE_DRAFT,
            proposal_id,
            json.dumps(draft.to_json(), ensure_ascii=False),
            sums.requested_vnd,
            sums.own_vnd,
            list(draft.technologies),
        )
        await audit.record(
            "proposal.draft_saved",
            f"proposal:{proposal_id}",
            actor=actor,
            origin=origin,
            after={"changed": sorted(draft.changes_from(proposal.draft))},
        )
    return replace(proposal, draft=draft, row_version=new_version)


async def withdraw(actor: Actor, proposal_id: int, origin: Origin) -> None:
    """Withdraw before the deadline: no version will be reviewed (the history stays). The
    proposal can be submitted again while the call is open."""
    at = clock.arrival(origin)
    async with database.transaction():
        proposal = await get(actor, proposal_id, lock=True)
        require_open(proposal, at)
        if proposal.status != Status.SUBMITTED:
            raise Conflict("Only a submitted proposal can be withdrawn.")
        await database.execute(sql.WITHDRAW, proposal_id, at)
        await mail.enqueue(  # a withdrawal nobody meant must not go unnoticed until the deadline
            actor.email,
            await database.fetchval(sql.ACCOUNT_LANGUAGE, actor.account_id) or "vi",
            N_("Proposal withdrawn: %(reference)s"),
            N_(
                'Your proposal "%(title)s" (%(reference)s) to the call "%(call)s" was withdrawn '
                "at %(local_time)s, Vietnam time: it will not be reviewed. You can submit it "
                "again until the call closes, at %(link)s"
            ),
            {
                "title": proposal.draft.title_vi,
                "reference": proposal.reference,
                "call": proposal.call.spec.title_vi,
                "local_time": vietnam_time(at),
                "link": mail.page_link(f"/proposals/{proposal_id}"),
            },
        )
        await audit.record(
            "proposal.withdrawn",
            f"proposal:{proposal_id}",
            actor=actor,
            origin=origin,
            before={"status": str(proposal.status), "version": proposal.submitted_version},
        )
