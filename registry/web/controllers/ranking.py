"""The fund manager's ranking desk: a call's ranking with the funding line and the calibrated
view beside it, the what-if panel (a GET form: nothing is saved), and each proposal's reviews
with the consensus form.

Guarded by sign-in only: whether the person decides for the call's fund is the service's
question (`domain.permissions.may_decide`), so everyone else, reviewers and applicants
included, gets the same 404 as for a call that does not exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar, NamedTuple

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from markupsafe import Markup

from registry import formatting
from registry.domain.consensus import JUSTIFICATION_MAX, mark_field
from registry.domain.errors import InvalidForm, InvalidInput, NotFound, RegistryError
from registry.domain.scoring import (
    DISAGREEMENT_SPREAD,
    FundingPolicy,
    Line,
    LineEntry,
    format_mark,
    format_points,
)
from registry.i18n import gettext_
from registry.services import ranking
from registry.web import forms
from registry.web.auth import guarded_actor, origin_of, received_at, signed_in
from registry.web.forms.ranking import (
    consensus_from_form,
    merged,
    page_number,
    scenario_fields,
    scenario_from_query,
)

#: Official values formatted once per distinct value: marks, totals and scores repeat a lot, and
#: formatting an exact fraction costs more than the rest of a table cell (2,000 rows a page).
_POINTS: dict[tuple[int, int], str] = {}
_POINTS_MAX = 100_000


def points(value: Fraction) -> str:
    """`format_points`, remembered."""
    key = (value.numerator, value.denominator)
    shown = _POINTS.get(key)
    if shown is None:
        if len(_POINTS) >= _POINTS_MAX:
            _POINTS.clear()
        shown = _POINTS[key] = format_points(value)
    return shown


#: Rows of the ranking table per page: the whole ranking is computed for every page, but
#: 2,000 formatted rows (1.5 MB of HTML) would cost more than the ranking itself.
PAGE_ROWS = 250
#: Where a proposal without any rankable review stands on the table (after the eliminated).
AWAITING = "awaiting"


class Row(NamedTuple):
    """One line of the ranking table, its figures formatted in the reader's language."""

    proposal_id: int
    #: funded, reserve, eliminated (domain.scoring.Line) or AWAITING.
    line: str
    rank: int | None
    reference: str
    title: str
    organisation: str
    requested: str
    #: The official mark cells (digits and fixed classes only: safe as they are).
    marks: Markup
    total: str
    failed_overall: bool
    #: "passes", or the criteria (and "overall") below their threshold.
    thresholds: str
    eligible: bool
    consensus: bool
    score: str
    separated_by: str
    cumulative: str
    reviews: str
    disagreements: tuple[int, ...]
    z_score: str
    calibrated_rank: int | str
    #: The funding line is drawn under this row (the last one funded).
    line_below: bool


@dataclass(frozen=True, slots=True)
class TablePage:
    rows: list[Row]
    #: 1.., or None when every row is shown.
    number: int | None
    pages: int
    #: Rows first..last (1-based) of total.
    first: int
    last: int
    total: int
    #: The page the funding line is drawn on (None: nothing funded).
    line_page: int | None


