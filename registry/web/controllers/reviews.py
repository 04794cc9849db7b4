"""Expert review pages: the reviewer's desk (pool invitations, assignments), the answer to an
assignment (declaring no conflict of interest, declining, declaring a conflict), the proposal
and the review form (saved as it is typed by static/autosave.js, or by the Save button), and
the fund manager's reviewer pool and a proposal's reviews, where a submitted review can be
reopened.

The services scope everything: a reviewer reaches only their own assignments, a manager only
their own fund's pool and proposals; anything else is a 404. What a reviewer sees of the
applicant is the services' decision (services.reviews._copy), never the templates'.
"""

from __future__ import annotations

from typing import Any, ClassVar

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Stream, Template

from registry.domain.accounts import Role
from registry.domain.errors import InvalidInput, RegistryError, StaleEdit
from registry.domain.proposals import BudgetCategory
from registry.domain.reviews import AssignmentStatus, scale_choices
from registry.services import reviewers, reviews
from registry.settings import Settings
from registry.web import forms
from registry.web.auth import guarded_actor, has_role, origin_of, received_at
from registry.web.controllers.proposals import _json_error, stored_pdf
from registry.web.errors import is_autosave
from registry.web.forms.reviews import review_fields, review_input

INVITATION_ANSWERS = {"accept": True, "decline": False}


async def _review_page(
    request: Request,
    proposal_id: int,
    *,
    values: dict[str, Any] | None = None,
    error: RegistryError | None = None,
    saved: bool = False,
) -> Template:
    """The reviewer's page for one assignment: the answer form until it is accepted, then
    the submitted version, the review form and (once submitted) the other reviews."""
    actor = guarded_actor(request)
    seen = await reviews.assignment(actor, proposal_id)
    now = received_at(request)
    if seen.criteria is None or seen.draft is None or seen.copy is None:  # not accepted
        return forms.form_page("reviews/answer.html", values=values, error=error, seen=seen)
    fields = values if values is not None else review_fields(seen.draft)
    if "row_version" not in fields:
        fields["row_version"] = str(seen.row_version)
    return forms.form_page(
        "reviews/review.html",
        values=fields,
        error=error,
        seen=seen,
        copy=seen.copy,
        now=now,
        open=seen.open_at(now),
        saved=saved,
        scales=[scale_choices(c.scale) for c in seen.criteria.items],
        technologies=seen.technologies,
        categories=list(BudgetCategory),
    )


class ReviewController(Controller):
    """A reviewer's own invitations and assignments."""

    guards: ClassVar = [has_role(Role.REVIEWER)]

    @get("/review", name="review_desk")
    async def desk(self, request: Request) -> Template:
        forms.page_params(request.query_params)
        return Template(
            "reviews/desk.html",
            context={
                "desk": await reviews.desk(guarded_actor(request)),
                "now": received_at(request),
            },
        )

    @post("/review/pools/{fund_id:int}/answer")
    async def answer_invitation(self, request: Request, fund_id: FromPath[int]) -> Redirect:
        values = await forms.read_fields(request, "answer")
        if values["answer"] not in INVITATION_ANSWERS:
            raise InvalidInput("Choose whether you join the fund's pool.", field="answer")
        await reviewers.answer_invitation(
            guarded_actor(request),
            forms.item_id(fund_id),
            INVITATION_ANSWERS[values["answer"]],
            origin_of(request),
        )
        return Redirect("/review", status_code=303)

    @get("/review/proposals/{proposal_id:int}", name="review")
    async def proposal(self, request: Request, proposal_id: FromPath[int]) -> Template:
        forms.page_params(request.query_params)
        return await _review_page(request, forms.item_id(proposal_id))

    @post("/review/proposals/{proposal_id:int}/answer")
    async def answer(self, request: Request, proposal_id: FromPath[int]) -> Template | Redirect:
        proposal_id = forms.item_id(proposal_id)
        values = await forms.read_fields(request, "answer", "no_conflict", "note")
        try:
            status = await reviews.answer(
                guarded_actor(request),
                proposal_id,
                values["answer"],
                values["no_conflict"] == "on",
                values["note"],
                origin_of(request),
            )
        except forms.FORM_PROBLEMS as error:
            return await _review_page(request, proposal_id, values=values, error=error)
        if status == AssignmentStatus.ACCEPTED:
            return Redirect(f"/review/proposals/{proposal_id}", status_code=303)
        return Redirect("/review", status_code=303)

    @post("/review/proposals/{proposal_id:int}")
    async def save(self, request: Request, proposal_id: FromPath[int]) -> Response | Template:
        """Autosave (JSON answer) and the plain Save button (the page again) share this."""
        proposal_id = forms.item_id(proposal_id)
        actor = guarded_actor(request)
        values, _ = await forms.read_form(request)
        try:
            saved = await reviews.save_review(
                actor,
                proposal_id,
                review_input(values),
                forms.row_version(values),
                origin_of(request),
            )
        except StaleEdit as error:
            if is_autosave(request):
                return _json_error(error, conflict_url=f"/review/proposals/{proposal_id}")
            return await _stale(request, proposal_id, values, error)
        except forms.FORM_PROBLEMS as error:
            if is_autosave(request):
                return _json_error(error)
            return await _review_page(request, proposal_id, values=values, error=error)
        if is_autosave(request):
            return Response({"row_version": saved.row_version}, status_code=200)
        return await _review_page(request, proposal_id, saved=True)

    @post("/review/proposals/{proposal_id:int}/submit")
    async def submit(self, request: Request, proposal_id: FromPath[int]) -> Template | Redirect:
        """The form's Submit button posts the fields on screen: they are saved and submitted
        together, so the submitted review is what the reviewer saw."""
        proposal_id = forms.item_id(proposal_id)
        values, _ = await forms.read_form(request)
        try:
            await reviews.submit_review(
                guarded_actor(request),
                proposal_id,
                review_input(values),
                forms.row_version(values),
                origin_of(request),
            )
        except StaleEdit as error:
            return await _stale(request, proposal_id, values, error)
        except forms.FORM_PROBLEMS as error:
            return await _review_page(request, proposal_id, values=values, error=error)
        return Redirect(f"/review/proposals/{proposal_id}#review", status_code=303)

    @get("/review/proposals/{proposal_id:int}/files/{sha256:str}")
    async def download(
        self,
        request: Request,
        proposal_id: FromPath[int],
        sha256: FromPath[str],
        settings: NamedDependency[Settings],
    ) -> Stream:
        digest, filename = await reviews.reviewer_file(
            guarded_actor(request), forms.item_id(proposal_id), sha256[:64]
        )
        return await stored_pdf(settings, digest, filename)


