"""Fund calls: the public list and call pages, and the fund manager's pages to draft, publish
and change a call and to follow its proposals (the call dashboard)."""

from __future__ import annotations

from typing import Any, ClassVar

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Stream, Template

from registry.documents.spreadsheets import Sheet, to_csv, to_xlsx
from registry.domain.accounts import Role
from registry.domain.calls import CRITERIA_ROWS_MAX
from registry.domain.errors import RegistryError
from registry.domain.permissions import Target, may_manage_call
from registry.domain.proposals import AttachmentKind, BudgetCategory
from registry.domain.scoring import CALL_TIE_BREAKS, PRESETS
from registry.formatting import local_datetime, localized, proposal_status_name
from registry.services import call_dashboard, calls, open_data, proposals, scopes
from registry.settings import Settings
from registry.web import forms
from registry.web.auth import current_actor, guarded_actor, has_role, origin_of, received_at
from registry.web.confirmation import confirmation_page, confirmed
from registry.web.controllers.account import PUBLIC
from registry.web.controllers.decisions import MEDIA_TYPES
from registry.web.controllers.proposals import stored_pdf
from registry.web.forms.calls import criteria_form_fields, spec_form_fields, spec_from_form
from registry.web.forms.dashboard import selection_params
from registry.web.i18n import N_, current_language, gettext_, translate

PRESET_NAMES = {
    "horizon_ria": "Horizon Europe RIA",
    "horizon_ia": "Horizon Europe IA",
    "nafosted_basic": "NAFOSTED",
}


async def _call_form(
    template: str, *, values: dict[str, Any], error: RegistryError | None = None, **context: Any
) -> Template:
    return forms.form_page(
        template,
        values=values,
        error=error,
        technologies=await calls.eligible_technologies(),
        attachment_kinds=list(AttachmentKind),
        tie_breaks=list(CALL_TIE_BREAKS),
        presets=PRESET_NAMES,
        criteria_rows=range(CRITERIA_ROWS_MAX),
        **context,
    )


class CallsController(Controller):
    """What everyone may read: published calls, their criteria and budget."""

    @get("/calls", opt=PUBLIC, name="calls")
    async def call_list(self, request: Request) -> Template:
        forms.page_params(request.query_params)
        return Template(
            "calls/list.html",
            context={"calls": await calls.published_calls(), "now": received_at(request)},
        )

    @get("/calls/{call_id:int}", opt=PUBLIC, name="call")
    async def call_page(self, request: Request, call_id: FromPath[int]) -> Template:
        forms.page_params(request.query_params)
        call = await calls.published_call(forms.item_id(call_id))
        actor = current_actor(request)
        return Template(
            "calls/call.html",
            context={
                "call": call,
                "now": received_at(request),
                "technologies": dict(await calls.eligible_technologies()),
                "organisations": await proposals.applicant_organisations(actor) if actor else (),
                "has_results": bool(await open_data.calls_with_results([call.id])),
                "has_grants": await open_data.has_grants(call=call.id),
            },
        )


