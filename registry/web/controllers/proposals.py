"""An applicant's proposals: start one against an open call, edit the draft (saved as it is
typed by static/autosave.js, or by the plain Save button), attach PDFs, watch the checklist,
submit and resubmit with a receipt (page and PDF), withdraw, and read earlier versions.

The services scope every proposal to the actor's organisations: anyone else's is a 404.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Stream, Template

from registry import documents
from registry.documents.qr import qr_data_uri
from registry.domain.accounts import Role
from registry.domain.errors import (
    InvalidInput,
    RegistryError,
    StaleEdit,
)
from registry.domain.proposals import (
    MILESTONE_ROWS_MAX,
    TEAM_ROWS_MAX,
    AttachmentKind,
    BudgetCategory,
    Check,
)
from registry.formatting import attachment_kind_name, percent, vnd
from registry.services import attachments, calls, proposals, submissions
from registry.services.attachments_check import MAX_ATTACHMENT_BYTES
from registry.services.storage import storage_from
from registry.settings import Settings
from registry.web import forms
from registry.web.auth import guarded_actor, has_role, origin_of, received_at
from registry.web.confirmation import confirmation_page, confirmed
from registry.web.errors import is_autosave, status_of
from registry.web.forms.proposals import draft_from_form, form_fields
from registry.web.i18n import N_, current_language, gettext_, translate

#: Spare empty rows the plain form offers below the filled ones.
SPARE_ROWS = 2
#: A multipart body: the file, its kind and the CSRF token.
UPLOAD_BODY_MAX = MAX_ATTACHMENT_BYTES + 64 * 1024


def check_message(check: Check) -> str:
    """A checklist line in the reader's language (lists and amounts formatted)."""
    params: dict[str, Any] = dict(check.params)
    if "fields" in params:
        params["fields"] = ", ".join(translate(name) for name in params["fields"])
    if "kinds" in params:
        params["kinds"] = ", ".join(attachment_kind_name(k) for k in params["kinds"])
    if check.key == "amount":
        params = {name: vnd(value) for name, value in params.items()}
    if "permille" in params:
        params["share"] = percent(params["permille"])
    return translate(check.message, params)


def _attachment_disposition(filename: str) -> str:
    """Download, never display, under the stored name (RFC 6266; UTF-8 names percent-encoded,
    as Litestar's File response spells them)."""
    quoted = quote(filename)
    if quoted == filename:
        return f'attachment; filename="{filename}"'
    return f"attachment; filename*=utf-8''{quoted}"


async def stored_pdf(settings: Settings, digest: str, filename: str) -> Stream:
    """A stored PDF as a download, sandboxed. Call it only once the caller's right to the
    file is checked: the bytes come from the storage by digest, never by path."""
    stored = await storage_from(settings).open(digest)
    return Stream(
        stored.chunks,
        media_type="application/pdf",
        headers={
            "Content-Disposition": _attachment_disposition(filename),
            "Content-Length": str(stored.size),
            "Content-Security-Policy": "sandbox",
        },
    )


async def _editor(
    request: Request,
    proposal_id: int,
    *,
    values: dict[str, Any] | None = None,
    error: RegistryError | None = None,
    saved: bool = False,
) -> Template:
    proposal = await proposals.get(guarded_actor(request), proposal_id)
    now = received_at(request)
    fields = values if values is not None else form_fields(proposal.draft)
    if values is None:
        fields["technologies"] = [str(t) for t in proposal.draft.technologies]
        fields["row_version"] = str(proposal.row_version)
    return forms.form_page(
        "proposals/edit.html",
        values=fields,
        error=error,
        proposal=proposal,
        now=now,
        **await _live_state(proposal, now),
        submit_key=str(uuid.uuid4()),
        team_rows=range(min(len(proposal.draft.team) + SPARE_ROWS, TEAM_ROWS_MAX)),
        milestone_rows=range(min(len(proposal.draft.milestones) + SPARE_ROWS, MILESTONE_ROWS_MAX)),
        categories=list(BudgetCategory),
        kinds=list(AttachmentKind),
        technologies=await _technology_names(),
        saved=saved,
    )


async def _live_state(proposal: proposals.Proposal, now: datetime) -> dict[str, Any]:
    """What the editor's live parts (templates/proposals/_live.html) are drawn from."""
    checks = [(check, check_message(check)) for check in proposal.checks(now)]
    blocked = [(check, message) for check, message in checks if not check.ok]
    return {
        "checks": checks,
        "blocked": blocked,
        "ready": not blocked,
        "editable": proposal.editable(now),
        "changes": await submissions.unsubmitted_changes(proposal),
    }


def _live_regions(
    request: Request, proposal: proposals.Proposal, state: dict[str, Any]
) -> dict[str, str]:
    """The live parts rendered again by the page's own macros, by the id of their element:
    autosave swaps them in, so the page always says what a reload would."""
    live = request.app.template_engine.engine.get_template("proposals/_live.html").module
    return {
        "checklist": str(live.checklist(state["checks"])),
        "budget-totals": str(live.budget_totals(proposal.draft.totals)),
        "submit-blocked": str(live.submit_blocked(state["blocked"])),
        "unsubmitted": str(
            live.unsubmitted(proposal, state["changes"], state["ready"], state["editable"])
        ),
    }


