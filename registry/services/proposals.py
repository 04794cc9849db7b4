"""Proposals: drafts, attachments, the eligibility checklist, submission with a receipt,
resubmission and withdrawal; and the fund manager's view of a call's proposals.

Applicants reach the proposals of the organisations they are confirmed members of; anything
else is NotFound. Each action is one transaction that ends with its audit event. Submission
takes the server's clock once, when the request arrives, and accepts only what is received
strictly before the call closes (domain.calls.received_in_time).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from registry import database
from registry.domain.accounts import Actor, Role
from registry.domain.catalogue import Localized
from registry.domain.errors import Conflict, InvalidForm, InvalidInput, NotFound, StaleEdit
from registry.domain.proposals import (
    AttachmentKind,
    Check,
    Draft,
    Status,
    blocking,
    checklist,
    content_digest,
    proposal_reference,
    receipt_number,
)
from registry.domain.text import clean
from registry.i18n import N_
from registry.services import audit, failpoints, mail
from registry.services.accounts import Origin
from registry.services.attachments_check import check_pdf
from registry.services.blobs import BlobStore
from registry.services.calls import NOT_FOUND, Call, managed_call, published_call

#: Per proposal: at most this many files and this many bytes in all.
ATTACHMENTS_MAX = 20
QUOTA_BYTES = 100 * 1024 * 1024
FILENAME_MAX = 200
#: Near-duplicate flags: trigram similarity (0-1) of folded title and abstract.
DUPLICATE_THRESHOLD = 0.5
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
class Receipt:
    receipt_no: str
    reference: str
    proposal_id: int
    version: int
    title: str
    call_title: Localized
    fund_name: Localized
    organisation_name: Localized
    submitted_by: str
    received_at: datetime
    content_sha256: str
    files: tuple[dict[str, Any], ...]


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


async def now() -> datetime:
    """The database server's clock: one clock for every web process."""
    return await database.fetchval("SELECT clock_timestamp()")


def _member_of(actor: Actor) -> frozenset[int]:
    return actor.scopes(Role.APPLICANT)


async def applicant_organisations(actor: Actor) -> tuple[tuple[int, Localized], ...]:
    """The organisations the actor may draft proposals for (confirmed memberships)."""
    rows = await database.fetch(
        "SELECT id, name_vi, name_en FROM organisation WHERE id = ANY($1::int[]) "
        'ORDER BY sort_key COLLATE "C"',
        sorted(_member_of(actor)),
    )
    return tuple((r["id"], Localized(r["name_vi"], r["name_en"])) for r in rows)


async def start(actor: Actor, call_id: int, organisation_id: int, origin: Origin) -> int:
    """A new, empty draft for the actor's organisation against an open call."""
    if organisation_id not in _member_of(actor):
        raise InvalidInput("Choose one of your organisations.", field="organisation")
    call = await published_call(call_id)
    if not call.rules.is_open(await now()):
        raise Conflict("The call is not open for submissions.")
    async with database.engine().transaction():
        proposal_id = await database.fetchval(
            "INSERT INTO proposal (call, organisation, created_by, draft) "
            "VALUES ($1, $2, $3, $4::jsonb) RETURNING id",
            call_id,
            organisation_id,
            actor.account_id,
            json.dumps(Draft().to_json()),
        )
        await audit.record(
            "proposal.started",
            f"proposal:{proposal_id}",
            actor=actor.ref,
            client_address=origin.client_address,
            after={"call": call_id, "organisation": organisation_id},
        )
    return proposal_id


_PROPOSAL = """
SELECT p.*, o.name_vi AS org_vi, o.name_en AS org_en, o.verified_at IS NOT NULL AS verified
FROM proposal p JOIN organisation o ON o.id = p.organisation
"""


async def _load(proposal_id: int, *, lock: bool = False) -> tuple[Any, Call]:
    # NO KEY UPDATE: serialises changes to this proposal without blocking the key-share locks
    # other submissions take when they flag it as a near-duplicate (a deadlock otherwise).
    row = await database.fetchrow(
        _PROPOSAL + "WHERE p.id = $1" + (" FOR NO KEY UPDATE OF p" if lock else ""), proposal_id
    )
    if row is None:
        raise NotFound(NOT_FOUND)
    return row, await published_call(row["call"])


