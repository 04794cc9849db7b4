"""Submission: the draft becomes a read-only version with a receipt, near-duplicates are
flagged for the fund's managers, and the receipt is mailed; receipts and submitted versions
are read back later.

The receipt time is the instant the request arrived (`domain.clock`); the call must still be
open then (`domain.calls.received_in_time`). A repeated click answers the receipt it already
produced, so one click is one version.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from registry import database
from registry.domain.accounts import Actor, Origin
from registry.domain.catalogue import Localized
from registry.domain.clock import vietnam_time
from registry.domain.errors import Conflict, InvalidForm, InvalidInput, NotFound
from registry.domain.proposals import Draft, blocking, content_digest, receipt_number
from registry.i18n import N_
from registry.services import audit, clock, failpoints, mail, proposals, queue
from registry.services.proposals import Proposal
from registry.services.queries import proposals as sql

#: Near-duplicate flags: trigram similarity (0-1) of folded title and abstract.
DUPLICATE_THRESHOLD = 0.5


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

    @property
    def verification_path(self) -> str:
        return verification_path(self.receipt_no, self.content_sha256)


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
) -> Receipt:
    """Submit the draft as a new read-only version and answer its receipt.

    `submit_key` comes from the submit form: a repeated click or a retry with the same key
    answers the receipt it already produced (even after the deadline: it was received in
    time), so one click is one version. The receipt time is `origin.at`, when the request
    arrived; the call must still be open at that instant.
    """
    try:
        key = uuid.UUID(submit_key)
    except ValueError:
        raise InvalidInput(
            "This form is out of date. Reload the page and submit again.", field="submit_key"
        ) from None
    received_at = clock.arrival(origin)
    async with database.transaction():
        proposal = await proposals.get(actor, proposal_id, lock=True)
        earlier = await database.fetchrow(sql.VERSION_BY_KEY, proposal_id, key)
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
            raise Conflict(proposals.CLOSED, closes_at=proposal.call.spec.closes_at)
        if problems:
            raise InvalidForm(
                [InvalidInput(c.message, field=c.field, **c.params) for c in problems]
            )
        content = _content(proposal)
        digest = content_digest(content)
        number = proposal.submitted_version + 1
        receipt_no = receipt_number(proposal.reference, number)
        version_id = await database.fetchval(
            sql.INSERT_VERSION,
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
        await database.execute(sql.MARK_SUBMITTED, proposal_id, number)
        await _defer_duplicate_check(version_id)
        await _mail_receipt(actor, proposal, receipt_no, received_at, digest)
        failpoints.reach("submit.before_audit")
        await audit.record(
            "proposal.submitted" if number == 1 else "proposal.resubmitted",
            f"proposal:{proposal_id}",
            actor=actor,
            origin=origin,
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


async def _defer_duplicate_check(version_id: int) -> None:
    """Queue the near-duplicate check with the version, in its transaction. It used to run
    here and held every submission at the deadline for the whole comparison (seconds, up to
    the statement timeout, at a few thousand versions); a flag a few seconds late harms no one.
    """
    async with database.connection() as conn:
        await queue.defer(
            conn, queue.BACKGROUND_QUEUE, queue.FLAG_DUPLICATES, version_id=version_id
        )


async def flag_duplicates(version_id: int) -> None:
    """Flag other proposals' latest versions and funded projects that read much like version
    `version_id`; only the fund's managers see the flags. Run by the `flag_duplicates` job:
    running it again for a version replaces its flags, never adds to them."""
    async with database.transaction(), database.connection() as conn:
        await conn.execute(f"SET LOCAL pg_trgm.similarity_threshold = {DUPLICATE_THRESHOLD}")
        await conn.execute(sql.CLEAR_DUPLICATE_FLAGS, version_id)
        await conn.execute(sql.FLAG_PROPOSAL_DUPLICATES, version_id)
        await conn.execute(sql.FLAG_PROJECT_DUPLICATES, version_id)


def receipt_path(proposal_id: int, number: int) -> str:
    return f"/proposals/{proposal_id}/receipts/{number}"


def verification_path(receipt_no: str, content_sha256: str) -> str:
    """Where anyone holding a receipt checks it: the number and the content hash together,
    so the receipt itself is the key (`check_receipt`)."""
    return f"/verify/receipts/{receipt_no}?sha256={content_sha256}"


async def _mail_receipt(
    actor: Actor, proposal: Proposal, receipt_no: str, received_at: datetime, digest: str
) -> None:
    language = await database.fetchval(sql.ACCOUNT_LANGUAGE, actor.account_id)
    number = proposal.submitted_version + 1
    await mail.enqueue(
        actor.email,
        language or "vi",
        N_("Proposal received: %(receipt_no)s"),
        N_(
            'Your proposal "%(title)s" to the call "%(call)s" was received at %(local_time)s, '
            "Vietnam time (%(received_at)s UTC).\n\nReceipt number: %(receipt_no)s\nSHA-256 "
            "of the submitted content: %(digest)s\n\nThe receipt, to read or download as PDF: "
            "%(link)s\n\nYou can resubmit until the call closes; only the latest version is "
            "reviewed."
        ),
        {
            "title": proposal.draft.title_vi,
            "call": proposal.call.spec.title_vi,
            "local_time": vietnam_time(received_at),
            "received_at": received_at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
            "receipt_no": receipt_no,
            "digest": digest,
            "link": mail.page_link(receipt_path(proposal.id, number)),
        },
    )


@dataclass(frozen=True, slots=True)
class ReceiptCheck:
    """What the public check of a receipt confirms: nothing a receipt does not already say
    but the proposal's title, team and files."""

    receipt_no: str
    version: int
    received_at: datetime
    content_sha256: str
    call_title: Localized
    fund_name: Localized


