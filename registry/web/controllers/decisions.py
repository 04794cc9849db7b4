"""A call's decision desk: a fund manager proposes every outcome (starting from the funding
line), previews the totals against the budget, and another manager of the fund approves."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from registry.documents.spreadsheets import Sheet, to_csv, to_xlsx
from registry.domain.accounts import Role
from registry.domain.decisions import Preview
from registry.domain.errors import RegistryError
from registry.domain.reviews import OutcomeKind
from registry.i18n import current_language
from registry.services import decisions, review_export
from registry.web import forms
from registry.web.auth import guarded_actor, has_role, origin_of
from registry.web.forms.decisions import choices_from_form, form_fields


def _page(
    desk: decisions.DecisionDesk,
    *,
    values: dict[str, str],
    preview: Preview | None = None,
    error: RegistryError | None = None,
    actor_id: int,
) -> Template:
    context: dict[str, Any] = {
        "desk": desk,
        "rows": desk.review.by_id,
        "standing": {s.proposal: s for s in desk.standings},
        "preview": preview,
        "outcomes": list(OutcomeKind),
        "actor_id": actor_id,
    }
    return forms.form_page("decisions/decision.html", values=values, error=error, **context)


class DecisionController(Controller):
    """Only the call's fund managers (others: 404 from the services)."""

    guards: ClassVar = [has_role(Role.FUND_MANAGER)]
    path = "/manage/calls/{call_id:int}/decision"

    @get("/", name="call_decision")
    async def show(self, request: Request, call_id: FromPath[int]) -> Template:
        actor = guarded_actor(request)
        desk = await decisions.desk(actor, forms.item_id(call_id))
        shown = desk.decision.preview.choices if desk.decision else desk.suggested()
        return _page(desk, values=form_fields(shown), actor_id=actor.account_id)

    @post("/")
    async def propose(self, request: Request, call_id: FromPath[int]) -> Template | Redirect:
        """`preview` shows the outcomes with their totals, saving nothing; `propose` saves."""
        actor = guarded_actor(request)
        call_id = forms.item_id(call_id)
        desk = await decisions.desk(actor, call_id)
        values, _ = await forms.read_form(request)
        try:
            choices = choices_from_form(values, desk.standings)
            if values.get("action") != "propose":
                preview = decisions.preview(desk, choices)
                return _page(desk, values=values, preview=preview, actor_id=actor.account_id)
            await decisions.propose(actor, call_id, choices, origin_of(request))
        except forms.FORM_PROBLEMS as error:
            return _page(desk, values=values, error=error, actor_id=actor.account_id)
        return Redirect(f"/manage/calls/{call_id}/decision", status_code=303)

    @post("/{decision_id:int}/approve")
    async def approve(
        self, request: Request, call_id: FromPath[int], decision_id: FromPath[int]
    ) -> Redirect:
        await forms.read_form(request)
        await decisions.approve(
            guarded_actor(request),
            forms.item_id(call_id),
            forms.item_id(decision_id),
            origin_of(request),
        )
        return Redirect(f"/manage/calls/{call_id}/decision", status_code=303)

    @post("/{decision_id:int}/withdraw")
    async def withdraw(
        self, request: Request, call_id: FromPath[int], decision_id: FromPath[int]
    ) -> Redirect:
        await forms.read_form(request)
        await decisions.withdraw(
            guarded_actor(request),
            forms.item_id(call_id),
            forms.item_id(decision_id),
            origin_of(request),
        )
        return Redirect(f"/manage/calls/{call_id}/decision", status_code=303)


class ExportController(Controller):
    """The decision board's exports of a call (only its fund managers: 404 for others)."""

    guards: ClassVar = [has_role(Role.FUND_MANAGER)]
    path = "/manage/calls/{call_id:int}/export"

    async def _export(self, request: Request, call_id: int) -> review_export.CallExport:
        forms.page_params(request.query_params)
        return await review_export.call_export(
            guarded_actor(request), forms.item_id(call_id), current_language()
        )

    @get("/proposals.csv", name="export_proposals_csv")
    async def proposals_csv(self, request: Request, call_id: FromPath[int]) -> Response[bytes]:
        export = await self._export(request, call_id)
        return _download(to_csv(_sheet("proposals", export.proposals)), export, "proposals.csv")

    @get("/reviews.csv", name="export_reviews_csv")
    async def reviews_csv(self, request: Request, call_id: FromPath[int]) -> Response[bytes]:
        export = await self._export(request, call_id)
        return _download(to_csv(_sheet("reviews", export.reviews)), export, "reviews.csv")

    @get("/review.xlsx", name="export_xlsx")
    async def xlsx(self, request: Request, call_id: FromPath[int]) -> Response[bytes]:
        export = await self._export(request, call_id)
        sheets = [_sheet("proposals", export.proposals), _sheet("reviews", export.reviews)]
        return _download(to_xlsx(sheets), export, "review.xlsx")

    @get("/review.json", name="export_json")
    async def json(self, request: Request, call_id: FromPath[int]) -> Response[bytes]:
        export = await self._export(request, call_id)
        body = json.dumps(export.data, ensure_ascii=False, indent=1).encode()
        return _download(body, export, "review.json")


MEDIA_TYPES = {
    "csv": "text/csv",  # Litestar adds "; charset=utf-8" to every text/ type
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}


def _sheet(name: str, table: review_export.Table) -> Sheet:
    return Sheet(name, table.header, table.rows)


def _download(body: bytes, export: review_export.CallExport, name: str) -> Response[bytes]:
    return Response(
        body,
        media_type=MEDIA_TYPES[name.rsplit(".", 1)[1]],
        headers={
            "Content-Disposition": f'attachment; filename="call-{export.call_id}-{name}"',
            "Cache-Control": "no-store",
        },
    )