async def _proposal(row: Any, call: Call) -> Proposal:
    attachments = await database.fetch(
        "SELECT id, kind, filename, sha256, stripped_sha256, size, pages, uploaded_at "
        "FROM attachment "
        "WHERE proposal = $1 ORDER BY kind, id",
        row["id"],
    )
    versions = await database.fetch(
        "SELECT number, receipt_no, received_at, content_sha256 FROM proposal_version "
        "WHERE proposal = $1 ORDER BY number DESC",
        row["id"],
    )
    return Proposal(
        id=row["id"],
        reference=proposal_reference(call.fund_code, row["created_at"].year, row["id"]),
        call=call,
        organisation_id=row["organisation"],
        organisation_name=Localized(row["org_vi"], row["org_en"]),
        organisation_verified=row["verified"],
        status=Status(row["status"]),
        draft=Draft.from_json(json.loads(row["draft"])),
        row_version=row["row_version"],
        submitted_version=row["submitted_version"],
        updated_at=row["updated_at"],
        attachments=tuple(
            AttachmentRow(**{**dict(a), "kind": AttachmentKind(a["kind"])}) for a in attachments
        ),
        versions=tuple(VersionRow(**dict(v)) for v in versions),
    )


async def get(actor: Actor, proposal_id: int, *, lock: bool = False) -> Proposal:
    """One of the actor's organisations' proposals; NotFound for anyone else's."""
    row, call = await _load(proposal_id, lock=lock)
    if row["organisation"] not in _member_of(actor):
        raise NotFound(NOT_FOUND)
    return await _proposal(row, call)


async def mine(actor: Actor) -> tuple[ProposalSummary, ...]:
    rows = await database.fetch(
        "SELECT p.id, p.call, p.status, p.submitted_version, p.updated_at, p.created_at, "
        "p.draft->>'title_vi' AS title, c.title_vi, c.title_en, c.closes_at, f.code "
        "FROM proposal p JOIN call c ON c.id = p.call JOIN fund f ON f.id = c.fund "
        "WHERE p.organisation = ANY($1::int[]) ORDER BY p.updated_at DESC LIMIT 200",
        sorted(_member_of(actor)),
    )
    return tuple(
        ProposalSummary(
            id=r["id"],
            reference=proposal_reference(r["code"], r["created_at"].year, r["id"]),
            title=r["title"],
            call_id=r["call"],
            call_title=Localized(r["title_vi"], r["title_en"] or None),
            closes_at=r["closes_at"],
            status=Status(r["status"]),
            submitted_version=r["submitted_version"],
            updated_at=r["updated_at"],
        )
        for r in rows
    )


def _require_open(proposal: Proposal, at: datetime) -> None:
    if not proposal.editable(at):
        raise Conflict(CLOSED, closes_at=proposal.call.spec.closes_at)


async def save_draft(
    actor: Actor, proposal_id: int, draft: Draft, row_version: int, origin: Origin
) -> Proposal:
    """Store the draft if nobody changed it since `row_version`; answer the proposal as saved.

    A stale `row_version` (another tab saved first) is StaleEdit, never a silent overwrite.
    Saving the draft of a submitted proposal does not change what was submitted.
    """
    at = await now()
    async with database.engine().transaction():
        proposal = await get(actor, proposal_id, lock=True)
        _require_open(proposal, at)
        if proposal.row_version != row_version:
            raise StaleEdit("This draft was changed in another window or by a colleague.")
        if draft == proposal.draft:
            return proposal
        sums = draft.totals
        new_version = await database.fetchval(
            "UPDATE proposal SET draft = $2::jsonb, requested_vnd = $3, own_vnd = $4, "
            "technologies = $5::int[], row_version = row_version + 1, updated_at = now() "
            "WHERE id = $1 RETURNING row_version",
            proposal_id,
            json.dumps(draft.to_json(), ensure_ascii=False),
            sums.requested_vnd,
            sums.own_vnd,
            list(draft.technologies),
        )
        before, after = proposal.draft.to_json(), draft.to_json()
        await audit.record(
            "proposal.draft_saved",
            f"proposal:{proposal_id}",
            actor=actor.ref,
            client_address=origin.client_address,
            after={"changed": sorted(k for k in after if after[k] != before[k])},
        )
    return replace(proposal, draft=draft, row_version=new_version)


