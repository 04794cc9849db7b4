"""Issuing decision documents: numbered, signed, stored once, verifiable by anyone.

`issue_for_outcome` / `issue_for_call` give an approved outcome (or a call's approved list)
its document: the next number of the issuing fund in the calendar year (Vietnam's), a
verification code, the PDF from the `render` function the caller passes (the decision
templates are documents' business, not this service's), signed by the fund (services.signing),
stored under its SHA-256, and one audit event. All in one transaction that holds the fund's
counter row from the number to the commit: numbers have no gaps and no duplicates whatever the
number of workers, and a failed issue gives its number back. Rendering inside that lock
serialises one fund's issues (the number is printed on the page, so it must be known before
rendering); other funds issue in parallel.

Issuing again is idempotent: an outcome's live document of its kind is returned as it is.
`correct` issues a new numbered document naming the one it replaces; the old one stays
verifiable, marked replaced. `by_code` and `by_sha256` are the public verify page's lookups.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from registry import database
from registry.domain import documents as rules
from registry.domain.accounts import Actor, Origin
from registry.domain.decision_documents import DecisionDocument, Signer
from registry.domain.documents import DocumentKind
from registry.domain.errors import Conflict, NotFound
from registry.domain.permissions import Target, may_issue_documents
from registry.domain.reviews import OutcomeKind
from registry.domain.text import fold
from registry.i18n import N_
from registry.services import audit, clock, decision_content, mail, scopes, signing
from registry.services.decision_content import Numbered
from registry.services.queries import documents as sql
from registry.services.storage import Storage, sha256_of
from registry.settings import Settings

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
#: The audit trail's actor when a batch job issues (no person at the keyboard).
SYSTEM = "system:documents"


@dataclass(frozen=True, slots=True)
class Draft:
    """What a renderer is given to lay out one document: everything printed on it that the
    issuing decides (the number, the date, the code and where to verify it)."""

    kind: DocumentKind
    call_id: int
    proposal_id: int | None
    outcome_id: int | None
    fund_id: int
    fund_name: str
    number: int
    number_label: str
    issued_at: datetime
    verification_code: str
    #: The public page a QR code on the document should point to.
    verify_url: str
    #: The label of the document this one corrects, if any.
    replaces_label: str | None
    #: What the document says (services.decision_content), for the renderer to lay out.
    document: DecisionDocument


#: Lays out a document: the unsigned PDF of the draft (WeasyPrint, PDF/A-3b).
Renderer = Callable[[Draft], Awaitable[bytes]]


@dataclass(frozen=True, slots=True)
class IssuedDocument:
    id: int
    kind: DocumentKind
    call_id: int
    proposal_id: int | None
    outcome_id: int | None
    fund_id: int
    fund_name: str
    year: int
    number: int
    number_label: str
    #: What it decides about: the proposal (reference, title, organisation) or the call.
    subject: str
    issued_at: datetime
    sha256: str
    size: int
    verification_code: str
    signer: str
    replaces_code: str | None
    replaces_label: str | None
    replaced_by_code: str | None
    replaced_by_label: str | None

    @property
    def replaced(self) -> bool:
        return self.replaced_by_code is not None

    @property
    def file_name(self) -> str:
        """ASCII, from the number: `07-QD-NAFOSTED.pdf`."""
        folded = fold(self.number_label).upper()
        return "".join(c if c.isascii() and c.isalnum() else "-" for c in folded) + ".pdf"


def _document(row: Any) -> IssuedDocument:
    return IssuedDocument(
        id=row["id"],
        kind=DocumentKind(row["kind"]),
        call_id=row["call"],
        proposal_id=row["proposal"],
        outcome_id=row["outcome"],
        fund_id=row["fund"],
        fund_name=row["fund_name"],
        year=row["year"],
        number=row["number"],
        number_label=row["number_label"],
        subject=row["subject"],
        issued_at=row["issued_at"],
        sha256=row["sha256"],
        size=row["size"],
        verification_code=row["verification_code"],
        signer=row["signer"],
        replaces_code=row["replaces_code"],
        replaces_label=row["replaces_label"],
        replaced_by_code=row["replaced_by_code"],
        replaced_by_label=row["replaced_by_label"],
    )


@dataclass(frozen=True, slots=True)
class _Subject:
    kind: DocumentKind
    call_id: int
    fund_id: int
    proposal_id: int | None
    outcome_id: int | None
    text: str


async def _outcome_subject(outcome_id: int) -> _Subject:
    row = await database.fetchrow(sql.OUTCOME, outcome_id)
    if row is None:
        raise NotFound()
    text = f"{row['reference']} · {row['proposal_title']} · {row['organisation']}"
    return _Subject(
        rules.KIND_OF_OUTCOME[OutcomeKind(row["kind"])],
        row["call"],
        row["fund"],
        row["proposal"],
        row["outcome"],
        text,
    )


async def _call_subject(call_id: int) -> _Subject:
    row = await database.fetchrow(sql.APPROVED_CALL, call_id)
    if row is None:
        raise NotFound()
    return _Subject(
        DocumentKind.CALL_DECISION, row["call"], row["fund"], None, None, row["call_title"]
    )


def _allowed(actor: Actor | None, fund_id: int) -> None:
    """The fund's managers issue; `None` is the system (a job a manager started)."""
    if actor is not None:
        scopes.require(may_issue_documents, actor, Target(fund=fund_id))


