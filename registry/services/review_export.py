"""The decision board's export of a call: every proposal with its official marks, thresholds,
rank, the tie-break rule that placed it, the calibrated score and the outcome; and every review
with each criterion's mark and comment. Nothing a board member needs is dropped.

Only the call's fund managers export (`services.ranking.call_review` guards it), so reviewer
identities appear even for blind calls: managers see them anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from registry.domain.accounts import Actor
from registry.domain.reviews import OutcomeKind
from registry.domain.scoring import format_mark, format_points, format_weight
from registry.services import decisions, ranking

Value = str | int | None


@dataclass(frozen=True, slots=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[Value, ...], ...]


@dataclass(frozen=True, slots=True)
class CallExport:
    call_id: int
    proposals: Table
    reviews: Table
    #: The same content, nested, for JSON.
    data: dict[str, Any]


def _score(value: Fraction) -> str:
    return format_points(value, 2)


async def call_export(actor: Actor, call_id: int, language: str) -> CallExport:
    desk = await decisions.desk(actor, call_id)
    review = desk.review
    names = [c.name.get(language) for c in review.criteria.items]
    outcomes = {c.proposal: c for c in desk.decision.preview.choices} if desk.decision else {}
    decision_status = str(desk.decision.status) if desk.decision else ""

    proposal_header = (
        "rank", "reference", "title", "organisation", "requested_vnd",
        "reviews_submitted", "reviews_assigned",
        *(f"{i}. {name}" for i, name in enumerate(names, start=1)),
        "consensus", "consensus_justification", "total", "weighted_score",
        "thresholds", "tie_break", "calibrated_z", "disagreement",
        "funding_line", "outcome", "decision_status", "amount_vnd", "outcome_reason",
    )  # fmt: skip
    proposal_rows = []
    json_proposals = []
    for row in review.proposals:
        r = review.ranked_of(row.proposal_id)
        entry = review.line.of(row.proposal_id) if r else None
        choice = outcomes.get(row.proposal_id)
        failed = (
            [names[i] for i in r.failed] + (["overall"] if r.failed_overall else []) if r else []
        )
        thresholds = "" if r is None else ("pass" if not failed else "failed: " + "; ".join(failed))
        z = review.calibration.z_score.get(row.proposal_id)
        disagreement = [names[i] for i in review.calibration.disagreements.get(row.proposal_id, ())]
        submitted = [v for v in row.reviews if v.status == "submitted"]
        proposal_rows.append(
            (
                r.rank if r else None, row.reference, row.title.get(language),
                row.organisation_name.get(language),
                row.requested_vnd, len(submitted), row.assigned,
                *((_score(m) for m in r.marks) if r else ("",) * len(names)),
                "yes" if row.consensus else "",
                row.consensus.justification if row.consensus else "",
                _score(r.total) if r else "", _score(r.score) if r else "",
                thresholds, str(r.separated_by) if r and r.separated_by else "",
                f"{z:.2f}" if z is not None else "", "; ".join(disagreement),
                str(entry.line) if entry else "",
                str(choice.outcome) if choice else "", decision_status if choice else "",
                choice.amount_vnd if choice and choice.outcome == OutcomeKind.FUNDED else None,
                choice.reason if choice else "",
            )
        )  # fmt: skip
        json_proposals.append(
            {
                "reference": row.reference,
                "title": row.title.get(language),
                "organisation": row.organisation_name.get(language),
                "requested_vnd": row.requested_vnd,
                "rank": r.rank if r else None,
                "marks": [_score(m) for m in r.marks] if r else None,
                "consensus": (
                    {
                        "marks": [format_mark(m) for m in row.consensus.marks],
                        "justification": row.consensus.justification,
                    }
                    if row.consensus
                    else None
                ),
                "total": _score(r.total) if r else None,
                "weighted_score": _score(r.score) if r else None,
                "failed_criteria": failed,
                "tie_break": str(r.separated_by) if r and r.separated_by else None,
                "calibrated_z": round(z, 4) if z is not None else None,
                "disagreement": disagreement,
                "funding_line": str(entry.line) if entry else None,
                "outcome": (
                    {
                        "kind": str(choice.outcome),
                        "status": decision_status,
                        "amount_vnd": choice.amount_vnd,
                        "reason": choice.reason,
                    }
                    if choice
                    else None
                ),
                "reviews": [_review_json(v, names) for v in row.reviews],
            }
        )

    review_header = (
        "reference", "reviewer_id", "reviewer", "status", "submitted_at",
        *(f"{i}. {name} ({part})" for i, name in enumerate(names, start=1)
          for part in ("mark", "comment")),
        "overall_comment",
    )  # fmt: skip
    review_rows = tuple(
        (
            row.reference,
            v.reviewer_id,
            v.reviewer_name,
            v.status,
            v.submitted_at.isoformat() if v.submitted_at else "",
            *(x for i in range(len(names)) for x in _mark_and_comment(v, i)),
            v.overall_comment,
        )
        for row in review.proposals
        for v in row.reviews
    )
    data = {
        "call": {"id": call_id, "title": review.call.title.get(language)},
        "criteria": [
            {
                "name": name,
                "threshold": format_mark(c.threshold),
                "weight": format_weight(c.weight),
            }
            for name, c in zip(names, review.criteria.items, strict=True)
        ],
        "aggregation": str(review.aggregation),
        "funding_policy": str(review.policy),
        "budget_vnd": review.line.budget_vnd,
        "proposals": json_proposals,
    }
    return CallExport(
        call_id,
        Table(proposal_header, tuple(proposal_rows)),
        Table(review_header, review_rows),
        data,
    )


def _mark_and_comment(v: ranking.ReviewRow, i: int) -> tuple[Value, Value]:
    mark = v.marks[i] if i < len(v.marks) else None
    comment = v.comments[i] if i < len(v.comments) else ""
    return (format_mark(mark) if mark is not None else "", comment)


def _review_json(v: ranking.ReviewRow, names: list[str]) -> dict[str, Any]:
    return {
        "reviewer_id": v.reviewer_id,
        "reviewer": v.reviewer_name,
        "status": v.status,
        "submitted_at": v.submitted_at.isoformat() if v.submitted_at else None,
        "criteria": [
            dict(zip(("mark", "comment"), _mark_and_comment(v, i), strict=True))
            for i in range(len(names))
        ],
        "overall_comment": v.overall_comment,
    }
