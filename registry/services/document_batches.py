"""Issuing a call's documents as a batch: the call's decision and one document per approved
outcome, each rendered, signed and stored by a job of its own (queue `documents`), so any
number of workers share a batch and the web never renders.

`start` records who signs and defers the jobs in one transaction; starting again while the
batch still has jobs waiting or running answers that batch (a double click starts nothing).
Each job issues through services.documents, which is idempotent (never two documents for one
outcome), so a retried job or a batch run again issues only what is missing. Progress is the
count of the call's documents, not a counter the jobs keep: it cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from registry import database
from registry.domain.accounts import Actor, Origin
from registry.domain.catalogue import Localized
from registry.domain.decision_documents import Signer
from registry.domain.errors import InvalidInput, NotFound, Problems
from registry.domain.permissions import Target, may_issue_documents
from registry.domain.text import clean
from registry.services import audit, documents, queue, scopes
from registry.services.decision_content import DEFAULT_SIGNER_TITLE
from registry.services.documents import Renderer
from registry.services.queries import documents as sql
from registry.services.storage import Storage
from registry.settings import Settings

#: Longest signer's capacity or name (the signing block is one column of the page).
SIGNER_LIMIT = 120


@dataclass(frozen=True, slots=True)
class BatchProgress:
    batch_id: int
    #: Documents the batch issues; issued so far (documents issued earlier count).
    total: int
    issued: int
    #: Jobs that gave up after their retries: the batch needs starting again.
    failed: int
    started_at: datetime
    started_by: str
    finished_at: datetime | None
    signer: Signer

    @property
    def running(self) -> bool:
        return self.finished_at is None and not self.stalled

    @property
    def stalled(self) -> bool:
        """Some documents failed for good: starting the batch again retries them."""
        return self.finished_at is None and self.failed > 0

    @property
    def percent(self) -> int:
        return min(100, self.issued * 100 // self.total)


def _signer(row: Any) -> Signer:
    """The signing block a batch row keeps."""
    return Signer(row["signer_on_behalf"], row["signer_title"], row["signer_name"])


def read_signer(on_behalf: str, title: str, name: str) -> Signer:
    """The signing block as the manager typed it; InvalidForm names each field at fault."""
    problems = Problems()
    fields = {"signer_on_behalf": on_behalf, "signer_title": title, "signer_name": name}
    cleaned = {key: clean(value) for key, value in fields.items()}
    for key, value in cleaned.items():
        if len(value) > SIGNER_LIMIT:
            problems.add(
                InvalidInput("Use at most %(count)s characters.", field=key, count=SIGNER_LIMIT)
            )
    for key in ("signer_title", "signer_name"):
        if not cleaned[key]:
            problems.add(InvalidInput("Say who signs the documents.", field=key))
    problems.raise_any()
    return Signer(
        on_behalf=cleaned["signer_on_behalf"].upper(),
        title=cleaned["signer_title"].upper(),
        name=cleaned["signer_name"],
    )


async def start(actor: Actor, call_id: int, signer: Signer, origin: Origin) -> int:
    """Queue the issue of every document of the call's approved outcomes; returns the batch.
    NotFound unless the actor manages the call's fund and its outcomes are approved."""
    outcomes = await documents.outcomes_of_call(actor, call_id)  # checks both
    async with database.transaction():
        running = await database.fetchval(sql.RUNNING_BATCH, call_id)
        if running is not None:
            if await database.fetchval(sql.PENDING_JOBS, running):
                return running
            await database.execute(sql.CLOSE_BATCH, running)  # its failed jobs are retried
        total = 1 + len(outcomes)
        batch_id = await database.fetchval(
            sql.INSERT_BATCH,
            call_id,
            signer.on_behalf,
            signer.title,
            signer.name,
            actor.account_id,
            total,
        )
        async with database.connection() as conn:
            for outcome_id in (None, *outcomes):
                await queue.defer(
                    conn,
                    queue.DOCUMENTS_QUEUE,
                    queue.ISSUE_DOCUMENT,
                    batch_id=batch_id,
                    outcome_id=outcome_id,
                )
        await audit.record(
            "documents.batch_started",
            f"call:{call_id}",
            actor=actor,
            origin=origin,
            after={"batch": batch_id, "documents": total, "signer": signer.name},
        )
    return batch_id


@dataclass(frozen=True, slots=True)
class IssueDesk:
    """A call's documents as its managers see them: whether they can be issued yet, the
    latest batch, what is issued, and who signs unless the manager names someone else."""

    call_id: int
    call_title: Localized
    #: The outcomes are approved (documents can be issued).
    approved: bool
    progress: BatchProgress | None
    documents: tuple[documents.IssuedDocument, ...]
    default_signer: Signer


async def desk(actor: Actor, call_id: int) -> IssueDesk:
    """The issue desk of a call, for its fund's managers (anyone else: NotFound)."""
    row = await database.fetchrow(sql.ISSUE_DESK, call_id)
    if row is None:
        raise NotFound()
    scopes.require(may_issue_documents, actor, Target(fund=row["fund"]))
    approved = row["approver"] is not None
    return IssueDesk(
        call_id=call_id,
        call_title=Localized(row["title_vi"], row["title_en"] or None),
        approved=approved,
        progress=await _progress(call_id),
        documents=tuple(await documents.of_call(actor, call_id)) if approved else (),
        default_signer=Signer("", DEFAULT_SIGNER_TITLE, row["approver"] or ""),
    )


async def progress(actor: Actor, call_id: int) -> BatchProgress | None:
    """The call's latest batch and how far it is (None before the first), for its managers."""
    fund_id = await database.fetchval(sql.CALL_FUND, call_id)
    if fund_id is None:
        raise NotFound()
    scopes.require(may_issue_documents, actor, Target(fund=fund_id))
    return await _progress(call_id)


async def _progress(call_id: int) -> BatchProgress | None:
    row = await database.fetchrow(sql.PROGRESS, call_id)
    if row is None:
        return None
    return BatchProgress(
        batch_id=row["id"],
        total=row["total"],
        issued=row["issued"],
        failed=row["failed"],
        started_at=row["started_at"],
        started_by=row["started_by"],
        finished_at=row["finished_at"],
        signer=_signer(row),
    )


async def issue_one(
    settings: Settings,
    storage: Storage,
    render: Renderer,
    batch_id: int,
    outcome_id: int | None,
) -> documents.IssuedDocument:
    """One job of a batch: the call's decision (`outcome_id` None) or an outcome's document,
    unless already issued; the batch closes when its last document is issued."""
    batch = await database.fetchrow(sql.BATCH, batch_id)
    if batch is None:
        raise NotFound()
    signer = _signer(batch)
    common = {"settings": settings, "storage": storage, "signer": signer}
    if outcome_id is None:
        issued = await documents.issue_for_call(None, batch["call"], render, None, **common)
    else:
        issued = await documents.issue_for_outcome(None, outcome_id, render, None, **common)
    await database.execute(sql.FINISH_BATCH, batch_id)
    return issued

