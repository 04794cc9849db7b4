"""The public verify page: is this decision one the registry issued, and unchanged?

Anyone enters a document's verification code (`/verify?code=...`, or the QR code's link
`/verify/{code}`) or uploads the PDF they were sent. An upload is genuine only when its exact
bytes are a stored document's (SHA-256), so one changed byte is "not issued by this
registry"; the embedded PAdES signature of a genuine file is validated too and its signer
named. Uploads are read into memory, checked to be a PDF first, and never stored. The page
shows what the document itself says (number, date, fund, subject), never reviewers or scores.
"""

from __future__ import annotations

from typing import ClassVar

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Stream, Template

from registry.domain.documents import normalise_code
from registry.domain.errors import NotFound
from registry.i18n import N_
from registry.services import documents, signing, submissions
from registry.services.storage import read_all, sha256_of, storage_from
from registry.settings import Settings
from registry.web.controllers.proposals import stored_pdf

PUBLIC = {"public": True}
#: Issued decisions are a few hundred kilobytes; anything far larger is not one of them.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
#: The multipart body: the file and the CSRF token.
UPLOAD_BODY_MAX = MAX_UPLOAD_BYTES + 64 * 1024


def _page(**context: object) -> Template:
    base: dict[str, object] = {
        "document": None,
        "validity": None,
        "looked_up": False,
        "code": "",
        "problem": None,
        "uploaded_sha256": None,
        "max_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
    }
    return Template(template_name="verify/verify.html", context=base | context)


async def _answer(
    settings: Settings, document: documents.IssuedDocument | None, **context: object
) -> Template:
    validity = None
    if document is not None:
        pdf = await read_all(await storage_from(settings).open(document.sha256))
        validity = await signing.validate(settings, pdf)
    return _page(document=document, validity=validity, looked_up=True, **context)


class VerifyController(Controller):
    opt: ClassVar[dict[str, object]] = PUBLIC

    @get("/verify", name="verify")
    async def verify(self, request: Request, settings: NamedDependency[Settings]) -> Template:
        typed = request.query_params.get("code", "").strip()[:40]
        if not typed:
            return _page()
        if normalise_code(typed) is None:
            return _page(
                code=typed,
                problem=N_(
                    "A verification code is 10 letters and digits, as printed on the document."
                ),
            )
        return await _answer(settings, await documents.by_code(typed), code=typed)

    @get("/verify/{code:str}", name="verify-code")
    async def by_code(self, code: FromPath[str], settings: NamedDependency[Settings]) -> Template:
        code = code[:40]
        document = await documents.by_code(code) if normalise_code(code) else None
        return await _answer(settings, document, code=code)

    @get("/verify/{code:str}/pdf", name="verify-pdf")
    async def download(self, code: FromPath[str], settings: NamedDependency[Settings]) -> Stream:
        document = await documents.by_code(code[:40]) if normalise_code(code[:40]) else None
        if document is None:
            raise NotFound()
        filename = f"{document.verification_code}.pdf"
        return await stored_pdf(settings, document.sha256, filename)

    @get("/verify/receipts/{receipt_no:str}", name="verify-receipt")
    async def receipt(self, request: Request, receipt_no: FromPath[str]) -> Template:
        """A proposal's receipt, checked by its number and content SHA-256 (`?sha256=`, the
        receipt's QR code carries both): genuine or not, and what it records."""
        digest = request.query_params.get("sha256", "")[:100]
        found = await submissions.check_receipt(receipt_no, digest)
        return Template(
            "verify/receipt.html",
            context={"check": found, "receipt_no": receipt_no[:40], "sha256": digest},
        )

    @post("/verify", request_max_body_size=UPLOAD_BODY_MAX, status_code=200)
    async def upload(self, request: Request, settings: NamedDependency[Settings]) -> Template:
        form = await request.form()
        upload = form.get("file")
        try:
            if not isinstance(upload, UploadFile) or not upload.filename:
                return _page(problem=N_("Choose the PDF file to check."))
            data = await upload.read(MAX_UPLOAD_BYTES + 1)
        finally:
            if isinstance(upload, UploadFile):
                await upload.close()
        if len(data) > MAX_UPLOAD_BYTES:
            return _page(problem=N_("This file is larger than any decision the registry issues."))
        # A PDF starts with its header (within the first KiB, as readers allow); nothing else
        # is looked at, stored or parsed before that.
        if b"%PDF-" not in data[:1024]:
            return _page(problem=N_("This file is not a PDF."))
        digest = sha256_of(data)
        document = await documents.by_sha256(digest)
        return await _answer(settings, document, uploaded_sha256=digest)