# Attachments ---------------------------------------------------------------------------------


async def add_attachment(
    actor: Actor,
    proposal_id: int,
    kind: str,
    filename: str,
    data: bytes,
    store: BlobStore,
    origin: Origin,
) -> int:
    """Check the uploaded PDF (content, not name), store it and its metadata-free copy, and
    attach it to the draft. Nothing is stored unless every check passes."""
    if kind not in set(AttachmentKind):
        raise InvalidInput("Choose what kind of document this is.", field="kind")
    name = clean(Path(filename.replace("\\", "/")).name)[:FILENAME_MAX] or "document.pdf"
    proposal = await get(actor, proposal_id)
    _require_open(proposal, await now())
    size = len(data)
    _check_quota(proposal, size)
    with tempfile.TemporaryDirectory() as folder:  # the checker reads a file, in its own process
        upload = Path(folder) / "upload.pdf"
        await asyncio.to_thread(upload.write_bytes, data)
        checked = await check_pdf(upload)
    # Files reach the disk before the row that names them commits (blobs.BlobStore).
    sha256 = await asyncio.to_thread(store.put, data)
    stripped = await asyncio.to_thread(store.put, checked.stripped)
    at = await now()
    async with database.engine().transaction():
        proposal = await get(actor, proposal_id, lock=True)
        _require_open(proposal, at)
        _check_quota(proposal, size)
        await database.execute(
            "INSERT INTO blob (sha256, size) VALUES ($1, $2), ($3, $4) "
            "ON CONFLICT (sha256) DO NOTHING",
            sha256,
            size,
            stripped,
            len(checked.stripped),
        )
        attachment_id = await database.fetchval(
            "INSERT INTO attachment (proposal, kind, filename, sha256, stripped_sha256, size, "
            "pages, uploaded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            proposal_id,
            kind,
            name,
            sha256,
            stripped,
            size,
            checked.pages,
            actor.account_id,
        )
        await audit.record(
            "proposal.attachment_added",
            f"proposal:{proposal_id}",
            actor=actor.ref,
            client_address=origin.client_address,
            after={"attachment": attachment_id, "kind": kind, "sha256": sha256, "size": size},
        )
    return attachment_id


def _check_quota(proposal: Proposal, size: int) -> None:
    """Room left on the proposal (each file's own size limit is check_pdf's)."""
    if len(proposal.attachments) >= ATTACHMENTS_MAX:
        raise Conflict("A proposal can have at most %(count)s files.", count=ATTACHMENTS_MAX)
    if sum(a.size for a in proposal.attachments) + size > QUOTA_BYTES:
        raise Conflict(
            "The files of one proposal can take at most %(limit)s MB in all.",
            limit=QUOTA_BYTES // 1024 // 1024,
        )


async def remove_attachment(
    actor: Actor, proposal_id: int, attachment_id: int, origin: Origin
) -> None:
    at = await now()
    async with database.engine().transaction():
        proposal = await get(actor, proposal_id, lock=True)
        _require_open(proposal, at)
        removed = await database.fetchrow(
            "DELETE FROM attachment WHERE id = $1 AND proposal = $2 RETURNING kind, sha256",
            attachment_id,
            proposal_id,
        )
        if removed is None:
            raise NotFound(NOT_FOUND)
        await audit.record(
            "proposal.attachment_removed",
            f"proposal:{proposal_id}",
            actor=actor.ref,
            client_address=origin.client_address,
            before={"attachment": attachment_id, **dict(removed)},
        )


async def attachment_file(actor: Actor, proposal_id: int, sha256: str) -> tuple[str, str]:
    """(sha256, file name) of a file the actor's proposal has, in its draft or any version."""
    proposal = await get(actor, proposal_id)
    for attachment in proposal.attachments:
        if attachment.sha256 == sha256:
            return sha256, attachment.filename
    found = await database.fetchval(
        "SELECT f->>'filename' FROM proposal_version v, jsonb_array_elements(v.content->'files') f "
        "WHERE v.proposal = $1 AND f->>'sha256' = $2 LIMIT 1",
        proposal_id,
        sha256,
    )
    if found is None:
        raise NotFound(NOT_FOUND)
    return sha256, found


