"""The fund manager's reviewer assignment: a call's board (proposals x reviewers, affinity and
why, automatic assignment within load bounds) and one proposal's page (its reviewers, the
pool's candidates with their conflicts, adding and removing by hand)."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from registry import formatting
from registry.domain.accounts import Role
from registry.domain.conflicts import ConflictOfInterest
from registry.domain.errors import ConflictOfInterestFound, InvalidInput, RegistryError
from registry.domain.text import whole_number
from registry.services import assignments, calls
from registry.web import forms
from registry.web.auth import guarded_actor, has_role, origin_of
from registry.web.errors import status_of
from registry.web.forms import assignments as assignment_forms
from registry.web.i18n import translate

BOARD_PARAMETERS = frozenset({"added"}) | forms.COMMON_PARAMETERS
PROPOSAL_PARAMETERS = frozenset({"reviewer"}) | forms.COMMON_PARAMETERS


def reason_text(message: str, params: dict[str, object]) -> str:
    """A conflict's reason in the reader's language, its date written as they write dates."""
    shown = {k: formatting.date(v) if isinstance(v, dt.date) else v for k, v in params.items()}
    return translate(message, shown)


def conflict_text(found: ConflictOfInterest) -> str:
    return reason_text(found.message, dict(found.params))


def _board_page(
    board: assignments.Board,
    *,
    values: dict[str, str] | None = None,
    error: RegistryError | None = None,
    added: int | None = None,
) -> Template:
    low, high = board.bounds or ("", "")
    return forms.form_page(
        "assignments/board.html",
        values=values if values is not None else {"min_load": str(low), "max_load": str(high)},
        error=error,
        board=board,
        added=added,
        conflict_text=conflict_text,
    )


async def _proposal_page(
    request: Request,
    proposal_id: int,
    *,
    reviewer_id: int | None = None,
    refused: ConflictOfInterestFound | None = None,
) -> Template:
    """The proposal's reviewers and candidates; with `reviewer_id`, that reviewer checked;
    with `refused`, the conflicts that stopped an assignment (answered 409)."""
    actor = guarded_actor(request)
    page = await assignments.proposal_assignments(actor, proposal_id)
    check, error = None, None
    if reviewer_id is not None:
        try:
            check = await assignments.check_candidate(
                actor, proposal_id, reviewer_id, origin_of(request)
            )
        except InvalidInput as problem:  # not a reviewer of the pool
            error = problem
    answer = forms.form_page(
        "assignments/proposal.html",
        values={"reviewer": str(reviewer_id or "")},
        error=error,
        page=page,
        check=check,
        refusal=[reason_text(m, p) for m, p in refused.reasons] if refused else None,
        refusal_title=translate(refused.message, refused.params) if refused else None,
        conflict_text=conflict_text,
    )
    if refused is not None:
        answer.status_code = status_of(refused)
    return answer


class AssignmentsController(Controller):
    """Only the managers of the call's fund (others: 404, people without the role: 403)."""

    guards: ClassVar = [has_role(Role.FUND_MANAGER)]

    @get("/manage/calls/{call_id:int}/assignments", name="call_assignments")
    async def board(self, request: Request, call_id: FromPath[int]) -> Template:
        board = await assignments.board(guarded_actor(request), forms.item_id(call_id))
        params = request.query_params
        forms.reject_unknown(params, BOARD_PARAMETERS)
        # The notice after an automatic assignment; anything else in it is simply not shown.
        added = whole_number(params.get("added", "").strip(), low=0, high=forms.MAX_ID)
        return _board_page(board, added=added)

    @post("/manage/calls/{call_id:int}/assignments/auto")
    async def auto(self, request: Request, call_id: FromPath[int]) -> Template | Redirect:
        actor = guarded_actor(request)
        call_id = (await calls.managed_call(actor, forms.item_id(call_id))).id  # 404 first
        values = await forms.read_fields(request, "min_load", "max_load")
        try:
            low, high = assignment_forms.load_bounds(values)
            result = await assignments.auto_assign(actor, call_id, low, high, origin_of(request))
        except forms.FORM_PROBLEMS as error:
            board = await assignments.board(actor, call_id)
            return _board_page(board, values=values, error=error)
        return Redirect(
            f"/manage/calls/{call_id}/assignments?added={result.added}", status_code=303
        )

    @get("/manage/proposals/{proposal_id:int}/assignments", name="proposal_assignments")
    async def proposal(self, request: Request, proposal_id: FromPath[int]) -> Template:
        proposal_id = forms.item_id(proposal_id)
        await assignments.require_manager(guarded_actor(request), proposal_id)
        params = request.query_params
        forms.reject_unknown(params, PROPOSAL_PARAMETERS)
        reviewer_id = forms.chosen_id(
            params.get("reviewer", ""), field="reviewer", message=assignment_forms.CHOOSE_REVIEWER
        )
        return await _proposal_page(request, proposal_id, reviewer_id=reviewer_id)

    @post("/manage/proposals/{proposal_id:int}/assignments")
    async def add(self, request: Request, proposal_id: FromPath[int]) -> Template | Redirect:
        proposal_id = forms.item_id(proposal_id)
        await assignments.require_manager(guarded_actor(request), proposal_id)
        reviewer_id = assignment_forms.reviewer(await forms.read_fields(request, "reviewer"))
        try:
            await assignments.assign(
                guarded_actor(request), proposal_id, reviewer_id, origin_of(request)
            )
        except ConflictOfInterestFound as refused:
            return await _proposal_page(
                request, proposal_id, reviewer_id=reviewer_id, refused=refused
            )
        return Redirect(f"/manage/proposals/{proposal_id}/assignments", status_code=303)

    @post("/manage/proposals/{proposal_id:int}/assignments/remove")
    async def remove(self, request: Request, proposal_id: FromPath[int]) -> Redirect:
        proposal_id = forms.item_id(proposal_id)
        await assignments.require_manager(guarded_actor(request), proposal_id)
        reviewer_id = assignment_forms.reviewer(await forms.read_fields(request, "reviewer"))
        await assignments.unassign(
            guarded_actor(request), proposal_id, reviewer_id, origin_of(request)
        )
        return Redirect(f"/manage/proposals/{proposal_id}/assignments", status_code=303)