async def _technology_names() -> dict[int, Any]:
    return dict(await calls.eligible_technologies())


class ProposalsController(Controller):
    guards: ClassVar = [has_role(Role.APPLICANT)]

    @get("/proposals", name="my_proposals")
    async def mine(self, request: Request) -> Template:
        return Template(
            "proposals/list.html",
            context={
                "proposals": await proposals.mine(guarded_actor(request)),
                "now": received_at(request),
            },
        )

    @post("/calls/{call_id:int}/proposals")
    async def start(self, request: Request, call_id: FromPath[int]) -> Redirect:
        values, _ = await forms.read_form(request)
        organisation_id = forms.chosen_id(
            values.get("organisation", ""),
            field="organisation",
            message="Choose one of your organisations.",
        )
        proposal_id = await proposals.start(
            guarded_actor(request),
            forms.item_id(call_id),
            organisation_id or 0,
            origin_of(request),
        )
        return Redirect(f"/proposals/{proposal_id}", status_code=303)

    @get("/proposals/{proposal_id:int}", name="proposal")
    async def edit(self, request: Request, proposal_id: FromPath[int]) -> Template:
        return await _editor(request, forms.item_id(proposal_id))

    @post("/proposals/{proposal_id:int}")
    async def save(self, request: Request, proposal_id: FromPath[int]) -> Response | Template:
        """Autosave (JSON answer) and the plain Save button (the page again) share this."""
        proposal_id = forms.item_id(proposal_id)
        actor = guarded_actor(request)
        values, lists = await forms.read_form(request, "technologies")
        try:
            draft = draft_from_form(values, lists["technologies"])
            row_version = forms.row_version(values)
            saved = await proposals.save_draft(
                actor, proposal_id, draft, row_version, origin_of(request)
            )
        except StaleEdit as error:
            if is_autosave(request):
                return _json_error(error, conflict_url=f"/proposals/{proposal_id}")
            return await _conflict_page(request, proposal_id, values | lists)
        except forms.FORM_PROBLEMS as error:
            if is_autosave(request):
                return _json_error(error)
            return await _editor(request, proposal_id, values=values | lists, error=error)
        if is_autosave(request):
            state = await _live_state(saved, received_at(request))
            return Response(
                {
                    "row_version": saved.row_version,
                    "checks": [{"key": c.key, "ok": c.ok} for c, _ in state["checks"]],
                    "ready": state["ready"],
                    "regions": _live_regions(request, saved, state),
                },
                status_code=200,
            )
        return await _editor(request, proposal_id, saved=True)

    @post("/proposals/{proposal_id:int}/attachments", request_max_body_size=UPLOAD_BODY_MAX)
    async def upload(
        self, request: Request, proposal_id: FromPath[int], settings: NamedDependency[Settings]
    ) -> Template | Redirect:
        proposal_id = forms.item_id(proposal_id)
        form = await request.form()
        upload = form.get("file")
        kind = str(form.get("kind", ""))
        try:
            if not isinstance(upload, UploadFile) or not upload.filename:
                raise InvalidInput("Choose a PDF file to attach.", field="file")
            await attachments.add(
                guarded_actor(request),
                proposal_id,
                kind,
                upload.filename,
                await upload.read(),
                storage_from(settings),
                origin_of(request),
            )
        except forms.FORM_PROBLEMS as error:
            return await _editor(request, proposal_id, error=error)
        finally:
            if isinstance(upload, UploadFile):
                await upload.close()
        return Redirect(f"/proposals/{proposal_id}#attachments", status_code=303)

    @post("/proposals/{proposal_id:int}/attachments/{attachment_id:int}/delete")
    async def remove(
        self, request: Request, proposal_id: FromPath[int], attachment_id: FromPath[int]
    ) -> Redirect:
        await attachments.remove(
            guarded_actor(request),
            forms.item_id(proposal_id),
            forms.item_id(attachment_id),
            origin_of(request),
        )
        return Redirect(f"/proposals/{proposal_id}#attachments", status_code=303)

    @get("/proposals/{proposal_id:int}/files/{sha256:str}")
    async def download(
        self,
        request: Request,
        proposal_id: FromPath[int],
        sha256: FromPath[str],
        settings: NamedDependency[Settings],
    ) -> Stream:
        digest, filename = await attachments.file(
            guarded_actor(request), forms.item_id(proposal_id), sha256[:64]
        )
        return await stored_pdf(settings, digest, filename)

    @post("/proposals/{proposal_id:int}/submit")
    async def submit(self, request: Request, proposal_id: FromPath[int]) -> Redirect | Template:
        """The editor's Submit button posts the draft form: what is on screen is saved and
        submitted together, even when autosave could not store the last keystrokes. A post
        without the editor's fields (no row_version) submits the stored draft."""
        proposal_id = forms.item_id(proposal_id)
        actor = guarded_actor(request)
        values, lists = await forms.read_form(request, "technologies")
        submit_key = values.get("submit_key", "")
        try:
            if "row_version" in values:
                receipt = await submissions.save_and_submit(
                    actor,
                    proposal_id,
                    draft_from_form(values, lists["technologies"]),
                    forms.row_version(values),
                    submit_key,
                    origin_of(request),
                )
            else:
                receipt = await submissions.submit(
                    actor, proposal_id, submit_key, origin_of(request)
                )
        except StaleEdit:
            return await _conflict_page(request, proposal_id, values | lists)
        except forms.FORM_PROBLEMS as error:
            shown = values | lists if "row_version" in values else None
            return await _editor(request, proposal_id, values=shown, error=error)
        return Redirect(f"/proposals/{proposal_id}/receipts/{receipt.version}", status_code=303)

    @post("/proposals/{proposal_id:int}/withdraw")
    async def withdraw(self, request: Request, proposal_id: FromPath[int]) -> Template | Redirect:
        proposal_id = forms.item_id(proposal_id)
        actor = guarded_actor(request)
        if not confirmed(await forms.read_fields(request, "confirm")):
            proposal = await proposals.get(actor, proposal_id)
            return confirmation_page(
                action=f"/proposals/{proposal_id}/withdraw",
                title=translate(
                    N_("Withdraw the proposal %(title)s?"), {"title": proposal.draft.title_vi}
                ),
                explanation=gettext_(
                    "A withdrawn proposal is not reviewed. You can submit it again while the "
                    "call is open."
                ),
                button=gettext_("Withdraw the proposal"),
                back=f"/proposals/{proposal_id}",
            )
        await proposals.withdraw(actor, proposal_id, origin_of(request))
        return Redirect(f"/proposals/{proposal_id}", status_code=303)

    @get("/proposals/{proposal_id:int}/receipts/{number:int}", name="receipt")
    async def receipt(
        self,
        request: Request,
        proposal_id: FromPath[int],
        number: FromPath[int],
        settings: NamedDependency[Settings],
    ) -> Template:
        receipt = await submissions.receipt(
            guarded_actor(request), forms.item_id(proposal_id), forms.item_id(number)
        )
        verify_url = settings.public_url + receipt.verification_path
        return Template(
            "proposals/receipt.html", context={"receipt": receipt, "verify_url": verify_url}
        )

    @get("/proposals/{proposal_id:int}/receipts/{number:int}/pdf")
    async def receipt_pdf(
        self,
        request: Request,
        proposal_id: FromPath[int],
        number: FromPath[int],
        settings: NamedDependency[Settings],
    ) -> Response:
        receipt = await submissions.receipt(
            guarded_actor(request), forms.item_id(proposal_id), forms.item_id(number)
        )
        verify_url = settings.public_url + receipt.verification_path
        pdf = await documents.render(
            "proposals/receipt_pdf.html",
            language=current_language(),
            receipt=receipt,
            verify_url=verify_url,
            qr=qr_data_uri(verify_url),
        )
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="{receipt.receipt_no}.pdf"',
            },
        )

    @get("/proposals/{proposal_id:int}/versions/{number:int}", name="proposal_version")
    async def version(
        self, request: Request, proposal_id: FromPath[int], number: FromPath[int]
    ) -> Template:
        actor = guarded_actor(request)
        proposal_id, number = forms.item_id(proposal_id), forms.item_id(number)
        return Template(
            "proposals/version.html",
            context={
                "draft": await submissions.version_content(actor, proposal_id, number),
                "receipt": await submissions.receipt(actor, proposal_id, number),
                "technologies": await _technology_names(),
            },
        )


def _json_error(error: RegistryError, **extra: str) -> Response:
    return Response(
        {"errors": forms.field_messages(error), **extra},
        status_code=status_of(error),
    )


async def _conflict_page(request: Request, proposal_id: int, mine: dict[str, Any]) -> Template:
    """Both versions side by side: keep the saved one, or save mine over it on purpose."""
    proposal = await proposals.get(guarded_actor(request), proposal_id)
    saved = form_fields(proposal.draft)
    try:  # compared as the editor writes them: 2000000000 and 2.000.000.000 are one amount
        written = form_fields(draft_from_form(mine, mine.get("technologies", [])))
    except forms.FORM_PROBLEMS:
        written = mine
    names = sorted(
        {
            n
            for n in (*saved, *mine)
            if n not in ("row_version", "technologies", "_csrf_token", "submit_key")
        }
    )
    return Template(
        "proposals/conflict.html",
        context={
            "proposal": proposal,
            "mine": mine,
            "saved": saved,
            "rows": [
                (name, mine.get(name, ""), saved.get(name, ""))
                for name in names
                if written.get(name, "") != saved.get(name, "")
            ],
            "technologies": mine.get("technologies", []),
        },
        status_code=409,
    )