# Submission ----------------------------------------------------------------------------------


def _content(proposal: Proposal) -> dict[str, Any]:
    """What a version records: the draft, the call and its criteria version, every file."""
    return {
        "reference": proposal.reference,
        "call": proposal.call.id,
        "criteria_version": proposal.call.criteria_version,
        "organisation": proposal.organisation_id,
        "proposal": proposal.draft.to_json(),
        "files": [
            {
                "kind": str(a.kind),
                "filename": a.filename,
                "sha256": a.sha256,
                "stripped_sha256": a.stripped_sha256,
                "size": a.size,
                "pages": a.pages,
            }
            for a in proposal.attachments
        ],
    }


async def submit(
    actor: Actor,
    proposal_id: int,
    submit_key: str,
    origin: Origin,
    *,
    received_at: datetime | None = None,
) -> Receipt:
    """Submit the draft as a new read-only version and answer its receipt.

    `submit_key` comes from the submit form: a repeated click or a retry with the same key
    answers the receipt it already produced (even after the deadline: it was received in
    time), so one click is one version. The receipt time is the server's clock when the
    request arrived; the call must still be open at that instant.
    """
    try:
        key = uuid.UUID(submit_key)
    except ValueError:
        raise InvalidInput(
            "This form is out of date. Reload the page and submit again.", field="submit_key"
        ) from None
    received_at = received_at or await now()
    async with database.engine().transaction():
        proposal = await get(actor, proposal_id, lock=True)
        earlier = await database.fetchrow(
            "SELECT number, content FROM proposal_version WHERE proposal = $1 AND submit_key = $2",
            proposal_id,
            key,
        )
        if earlier is not None:
            # A retry of the same click answers its receipt; the same key with a draft changed
            # since (a page kept open after submitting) must not pass for a new submission.
            sent, now_content = json.loads(earlier["content"]), _content(proposal)
            if (sent["proposal"], sent["files"]) != (now_content["proposal"], now_content["files"]):
                raise Conflict(
                    "This page already submitted version %(number)s and the draft has changed "
                    "since. Reload the page and submit again.",
                    number=earlier["number"],
                )
            return await receipt(actor, proposal_id, earlier["number"])
        problems = blocking(proposal.checks(received_at))
        if any(check.key == "open" for check in problems):
            raise Conflict(CLOSED, closes_at=proposal.call.spec.closes_at)
        if problems:
            raise InvalidForm(
                [InvalidInput(c.message, field=c.field, **c.params) for c in problems]
            )
        content = _content(proposal)
        digest = content_digest(content)
        number = proposal.submitted_version + 1
        receipt_no = receipt_number(proposal.reference, number)
        version_id = await database.fetchval(
            "INSERT INTO proposal_version (proposal, number, submit_key, content, "
            "content_sha256, criteria_version, received_at, receipt_no, submitted_by, "
            "fingerprint) VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, "
            "registry_fold($10)) RETURNING id",
            proposal_id,
            number,
            key,
            json.dumps(content, ensure_ascii=False),
            digest,
            proposal.call.criteria_version,
            received_at,
            receipt_no,
            actor.account_id,
            f"{proposal.draft.title_vi} {proposal.draft.abstract_vi}",
        )
        failpoints.reach("submit.after_version_insert")
        await database.execute(
            "UPDATE proposal SET status = 'submitted', submitted_version = $2, "
            "withdrawn_at = NULL, updated_at = now() WHERE id = $1",
            proposal_id,
            number,
        )
        await _flag_duplicates(version_id, proposal)
        await _mail_receipt(actor, proposal, receipt_no, received_at, digest)
        failpoints.reach("submit.before_audit")
        await audit.record(
            "proposal.submitted" if number == 1 else "proposal.resubmitted",
            f"proposal:{proposal_id}",
            actor=actor.ref,
            client_address=origin.client_address,
            after={
                "version": number,
                "receipt_no": receipt_no,
                "received_at": received_at,
                "content_sha256": digest,
            },
        )
        failpoints.reach("submit.before_commit")
    failpoints.reach("submit.after_commit")
    # Built from what was just written: no second read of the proposal at the deadline peak.
    return _receipt(proposal, number, receipt_no, received_at, digest, content, actor.display_name)