async def issue_for_outcome(
    actor: Actor | None,
    outcome_id: int,
    render: Renderer,
    origin: Origin | None,
    *,
    settings: Settings,
    storage: Storage,
    signer: Signer | None = None,
) -> IssuedDocument:
    """The approved outcome's document (funding, reserve or rejection), issued now unless
    it already was, and mailed to the applicant."""
    subject = await _outcome_subject(outcome_id)
    _allowed(actor, subject.fund_id)
    return await _issue(
        actor, subject, render, origin, settings, storage, replaces=None, signer=signer
    )


async def issue_for_call(
    actor: Actor | None,
    call_id: int,
    render: Renderer,
    origin: Origin | None,
    *,
    settings: Settings,
    storage: Storage,
    signer: Signer | None = None,
) -> IssuedDocument:
    """The call's decision approving its list, issued now unless it already was."""
    subject = await _call_subject(call_id)
    _allowed(actor, subject.fund_id)
    return await _issue(
        actor, subject, render, origin, settings, storage, replaces=None, signer=signer
    )


async def correct(
    actor: Actor | None,
    document_id: int,
    render: Renderer,
    origin: Origin | None,
    *,
    settings: Settings,
    storage: Storage,
) -> IssuedDocument:
    """A new numbered document replacing `document_id` (same outcome and kind), rendered
    from the data as it is now; the old one stays verifiable, marked replaced."""
    row = await database.fetchrow(sql.BY_ID, document_id)
    if row is None:
        raise NotFound()
    old = _document(row)
    _allowed(actor, old.fund_id)
    if old.replaced:
        raise Conflict(
            "This document was already replaced by %(label)s.", label=old.replaced_by_label or ""
        )
    if old.outcome_id is not None:
        subject = await _outcome_subject(old.outcome_id)
    else:
        subject = await _call_subject(old.call_id)
    return await _issue(actor, subject, render, origin, settings, storage, replaces=old)


async def outcomes_of_call(actor: Actor | None, call_id: int) -> list[int]:
    """The ids of the call's approved outcomes, in rank order (what a batch issues)."""
    subject = await _call_subject(call_id)
    _allowed(actor, subject.fund_id)
    return [r["id"] for r in await database.fetch(sql.CALL_OUTCOMES, call_id)]


async def _live(subject: _Subject) -> IssuedDocument | None:
    row = await database.fetchrow(sql.LIVE, subject.outcome_id, str(subject.kind), subject.call_id)
    return None if row is None else _document(row)


async def _put_outside(storage: Storage, data: bytes) -> str:
    """`storage.put` in a transaction of its own, from inside the caller's: the file commits
    before the row naming it (the storage's rule), and at worst is an orphan the sweep takes."""

    async def put() -> str:
        database.engine().current_transaction.set(None)  # this task's copy of the context
        return await storage.put(data)

    return await asyncio.create_task(put())


