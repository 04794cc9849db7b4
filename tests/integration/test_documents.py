"""Documents render without a request, in the language asked for, and fetch nothing."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from registry import documents
from registry.documents.qr import qr_data_uri
from registry.domain.catalogue import Localized
from registry.i18n import current_language
from registry.services.submissions import Receipt

pytestmark = pytest.mark.integration

RECEIPT = Receipt(
    receipt_no="NAFOSTED-2026-000042-V1",
    reference="NAFOSTED-2026-000042",
    proposal_id=42,
    version=1,
    title="Cảm biến lượng tử cho đo lường",
    call_title=Localized("Đợt kêu gọi 2026", "Call 2026"),
    fund_name=Localized("Quỹ Phát triển khoa học", "Science fund"),
    organisation_name=Localized("Viện Hàn lâm", "Academy"),
    submitted_by="Nguyễn Văn A",
    received_at=datetime(2026, 3, 5, 7, 30, tzinfo=UTC),
    content_sha256="ab" * 32,
    files=(),
)


def _text(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.parametrize(
    ("language", "heading"), [("vi", "Số biên nhận"), ("en", "Receipt number")]
)
async def test_a_receipt_renders_outside_a_request_in_the_language_asked_for(language, heading):
    verify_url = "https://registry.example.vn" + RECEIPT.verification_path
    pdf = await documents.render(
        "proposals/receipt_pdf.html",
        language=language,
        receipt=RECEIPT,
        verify_url=verify_url,
        qr=qr_data_uri(verify_url),
    )
    text = _text(pdf)
    assert "registry.example.vn/verify/receipts/" in text.replace("\n", "")
    assert pdf.startswith(b"%PDF-")
    assert heading in text
    assert "NAFOSTED-2026-000042-V1" in text
    assert "Cảm biến lượng tử" in text
    assert current_language() == "vi"  # the language was set for the render only


def test_a_document_fetches_nothing_but_data_urls(tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"not for documents")
    html = f'<p>x</p><img src="file://{secret}"><img src="http://127.0.0.1:9/x.png">'
    from registry.documents.pdf import _render

    pdf = _render(html)  # renders, with both images left out
    assert b"not for documents" not in pdf