async def _flag_duplicates(version_id: int, proposal: Proposal) -> None:
    """Flag other proposals' latest versions and funded projects that read much like this one.
    Only the fund's managers see the flags."""
    await database.execute(f"SET LOCAL pg_trgm.similarity_threshold = {DUPLICATE_THRESHOLD}")
    await database.execute(
        """INSERT INTO duplicate_flag (version, other_proposal, similarity)
           SELECT $1, v.proposal, round(similarity(v.fingerprint, me.fingerprint) * 100)
           FROM proposal_version me
           JOIN proposal_version v ON v.fingerprint % me.fingerprint AND v.proposal <> me.proposal
           JOIN proposal p ON p.id = v.proposal AND p.submitted_version = v.number
           WHERE me.id = $1
           ORDER BY similarity(v.fingerprint, me.fingerprint) DESC LIMIT 10""",
        version_id,
    )
    await database.execute(
        """INSERT INTO duplicate_flag (version, other_project, similarity)
           SELECT $1, p.id, round(similarity(registry_fold(p.title_vi), registry_fold($2)) * 100)
           FROM project p WHERE registry_fold(p.title_vi) % registry_fold($2)
           ORDER BY similarity(registry_fold(p.title_vi), registry_fold($2)) DESC LIMIT 10""",
        version_id,
        proposal.draft.title_vi,
    )


async def _mail_receipt(
    actor: Actor, proposal: Proposal, receipt_no: str, received_at: datetime, digest: str
) -> None:
    language = await database.fetchval(
        "SELECT language FROM account WHERE id = $1", actor.account_id
    )
    await mail.enqueue(
        actor.email,
        language or "vi",
        N_("Proposal received: %(receipt_no)s"),
        N_(
            'Your proposal "%(title)s" to the call "%(call)s" was received on '
            "%(received_at)s (UTC).\n\nReceipt number: %(receipt_no)s\nSHA-256 of the "
            "submitted content: %(digest)s\n\nYou can resubmit until the call closes; only "
            "the latest version is reviewed. The receipt is in your proposal's history."
        ),
        {
            "title": proposal.draft.title_vi,
            "call": proposal.call.spec.title_vi,
            "received_at": received_at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
            "receipt_no": receipt_no,
            "digest": digest,
        },
    )


async def receipt(actor: Actor, proposal_id: int, number: int) -> Receipt:
    proposal = await get(actor, proposal_id)
    row = await database.fetchrow(
        "SELECT v.*, a.display_name FROM proposal_version v "
        "JOIN account a ON a.id = v.submitted_by WHERE v.proposal = $1 AND v.number = $2",
        proposal_id,
        number,
    )
    if row is None:
        raise NotFound(NOT_FOUND)
    return _receipt(
        proposal,
        number,
        row["receipt_no"],
        row["received_at"],
        row["content_sha256"],
        json.loads(row["content"]),
        row["display_name"],
    )


def _receipt(
    proposal: Proposal,
    number: int,
    receipt_no: str,
    received_at: datetime,
    content_sha256: str,
    content: dict[str, Any],
    submitted_by: str,
) -> Receipt:
    return Receipt(
        receipt_no=receipt_no,
        reference=proposal.reference,
        proposal_id=proposal.id,
        version=number,
        title=content["proposal"]["title_vi"],
        call_title=proposal.call.title,
        fund_name=proposal.call.fund_name,
        organisation_name=proposal.organisation_name,
        submitted_by=submitted_by,
        received_at=received_at,
        content_sha256=content_sha256,
        files=tuple(content["files"]),
    )


