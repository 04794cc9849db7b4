"""A proposal's attached PDFs: checked by content before anything is stored, stored by
SHA-256 with a copy stripped of author metadata (for blind review), removed, and found again
for download (from the draft or any submitted version).

Nothing is stored unless every check passes; each action is one transaction that ends with
its audit event.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from registry import database
from registry.domain.accounts import Actor, Origin
from registry.domain.errors import Conflict, InvalidInput, NotFound
from registry.domain.proposals import AttachmentKind
from registry.domain.text import clean
from registry.services import audit, clock, proposals
from registry.services.attachments_check import check_pdf
from registry.services.queries import proposals as sql
from registry.services.storage import Storage

#: Per proposal: at most this many files and this many bytes in all.
ATTACHMENTS_MAX = 20
QUOTA_BYTES = 100 * 1024 * 1024
FILENAME_MAX = 200


async def add(
    actor: Actor,
    proposal_id: int,
    kind: str,
    filename: str,
    data: bytes,
    store: Storage,
    origin: Origin,
) -> int:
    """Check the uploaded PDF (content, not name), store it and its metadata-free copy, and
    attach it to the draft. Nothing is stored unless every check passes."""
    if kind not in set(AttachmentKind):
        raise InvalidInput("Choose what kind of document this is.", field="kind")
    name = clean(Path(filename.replace("\\", "/")).name)[:FILENAME_MAX] or "document.pdf"
    at = clock.arrival(origin)
    proposal = await proposals.get(actor, proposal_id)
    proposals.require_open(proposal, at)
    size = len(data)
    _check_quota(proposal, size)
    with tempfile.TemporaryDirectory() as folder:  # the checker reads a file, in its own process
        upload = Path(folder) / "upload.pdf"
        await asyncio.to_thread(upload.write_bytes, data)
        checked = await check_pdf(upload)
    # Files are stored, each in a step of its own, before the row that names them commits
    # (services.storage): a crash in between leaves an unreferenced file, never a missing one.
    sha256 = await store.put(data)
    stripped = await store.put(checked.stripped)
    async with database.transaction():
        proposal = await proposals.get(actor, proposal_id, lock=True)
        proposals.require_open(proposal, at)
        _check_quota(proposal, size)
        await database.execute(sql.INSERT_BLOBS, sha256, size, stripped, len(checked.stripped))
        attachment_id = await database.fetchval(
            sql.INSERT_ATTACHMENT,
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
            actor=actor,
            origin=origin,
            after={"attachment": attachment_id, "kind": kind, "sha256": sha256, "size": size},
        )
    return attachment_id


def _check_quota(proposal: proposals.Proposal, size: int) -> None:
    """Room left on the proposal (each file's own size limit is check_pdf's)."""
    if len(proposal.attachments) >= ATTACHMENTS_MAX:
        raise Conflict("A proposal can have at most %(count)s files.", count=ATTACHMENTS_MAX)
    if sum(a.size for a in proposal.attachments) + size > QUOTA_BYTES:
        raise Conflict(
            "The files of one proposal can take at most %(limit)s MB in all.",
            limit=QUOTA_BYTES // 1024 // 1024,
        )


async def remove(actor: Actor, proposal_id: int, attachment_id: int, origin: Origin) -> None:
    at = clock.arrival(origin)
    async with database.transaction():
        proposal = await proposals.get(actor, proposal_id, lock=True)
        proposals.require_open(proposal, at)
        removed = await database.fetchrow(sql.DELETE_ATTACHMENT, attachment_id, proposal_id)
        if removed is None:
            raise NotFound()
        await audit.record(
            "proposal.attachment_removed",
            f"proposal:{proposal_id}",
            actor=actor,
            origin=origin,
            before={
                "attachment": attachment_id,
                "kind": removed["kind"],
                "sha256": removed["sha256"],
            },
        )


async def file(actor: Actor, proposal_id: int, sha256: str) -> tuple[str, str]:
    """(sha256, file name) of a file the actor's proposal has, in its draft or any version."""
    proposal = await proposals.get(actor, proposal_id)
    for attachment in proposal.attachments:
        if attachment.sha256 == sha256:
            return sha256, attachment.filename
    found = await database.fetchval(sql.VERSION_FILE_NAME, proposal_id, sha256)
    if found is None:
        raise NotFound()
    return sha256, found
