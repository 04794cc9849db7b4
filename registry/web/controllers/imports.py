"""Importing historic funded projects from a spreadsheet: the upload page, the template to
fill in, each import's page (progress while its job runs, refreshed without JavaScript), and
the report of refused rows. Administrators import for any fund, managers for their own; the
service scopes every import to who may see it (someone else's is a 404)."""

from __future__ import annotations

from typing import ClassVar

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from registry.documents.spreadsheets import Sheet, to_csv, to_xlsx
from registry.domain.accounts import Role
from registry.domain.errors import InvalidInput
from registry.services import project_import
from registry.services.storage import storage_from
from registry.settings import Settings
from registry.web import forms
from registry.web.auth import guarded_actor, has_role, origin_of
from registry.web.controllers.decisions import MEDIA_TYPES
from registry.web.i18n import current_language

#: The multipart body: the file, the fund, the dry-run box and the CSRF token.
UPLOAD_BODY_MAX = project_import.MAX_FILE_BYTES + 64 * 1024
#: Seconds between reloads of a running import's page.
REFRESH_SECONDS = 2
#: Refused rows listed on the page; the report has them all.
SHOWN_PROBLEMS = 100


def _download(body: bytes, name: str) -> Response[bytes]:
    return Response(
        body,
        media_type=MEDIA_TYPES[name.rsplit(".", 1)[1]],
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


def _template() -> Sheet:
    header, rows = project_import.template(current_language())
    return Sheet("projects", header, rows)


class ProjectImportController(Controller):
    path = "/manage/imports"
    guards: ClassVar = [has_role(Role.ADMIN, Role.FUND_MANAGER)]

    async def _upload_page(self, request: Request, error: InvalidInput | None = None) -> Template:
        actor = guarded_actor(request)
        return forms.form_page(
            "admin/imports.html",
            error=error,
            funds=await project_import.funds_for(actor),
            may_leave_fund=actor.has(Role.ADMIN),
            runs=await project_import.list_runs(actor),
            max_mb=project_import.MAX_FILE_BYTES >> 20,
            columns=project_import.COLUMNS,
        )

    @get("/", name="imports")
    async def uploads(self, request: Request) -> Template:
        return await self._upload_page(request)

    @post("/", request_max_body_size=UPLOAD_BODY_MAX)
    async def upload(
        self, request: Request, settings: NamedDependency[Settings]
    ) -> Template | Redirect:
        form = await request.form()
        upload = form.get("file")
        try:
            if not isinstance(upload, UploadFile) or not upload.filename:
                raise InvalidInput("Choose a CSV or XLSX file to import.", field="file")
            fund_id = forms.chosen_id(
                str(form.get("fund", "")), field="fund", message="Choose a fund from the list."
            )
            import_id = await project_import.start(
                guarded_actor(request),
                upload.filename,
                await upload.read(project_import.MAX_FILE_BYTES + 1),
                fund_id,
                dry_run=bool(form.get("dry_run")),
                store=storage_from(settings),
                origin=origin_of(request),
            )
        except InvalidInput as error:
            return await self._upload_page(request, error)
        finally:
            if isinstance(upload, UploadFile):
                await upload.close()
        return Redirect(f"/manage/imports/{import_id}", status_code=303)

    @get("/template.csv")
    async def template_csv(self) -> Response[bytes]:
        return _download(to_csv(_template()), "projects-template.csv")

    @get("/template.xlsx")
    async def template_xlsx(self) -> Response[bytes]:
        return _download(to_xlsx([_template()]), "projects-template.xlsx")

    @get("/{import_id:int}", name="import")
    async def run(self, request: Request, import_id: FromPath[int]) -> Template:
        run = await project_import.get(guarded_actor(request), forms.item_id(import_id))
        return Template(
            "admin/import.html",
            context={
                "run": run,
                "refresh": REFRESH_SECONDS if run.is_running else None,
                "problems": project_import.report(
                    run.problems[:SHOWN_PROBLEMS], current_language()
                )[1],
            },
        )

    @get("/{import_id:int}/report.csv")
    async def report(self, request: Request, import_id: FromPath[int]) -> Response[bytes]:
        run = await project_import.get(guarded_actor(request), forms.item_id(import_id))
        header, rows = project_import.report(run.problems, current_language())
        return _download(to_csv(Sheet("refused", header, rows)), f"import-{run.id}-refused.csv")

    @post("/{import_id:int}/import")
    async def import_checked(self, request: Request, import_id: FromPath[int]) -> Redirect:
        new_id = await project_import.again(
            guarded_actor(request), forms.item_id(import_id), origin_of(request)
        )
        return Redirect(f"/manage/imports/{new_id}", status_code=303)