async def version_content(actor: Actor, proposal_id: int, number: int) -> Draft:
    """A submitted version's proposal, read-only."""
    await get(actor, proposal_id)
    raw = await database.fetchval(
        "SELECT content FROM proposal_version WHERE proposal = $1 AND number = $2",
        proposal_id,
        number,
    )
    if raw is None:
        raise NotFound(NOT_FOUND)
    return Draft.from_json(json.loads(raw)["proposal"])


async def withdraw(actor: Actor, proposal_id: int, origin: Origin) -> None:
    """Withdraw before the deadline: no version will be reviewed (the history stays). The
    proposal can be submitted again while the call is open."""
    at = await now()
    async with database.engine().transaction():
        proposal = await get(actor, proposal_id, lock=True)
        _require_open(proposal, at)
        if proposal.status != Status.SUBMITTED:
            raise Conflict("Only a submitted proposal can be withdrawn.")
        await database.execute(
            "UPDATE proposal SET status = 'withdrawn', withdrawn_at = $2, updated_at = now() "
            "WHERE id = $1",
            proposal_id,
            at,
        )
        await audit.record(
            "proposal.withdrawn",
            f"proposal:{proposal_id}",
            actor=actor.ref,
            client_address=origin.client_address,
            before={"status": str(proposal.status), "version": proposal.submitted_version},
        )


# The call dashboard (fund managers) ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DuplicateRow:
    proposal_id: int
    reference: str
    title: str
    other_kind: str  # proposal or project
    other_id: int
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
    counts = await database.fetch(
        "SELECT status, count(*)::int AS n FROM proposal WHERE call = $1 GROUP BY status",
        call_id,
    )
    by_status = {str(s): 0 for s in Status} | {r["status"]: r["n"] for r in counts}
    technologies = await database.fetch(
        """SELECT t.name_vi, t.name_en, count(*)::int AS n,
                  coalesce(sum(r.requested), 0)::bigint AS requested
           FROM proposal p
           JOIN proposal_version v ON v.proposal = p.id AND v.number = p.submitted_version
           CROSS JOIN LATERAL (SELECT coalesce(sum((b->>'requested')::bigint), 0) AS requested
                               FROM jsonb_array_elements(v.content->'proposal'->'budget') b) r
           CROSS JOIN LATERAL jsonb_array_elements_text(v.content->'proposal'->'technologies') tid
           JOIN technology t ON t.id = tid::int
           WHERE p.call = $1 AND p.status = 'submitted'
           GROUP BY t.id ORDER BY n DESC, t.sort_key COLLATE "C" """,
        call_id,
    )
    requested = await database.fetchval(
        """SELECT coalesce(sum((b->>'requested')::bigint), 0)::bigint
           FROM proposal p
           JOIN proposal_version v ON v.proposal = p.id AND v.number = p.submitted_version,
           jsonb_array_elements(v.content->'proposal'->'budget') b
           WHERE p.call = $1 AND p.status = 'submitted'""",
        call_id,
    )
    flags = await database.fetch(
        """SELECT p.id, p.created_at, v.content->'proposal'->>'title_vi' AS title,
                  d.other_proposal, d.other_project, d.similarity,
                  coalesce(op.draft->>'title_vi', pr.title_vi) AS other_title
           FROM duplicate_flag d
           JOIN proposal_version v ON v.id = d.version
           JOIN proposal p ON p.id = v.proposal AND p.submitted_version = v.number
           LEFT JOIN proposal op ON op.id = d.other_proposal
           LEFT JOIN project pr ON pr.id = d.other_project
           WHERE p.call = $1 AND p.status = 'submitted'
           ORDER BY d.similarity DESC, p.id LIMIT 200""",
        call_id,
    )
    return Dashboard(
        call=call,
        by_status=by_status,
        by_technology=tuple(
            (Localized(r["name_vi"], r["name_en"]), r["n"], r["requested"]) for r in technologies
        ),
        requested_vnd=requested,
        duplicates=tuple(
            DuplicateRow(
                proposal_id=f["id"],
                reference=proposal_reference(call.fund_code, f["created_at"].year, f["id"]),
                title=f["title"],
                other_kind="proposal" if f["other_proposal"] else "project",
                other_id=f["other_proposal"] or f["other_project"],
                other_title=f["other_title"],
                similarity=f["similarity"],
            )
            for f in flags
        ),
    )