def table_page(review: ranking.CallReview, number: int | None) -> TablePage:
    """Page `number` of the table (every row for None): ranked entries in rank order, the
    eliminated, then the proposals awaiting reviews."""
    entries, unranked = review.line.entries, review.unranked
    total = len(entries) + len(unranked)
    pages = max(1, -(-total // PAGE_ROWS))
    if number is not None and number > pages:
        raise NotFound()
    start, stop = (0, total) if number is None else ((number - 1) * PAGE_ROWS, number * PAGE_ROWS)
    stop = min(stop, total)
    last_funded = max(
        (i for i, entry in enumerate(entries) if entry.line is Line.FUNDED), default=-1
    )
    rows = _ranked_rows(review, entries, start, min(stop, len(entries)), last_funded)
    rows += _awaiting_rows(review, unranked[max(0, start - len(entries)) : stop - len(entries)])
    return TablePage(
        rows=rows,
        number=number,
        pages=pages,
        first=start + 1 if total else 0,
        last=stop,
        total=total,
        line_page=last_funded // PAGE_ROWS + 1 if last_funded >= 0 else None,
    )


def _ranked_rows(
    review: ranking.CallReview, entries: Sequence[LineEntry], start: int, stop: int, last: int
) -> list[Row]:
    """Rows start..stop of the funding line's entries, formatted once here rather than cell
    by cell in the template."""
    calibration = review.calibration
    z_scores, disagreements = calibration.z_score, calibration.disagreements
    names = [formatting.localized(item.name) for item in review.criteria.items]
    passes, below, overall = gettext_("passes"), gettext_("below threshold:"), gettext_("overall")
    rows = []
    for index in range(start, stop):
        entry = entries[index]
        ranked = entry.ranked
        proposal = review.proposal(ranked.proposal)
        failed = ranked.failed
        cells = "".join(
            f'<td class="num failed">{points(mark)}</td>'
            if i in failed
            else f'<td class="num">{points(mark)}</td>'
            for i, mark in enumerate(ranked.marks)
        )
        z = z_scores.get(ranked.proposal)
        if ranked.eligible:
            thresholds = passes
        else:
            below_names = [names[i] for i in failed] + [overall] * ranked.failed_overall
            thresholds = f"{below} {', '.join(below_names)}"
        rows.append(
            Row(
                proposal_id=ranked.proposal,
                line=str(entry.line),
                rank=ranked.rank,
                reference=proposal.reference,
                title=formatting.localized(proposal.title),
                organisation=formatting.localized(proposal.organisation_name),
                requested=formatting.vnd(proposal.requested_vnd),
                marks=Markup(cells),  # noqa: S704 (digits and fixed markup only)
                total=points(ranked.total),
                failed_overall=ranked.failed_overall,
                thresholds=thresholds,
                eligible=ranked.eligible,
                consensus=proposal.consensus is not None,
                score=points(ranked.score),
                separated_by=str(ranked.separated_by or ""),
                cumulative=formatting.vnd(entry.cumulative_vnd),
                reviews=f"{proposal.submitted_reviews}/{proposal.assigned}",
                disagreements=disagreements.get(ranked.proposal, ()),
                z_score="" if z is None else f"{z:+.2f}",
                calibrated_rank=review.calibrated_rank.get(ranked.proposal, ""),
                line_below=index == last,
            )
        )
    return rows


def _awaiting_rows(
    review: ranking.CallReview, proposals: Sequence[ranking.ProposalRow]
) -> list[Row]:
    empty = Markup('<td class="num"></td>' * len(review.criteria.items))  # noqa: S704
    return [
        Row(
            proposal_id=p.proposal_id,
            line=AWAITING,
            rank=None,
            reference=p.reference,
            title=formatting.localized(p.title),
            organisation=formatting.localized(p.organisation_name),
            requested=formatting.vnd(p.requested_vnd),
            marks=empty,
            total="",
            failed_overall=False,
            thresholds="",
            eligible=True,
            consensus=False,
            score="",
            separated_by="",
            cumulative="",
            reviews=f"{p.submitted_reviews}/{p.assigned}",
            disagreements=(),
            z_score="",
            calibrated_rank="",
            line_below=False,
        )
        for p in proposals
    ]


def _common(review: ranking.CallReview) -> dict[str, Any]:
    """What every ranking page shows its figures with."""
    return {
        "review": review,
        "criteria": review.criteria,
        "points": points,
        "lines": Line,
        "policies": list(FundingPolicy),
    }


class RankingController(Controller):
    guards: ClassVar = [signed_in]

    @get("/manage/calls/{call_id:int}/ranking", name="call_ranking")
    async def ranking_page(self, request: Request, call_id: FromPath[int]) -> Template:
        number = page_number(request.query_params)
        review = await ranking.call_review(
            guarded_actor(request), forms.item_id(call_id), reviews=False
        )
        return Template(
            "ranking/dashboard.html",
            context=_common(review)
            | {
                "now": received_at(request),
                "table": table_page(review, number),
                "values": scenario_fields(review.criteria, review.budget_vnd, review.policy),
                "errors": {},
            },
        )

    @get("/manage/calls/{call_id:int}/ranking/what-if", name="call_what_if")
    async def what_if_page(self, request: Request, call_id: FromPath[int]) -> Template:
        review = await ranking.call_review(
            guarded_actor(request), forms.item_id(call_id), reviews=False
        )
        params = dict(request.query_params)
        values = scenario_fields(review.criteria, review.budget_vnd, review.policy)
        values |= {name: value for name, value in params.items() if name != "lang"}
        try:
            scenario = scenario_from_query(params, review.criteria)
            # Nothing asked yet (the panel opened from a link): the form alone.
            result = ranking.what_if_for(review, scenario) if params.keys() - {"lang"} else None
        except (InvalidForm, InvalidInput) as error:
            return forms.form_page(
                "ranking/what_if.html", values=values, error=error, result=None, **_common(review)
            )
        return forms.form_page(
            "ranking/what_if.html", values=values, result=result, **_common(review)
        )

    @get("/manage/proposals/{proposal_id:int}/ranking", name="proposal_ranking")
    async def proposal_page(self, request: Request, proposal_id: FromPath[int]) -> Template:
        forms.page_params(request.query_params)
        return await _proposal_page(request, forms.item_id(proposal_id))

    @post("/manage/proposals/{proposal_id:int}/consensus")
    async def enter_consensus(
        self, request: Request, proposal_id: FromPath[int]
    ) -> Template | Redirect:
        proposal_id = forms.item_id(proposal_id)
        actor = guarded_actor(request)
        values, _ = await forms.read_form(request)
        marks, justification, problems = consensus_from_form(values)
        try:
            await ranking.enter_consensus(
                actor, proposal_id, marks, justification, origin_of(request)
            )
        except (InvalidForm, InvalidInput) as error:
            return await _proposal_page(
                request, proposal_id, values=values, error=merged(problems, error)
            )
        return Redirect(f"/manage/proposals/{proposal_id}/ranking", status_code=303)

    @post("/manage/proposals/{proposal_id:int}/consensus/clear")
    async def clear_consensus(self, request: Request, proposal_id: FromPath[int]) -> Redirect:
        proposal_id = forms.item_id(proposal_id)
        await forms.read_form(request)
        await ranking.clear_consensus(guarded_actor(request), proposal_id, origin_of(request))
        return Redirect(f"/manage/proposals/{proposal_id}/ranking", status_code=303)


async def _proposal_page(
    request: Request,
    proposal_id: int,
    *,
    values: dict[str, str] | None = None,
    error: RegistryError | None = None,
) -> Template:
    review, proposal = await ranking.proposal_review(guarded_actor(request), proposal_id)
    if values is None:
        values = {}
        if proposal.consensus is not None:
            values = {
                mark_field(i): format_mark(m) for i, m in enumerate(proposal.consensus.marks)
            } | {"justification": proposal.consensus.justification}
    marks = [r.marks for r in proposal.reviews if r.rankable]
    return forms.form_page(
        "ranking/proposal.html",
        values=values,
        error=error,
        proposal=proposal,
        # The criteria its reviewers disagree on (as the ranking page flags them).
        disagreements=[
            i
            for i, column in enumerate(zip(*marks, strict=True))
            if max(column) - min(column) >= DISAGREEMENT_SPREAD  # type: ignore[operator]
        ],
        ranked=review.ranked_of(proposal_id),
        entry=review.line.of(proposal_id) if review.ranked_of(proposal_id) else None,
        justification_max=JUSTIFICATION_MAX,
        **_common(review),
    )