class ManageCallsController(Controller):
    """A fund manager's own funds' calls (another fund's call answers 404)."""

    guards: ClassVar = [has_role(Role.FUND_MANAGER)]

    @get("/manage/funds/{fund_id:int}/calls/new", name="new_call")
    async def new_call(self, request: Request, fund_id: FromPath[int]) -> Template:
        scopes.require(may_manage_call, guarded_actor(request), Target(fund=forms.item_id(fund_id)))
        preset = request.query_params.get("preset", "horizon_ria")
        criteria = PRESETS.get(preset, PRESETS["horizon_ria"])
        values = {
            "reviewers_per_proposal": "3",
            "cofunding_percent": "0",
            "aggregation": "median",
            "funding_policy": "stop",
            "reviewers_see_others": "on",
        }
        return await _call_form(
            "calls/edit.html",
            values=values | criteria_form_fields(criteria),
            fund_id=forms.item_id(fund_id),
            call=None,
            preset=preset,
        )

    @post("/manage/funds/{fund_id:int}/calls/new")
    async def create_call(self, request: Request, fund_id: FromPath[int]) -> Template | Redirect:
        scopes.require(may_manage_call, guarded_actor(request), Target(fund=forms.item_id(fund_id)))
        values, lists = await forms.read_form(request, "technologies", "required_attachments")
        try:
            spec = spec_from_form(
                values,
                lists["technologies"],
                lists["required_attachments"],
                at=received_at(request),
            )
            call_id = await calls.create_call(
                guarded_actor(request), forms.item_id(fund_id), spec, origin_of(request)
            )
        except forms.FORM_PROBLEMS as error:
            return await _call_form(
                "calls/edit.html",
                values=values | lists,
                error=error,
                fund_id=fund_id,
                call=None,
                preset="",
            )
        return Redirect(f"/manage/calls/{call_id}", status_code=303)

    @get("/manage/calls/{call_id:int}", name="call_dashboard")
    async def dashboard(self, request: Request, call_id: FromPath[int]) -> Template:
        board = await call_dashboard.dashboard(guarded_actor(request), forms.item_id(call_id))
        return Template(
            "calls/dashboard.html",
            context={
                "board": board,
                "now": received_at(request),
                "categories": list(BudgetCategory),
            },
        )

    @get("/manage/calls/{call_id:int}/submissions", name="call_submissions")
    async def submissions(self, request: Request, call_id: FromPath[int]) -> Template:
        board = await _submissions(request, call_id)
        return Template("calls/submissions.html", context={"board": board})

    @get(
        [
            "/manage/calls/{call_id:int}/submissions.csv",
            "/manage/calls/{call_id:int}/submissions.xlsx",
        ]
    )
    async def submissions_file(self, request: Request, call_id: FromPath[int]) -> Response[bytes]:
        """The list as shown (same filters and order), as CSV or XLSX."""
        kind = request.url.path.rsplit(".", 1)[1]
        board = await _submissions(request, call_id)
        sheet = _submission_sheet(board)
        return Response(
            to_csv(sheet) if kind == "csv" else to_xlsx([sheet]),
            media_type=MEDIA_TYPES[kind],
            headers={
                "Content-Disposition": (
                    f'attachment; filename="call-{board.call.id}-submissions.{kind}"'
                ),
                "Cache-Control": "no-store",
            },
        )

    @get("/manage/proposals/{proposal_id:int}", name="submitted_proposal")
    async def submitted_proposal(self, request: Request, proposal_id: FromPath[int]) -> Template:
        """A submitted proposal, read-only, for its call's managers (others: 404)."""
        forms.page_params(request.query_params)
        proposal = await call_dashboard.submitted_proposal(
            guarded_actor(request), forms.item_id(proposal_id)
        )
        return Template("calls/proposal.html", context={"p": proposal})

    @get("/manage/proposals/{proposal_id:int}/files/{sha256:str}")
    async def submitted_file(
        self,
        request: Request,
        proposal_id: FromPath[int],
        sha256: FromPath[str],
        settings: NamedDependency[Settings],
    ) -> Stream:
        digest, filename = await call_dashboard.submitted_file(
            guarded_actor(request), forms.item_id(proposal_id), sha256[:64]
        )
        return await stored_pdf(settings, digest, filename)

    @get("/manage/calls/{call_id:int}/edit", name="edit_call")
    async def edit_call(self, request: Request, call_id: FromPath[int]) -> Template:
        call = await calls.managed_call(guarded_actor(request), forms.item_id(call_id))
        values = spec_form_fields(call.spec) | {"row_version": str(call.row_version)}
        return await _call_form(
            "calls/edit.html", values=values | _lists_of(call), fund_id=call.fund_id, call=call
        )

    @post("/manage/calls/{call_id:int}/edit")
    async def update_call(self, request: Request, call_id: FromPath[int]) -> Template | Redirect:
        actor = guarded_actor(request)
        call = await calls.managed_call(actor, forms.item_id(call_id))
        values, lists = await forms.read_form(request, "technologies", "required_attachments")
        try:
            spec = spec_from_form(
                values,
                lists["technologies"],
                lists["required_attachments"],
                at=received_at(request),
            )
            row_version = forms.row_version(values)
            await calls.update_call(actor, call.id, spec, row_version, origin_of(request))
        except forms.FORM_PROBLEMS as error:
            return await _call_form(
                "calls/edit.html",
                values=values | lists,
                error=error,
                fund_id=call.fund_id,
                call=call,
            )
        return Redirect(f"/manage/calls/{call.id}", status_code=303)

    @post("/manage/calls/{call_id:int}/publish")
    async def publish(self, request: Request, call_id: FromPath[int]) -> Template | Redirect:
        actor = guarded_actor(request)
        call = await calls.managed_call(actor, forms.item_id(call_id))
        values, _ = await forms.read_form(request)
        if not confirmed(values):
            return confirmation_page(
                action=f"/manage/calls/{call.id}/publish",
                title=translate(
                    N_("Publish the call %(title)s?"), {"title": localized(call.title)}
                ),
                explanation=gettext_(
                    "Everyone will see the call and its criteria, and the criteria are frozen "
                    "as version 1. A published call cannot be unpublished."
                ),
                button=gettext_("Publish the call"),
                back=f"/manage/calls/{call.id}",
                values=values,
                keep=("row_version",),
            )
        await calls.publish_call(actor, call.id, forms.row_version(values), origin_of(request))
        return Redirect(f"/manage/calls/{call_id}", status_code=303)


@get("/manage/funds/{fund_id:int}/calls", guards=[has_role(Role.FUND_MANAGER)], name="fund_calls")
async def fund_calls(request: Request, fund_id: FromPath[int]) -> Template:
    fund_id = forms.item_id(fund_id)
    return Template(
        "calls/fund_calls.html",
        context={
            "calls": await calls.fund_calls(guarded_actor(request), fund_id),
            "fund_id": fund_id,
            "presets": PRESET_NAMES,
            "now": received_at(request),
        },
    )


async def _submissions(request: Request, call_id: int) -> call_dashboard.Submissions:
    return await call_dashboard.submissions(
        guarded_actor(request),
        forms.item_id(call_id),
        selection_params(request.query_params),
        current_language(),
    )


def _submission_sheet(board: call_dashboard.Submissions) -> Sheet:
    """The list's columns in the reader's language; amounts as numbers, times in Vietnam."""
    language = current_language()
    header = tuple(
        translate(name)
        for name in (
            N_("Reference"), N_("Title"), N_("Organisation"), N_("Strategic technologies"),
            N_("Requested (VND)"), N_("Status"), N_("Version"), N_("Received (Vietnam time)"),
            N_("Near-duplicate similarity (%)"),
        )
    )  # fmt: skip
    rows = tuple(
        (
            s.reference,
            s.title,
            s.organisation.get(language),
            "; ".join(name.get(language) for _, name in s.technologies),
            s.requested_vnd,
            proposal_status_name(s.status),
            s.version,
            local_datetime(s.received_at),
            s.similarity,
        )
        for s in board.rows
    )
    return Sheet("submissions", header, rows)


def _lists_of(call: calls.Call) -> dict[str, Any]:
    return {
        "technologies": [str(t) for t in call.spec.technologies],
        "required_attachments": list(call.spec.required_attachments),
    }
