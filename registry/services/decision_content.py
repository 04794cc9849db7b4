"""What an issued document says: the domain's standard texts (domain.decision_documents)
filled in from the call's approved decision, the issuing fund and the proposals as submitted.

`services.documents` calls `compose` under the fund's counter lock, once it has taken the
number and the verification code, and hands the result to the renderer: the documents layer
lays out exactly these values and embeds them as the PDF's JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from registry import database
from registry.domain.decision_documents import (
    DecisionDocument,
    Issuer,
    Issuing,
    Project,
    Signer,
    call_decision,
    half_up,
    notice_scores,
    outcome_notice,
    project_decision,
)
from registry.domain.documents import DocumentKind
from registry.domain.documents import issuer_abbreviation as abbreviation
from registry.domain.errors import NotFound
from registry.domain.reviews import ReviewStatus
from registry.services import ranking
from registry.services.queries import documents as sql

#: The capacity a decision is signed in when the manager issuing names no other.
DEFAULT_SIGNER_TITLE = "GIÁM ĐỐC"


@dataclass(frozen=True, slots=True)
class Numbered:
    """What issuing decided before the text is written: the number, the code and where to
    verify it, the day (in Vietnam), and the document it replaces, if any."""

    kind: DocumentKind
    call_id: int
    outcome_id: int | None
    number: int
    code: str
    verify_url: str
    issued_on: date
    replaces: str = ""
    #: Who signs (the batch's form); None: the approving manager, as the fund's head.
    signer: Signer | None = None


def _project(row: Any) -> Project:
    return Project(
        rank=row["rank"],
        reference=row["reference"] or "",
        title=row["title"] or "",
        organisation=row["organisation"],
        principal_investigator=row["principal_investigator"] or "",
        amount_vnd=row["amount_vnd"],
        duration_months=row["duration_months"] or 0,
    )


async def _issuing(numbered: Numbered) -> Issuing:
    row = await database.fetchrow(sql.ISSUING, numbered.call_id)
    if row is None:
        raise NotFound()
    name = row["fund_name"].upper()
    return Issuing(
        issuer=Issuer(
            parent=(row["operator"] or "").upper(),
            name=name,
            code=abbreviation(row["short_name"], row["code"]),
            authority=f"GIÁM ĐỐC {name}",
        ),
        signer=numbered.signer
        or Signer(on_behalf="", title=DEFAULT_SIGNER_TITLE, name=row["approver"]),
        issued_on=numbered.issued_on,
        call_title=row["call_title"],
    )


async def compose(numbered: Numbered) -> DecisionDocument:
    """The document `numbered` gives its number to."""
    issuing = await _issuing(numbered)
    common = {"code": numbered.code, "url": numbered.verify_url, "replaces": numbered.replaces}
    if numbered.kind == DocumentKind.CALL_DECISION:
        rows = await database.fetch(sql.PROJECTS, numbered.call_id, None)
        funded = tuple(_project(r) for r in rows if r["kind"] == "funded")
        return call_decision(issuing, numbered.number, funded, **common)
    row = await database.fetchrow(sql.PROJECTS, numbered.call_id, numbered.outcome_id)
    if row is None:
        raise NotFound()
    project = _project(row)
    if numbered.kind == DocumentKind.FUNDING:
        return project_decision(issuing, numbered.number, project, **common)
    return await _notice(issuing, numbered, project, row["proposal"], common)


async def _notice(
    issuing: Issuing, numbered: Numbered, project: Project, proposal_id: int, common: Any
) -> DecisionDocument:
    """A reserve or rejection notice: the requested amount, the official marks (consensus
    or aggregate, as ranked) and the reviewers' comments without their names."""
    review = await ranking.call_review_for_documents(numbered.call_id)
    proposal = review.proposal(proposal_id)
    ranked = review.ranked_of(proposal_id)
    criteria = review.criteria
    submitted = [r for r in proposal.reviews if r.status == ReviewStatus.SUBMITTED]
    comments = [
        [r.comments[i] for r in submitted if i < len(r.comments)]
        for i in range(len(criteria.items))
    ]
    scores = notice_scores(criteria, ranked.marks, comments) if ranked is not None else ()
    return outcome_notice(
        issuing,
        numbered.number,
        replace(project, amount_vnd=proposal.requested_vnd),
        reserve=numbered.kind == DocumentKind.RESERVE,
        scores=scores,
        total_tenths=half_up(ranked.total) if ranked is not None else None,
        total_max_tenths=sum(c.scale.high for c in criteria.items),
        **common,
    )