async def _issue(
    actor: Actor | None,
    subject: _Subject,
    render: Renderer,
    origin: Origin | None,
    settings: Settings,
    storage: Storage,
    *,
    replaces: IssuedDocument | None,
    signer: Signer | None = None,
) -> IssuedDocument:
    at = clock.arrival(origin) if origin is not None else clock.now()
    year = at.astimezone(VIETNAM).year
    async with database.transaction():
        await database.execute(sql.ISSUE_TIMEOUT)
        fund = await database.fetchrow(sql.FUND, subject.fund_id)
        # Both wait while another issue of the fund renders (a counter it made and has not
        # committed, the row it holds): longer than the pool's client-side bound on a query
        # (DATABASE_QUERY_TIMEOUT_MS), a web query's, which would give up first.
        wait = sql.ISSUE_WAIT_SECONDS
        async with database.connection() as conn:
            await conn.execute(sql.ENSURE_COUNTER, subject.fund_id, year, timeout=wait)
            last = await conn.fetchval(sql.LOCK_COUNTER, subject.fund_id, year, timeout=wait)
        # Under the counter's lock, so a concurrent issue of the same outcome has committed.
        live = await _live(subject)
        if replaces is None and live is not None:
            return live
        if replaces is not None:
            locked = await database.fetchrow(sql.FOR_UPDATE, replaces.id)
            if locked["replaced_by"] is not None:
                raise Conflict("This document was already replaced. Reload the page.")
        number = last + 1
        code = rules.code_from_bytes(secrets.token_bytes(7))
        verify_url = f"{settings.public_url}/verify/{code}"
        document = await decision_content.compose(
            Numbered(
                kind=subject.kind,
                call_id=subject.call_id,
                outcome_id=subject.outcome_id,
                number=number,
                code=code,
                verify_url=verify_url,
                issued_on=at.astimezone(VIETNAM).date(),
                replaces=replaces.number_label if replaces else "",
                signer=signer,
            )
        )
        label = document.reference
        draft = Draft(
            kind=subject.kind,
            call_id=subject.call_id,
            proposal_id=subject.proposal_id,
            outcome_id=subject.outcome_id,
            fund_id=subject.fund_id,
            fund_name=fund["name_vi"],
            number=number,
            number_label=label,
            issued_at=at,
            verification_code=code,
            verify_url=verify_url,
            replaces_label=replaces.number_label if replaces else None,
            document=document,
        )
        issuer = signing.Issuer(fund["id"], fund["code"], fund["name_vi"])
        signed = await signing.sign(settings, issuer, await render(draft))
        sha256 = await _put_outside(storage, signed)
        assert sha256 == sha256_of(signed)
        await database.execute(sql.NAME_FILE, sha256, len(signed))
        document_id = await database.fetchval(sql.NEXT_ID)
        if replaces is not None:
            await database.execute(sql.MARK_REPLACED, replaces.id, document_id)
        await database.execute(
            sql.INSERT,
            document_id,
            str(subject.kind),
            subject.call_id,
            subject.proposal_id,
            subject.outcome_id,
            subject.fund_id,
            year,
            number,
            label,
            subject.text,
            at,
            actor.account_id if actor else None,
            sha256,
            len(signed),
            code,
            replaces.id if replaces else None,
            issuer.name,
        )
        await database.execute(sql.ADVANCE_COUNTER, subject.fund_id, year, number)
        await audit.record(
            "document.issued",
            f"decision_document:{document_id}",
            actor=actor if actor is not None else SYSTEM,
            origin=origin,
            before={"replaces": replaces.number_label} if replaces else None,
            after={
                "kind": str(subject.kind),
                "number": label,
                "year": year,
                "call": subject.call_id,
                "outcome": subject.outcome_id,
                "sha256": sha256,
                "code": code,
            },
        )
        row = await database.fetchrow(sql.BY_ID, document_id)
        issued = _document(row)
        if subject.outcome_id is not None:
            await _mail_applicant(issued)
    return issued


async def _mail_applicant(document: IssuedDocument) -> None:
    """The signed document to whoever submitted the proposal, in their language."""
    row = await database.fetchrow(sql.APPLICANT, document.outcome_id)
    if row is None:  # the account was disabled since
        return
    await mail.enqueue(
        row["email"],
        row["language"] or "vi",
        N_("%(fund)s: document %(number)s on your proposal %(reference)s"),
        N_(
            '%(fund)s has issued document %(number)s on your proposal "%(title)s" '
            '(%(reference)s) to the call "%(call)s". The signed PDF is attached.\n\n'
            "Anyone can check that it is genuine at %(link)s (verification code %(code)s)."
        ),
        {
            "fund": row["fund_name"],
            "number": document.number_label,
            "reference": row["reference"],
            "title": row["title"],
            "call": row["call_title"],
            "code": document.verification_code,
            "link": mail.page_link(f"/verify/{document.verification_code}"),
        },
        attachments=[mail.Attachment(document.sha256, document.file_name)],
    )


async def by_code(typed: str) -> IssuedDocument | None:
    """The issued document with this verification code (as typed), for anyone."""
    code = rules.normalise_code(typed)
    if code is None:
        return None
    row = await database.fetchrow(sql.BY_CODE, code)
    return None if row is None else _document(row)


async def by_sha256(sha256: str) -> IssuedDocument | None:
    """The issued document whose PDF has exactly this SHA-256, for anyone."""
    row = await database.fetchrow(sql.BY_SHA256, sha256)
    return None if row is None else _document(row)


async def of_call(actor: Actor, call_id: int) -> list[IssuedDocument]:
    """Every document issued for a call, replaced ones included (the fund's managers)."""
    subject = await _call_subject(call_id)
    _allowed(actor, subject.fund_id)
    return [_document(r) for r in await database.fetch(sql.OF_CALL, call_id)]