async def _stale(
    request: Request, proposal_id: int, values: dict[str, str], error: RegistryError
) -> Template:
    """What was typed, with the stored review's row_version: saving again keeps it, on
    purpose, over the other window's version."""
    seen = await reviews.assignment(guarded_actor(request), proposal_id)
    return await _review_page(
        request, proposal_id, values=values | {"row_version": str(seen.row_version)}, error=error
    )


class ManageReviewsController(Controller):
    """A fund manager's reviewer pool and the reviews of the fund's proposals."""

    guards: ClassVar = [has_role(Role.FUND_MANAGER)]

    @get("/manage/funds/{fund_id:int}/reviewers", name="reviewer_pool")
    async def pool(self, request: Request, fund_id: FromPath[int]) -> Template:
        forms.page_params(request.query_params)
        return await _pool_page(request, forms.item_id(fund_id))

    @post("/manage/funds/{fund_id:int}/reviewers")
    async def invite(self, request: Request, fund_id: FromPath[int]) -> Template | Redirect:
        fund_id = forms.item_id(fund_id)
        values = await forms.read_fields(request, "email")
        try:
            await reviewers.invite(
                guarded_actor(request), fund_id, values["email"], origin_of(request)
            )
        except forms.FORM_PROBLEMS as error:
            return await _pool_page(request, fund_id, values=values, error=error)
        return Redirect(f"/manage/funds/{fund_id}/reviewers", status_code=303)

    @get("/manage/proposals/{proposal_id:int}/reviews", name="proposal_reviews")
    async def reviews_page(self, request: Request, proposal_id: FromPath[int]) -> Template:
        forms.page_params(request.query_params)
        return await _reviews_page(request, forms.item_id(proposal_id))

    @post("/manage/proposals/{proposal_id:int}/reviews/reopen")
    async def reopen(self, request: Request, proposal_id: FromPath[int]) -> Template | Redirect:
        proposal_id = forms.item_id(proposal_id)
        values = await forms.read_fields(request, "review", "reason")
        try:
            review_id = forms.chosen_id(
                values["review"], field="reason", message="Choose a review from the list."
            )
            if review_id is None:
                raise InvalidInput("Choose a review from the list.", field="reason")
            await reviews.reopen(
                guarded_actor(request), proposal_id, review_id, values["reason"], origin_of(request)
            )
        except forms.FORM_PROBLEMS as error:
            return await _reviews_page(request, proposal_id, values=values, error=error)
        return Redirect(f"/manage/proposals/{proposal_id}/reviews", status_code=303)


async def _pool_page(
    request: Request,
    fund_id: int,
    *,
    values: dict[str, str] | None = None,
    error: RegistryError | None = None,
) -> Template:
    return forms.form_page(
        "reviews/pool.html",
        values=values,
        error=error,
        fund_id=fund_id,
        pool=await reviewers.pool(guarded_actor(request), fund_id),
    )


async def _reviews_page(
    request: Request,
    proposal_id: int,
    *,
    values: dict[str, str] | None = None,
    error: RegistryError | None = None,
) -> Template:
    return forms.form_page(
        "reviews/proposal_reviews.html",
        values=values,
        error=error,
        board=await reviews.proposal_reviews(guarded_actor(request), proposal_id),
        now=received_at(request),
    )