async def check_receipt(receipt_no: str, content_sha256: str) -> ReceiptCheck | None:
    """The submission a receipt records, when its number and content hash both match one;
    else None. Public: only who holds the receipt knows its hash."""
    digest = content_sha256.strip().lower()
    if len(digest) != 64 or any(ch not in "0123456789abcdef" for ch in digest):
        return None
    row = await database.fetchrow(sql.RECEIPT_CHECK, receipt_no.strip()[:40], digest)
    if row is None:
        return None
    return ReceiptCheck(
        receipt_no=row["receipt_no"],
        version=row["number"],
        received_at=row["received_at"],
        content_sha256=row["content_sha256"],
        call_title=Localized(row["title_vi"], row["title_en"] or None),
        fund_name=Localized(row["fund_name_vi"], row["fund_name_en"] or None),
    )


async def receipt(actor: Actor, proposal_id: int, number: int) -> Receipt:
    proposal = await proposals.get(actor, proposal_id)
    row = await database.fetchrow(sql.VERSION, proposal_id, number)
    if row is None:
        raise NotFound()
    return _receipt(
        proposal,
        number,
        row["receipt_no"],
        row["received_at"],
        row["content_sha256"],
        json.loads(row["content"]),
        row["submitted_by"],
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
    await proposals.get(actor, proposal_id)
    raw = await database.fetchval(sql.VERSION_CONTENT, proposal_id, number)
    if raw is None:
        raise NotFound()
    return Draft.from_json(json.loads(raw)["proposal"])


async def unsubmitted_changes(proposal: Proposal) -> tuple[str, ...]:
    """What the draft changes from the last submitted version (of a proposal the caller has
    already read through `proposals.get`): its changed fields, and "files" when the documents
    differ. Empty when nothing was ever submitted."""
    if not proposal.submitted_version:
        return ()
    raw = await database.fetchval(sql.VERSION_CONTENT, proposal.id, proposal.submitted_version)
    sent = json.loads(raw)
    changed = proposal.draft.changes_from(Draft.from_json(sent["proposal"]))
    return changed + (("files",) if sent["files"] != _content(proposal)["files"] else ())


async def save_and_submit(
    actor: Actor,
    proposal_id: int,
    draft: Draft,
    row_version: int,
    submit_key: str,
    origin: Origin,
) -> Receipt:
    """Save the draft the applicant sees, then submit it, in one transaction: what is
    submitted is what was on screen, and a refusal of either leaves neither.

    The save follows `proposals.save_draft` (a stale `row_version` is StaleEdit). A draft equal
    to the stored one needs no save, whatever its row_version: that is how a retried click
    (its first attempt already saved and submitted) reaches `submit` and gets its receipt.
    """
    async with database.transaction():
        stored = await proposals.get(actor, proposal_id, lock=True)
        if draft != stored.draft:
            await proposals.save_draft(actor, proposal_id, draft, row_version, origin)
        return await submit(actor, proposal_id, submit_key, origin)
