"""Issuing a call's decision documents: the fund's managers name who signs, start the batch
(rendered and signed by workers) and watch its progress: the bar follows the jobs by short
polling (static/issue_progress.js) or, without JavaScript, by the page refreshing itself."""

from __future__ import annotations

from typing import Any, ClassVar

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from registry.domain.accounts import Role
from registry.domain.errors import RegistryError
from registry.services import document_batches
from registry.web import forms
from registry.web.auth import guarded_actor, has_role, origin_of

SIGNER_FIELDS = ("signer_on_behalf", "signer_title", "signer_name")


def _page(
    desk: document_batches.IssueDesk,
    values: dict[str, str] | None = None,
    error: RegistryError | None = None,
) -> Template:
    signer = desk.progress.signer if desk.progress else desk.default_signer
    shown = values or {
        "signer_on_behalf": signer.on_behalf,
        "signer_title": signer.title,
        "signer_name": signer.name,
    }
    return forms.form_page("decisions/documents.html", values=shown, error=error, desk=desk)


def _progress_json(progress: document_batches.BatchProgress | None) -> dict[str, Any]:
    if progress is None:
        return {"started": False}
    return {
        "started": True,
        "total": progress.total,
        "issued": progress.issued,
        "failed": progress.failed,
        "percent": progress.percent,
        "running": progress.running,
    }


class IssuingController(Controller):
    """Only the call's fund managers (others: 404 from the services)."""

    guards: ClassVar = [has_role(Role.FUND_MANAGER)]
    path = "/manage/calls/{call_id:int}/documents"

    @get("/", name="call_documents")
    async def show(self, request: Request, call_id: FromPath[int]) -> Template:
        return _page(await document_batches.desk(guarded_actor(request), forms.item_id(call_id)))

    @post("/")
    async def start(self, request: Request, call_id: FromPath[int]) -> Template | Redirect:
        actor = guarded_actor(request)
        call_id = forms.item_id(call_id)
        values, _ = await forms.read_form(request)
        try:
            signer = document_batches.read_signer(*(values.get(f, "") for f in SIGNER_FIELDS))
            await document_batches.start(actor, call_id, signer, origin_of(request))
        except forms.FORM_PROBLEMS as error:
            return _page(await document_batches.desk(actor, call_id), values, error)
        return Redirect(f"/manage/calls/{call_id}/documents", status_code=303)

    @get("/progress", name="call_documents_progress")
    async def progress(self, request: Request, call_id: FromPath[int]) -> dict[str, Any]:
        """The latest batch's progress, for the page's bar (polled every few seconds)."""
        actor = guarded_actor(request)
        return _progress_json(await document_batches.progress(actor, forms.item_id(call_id)))
