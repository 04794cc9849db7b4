"""Decision documents rendered to real PDFs and read back (pypdf): what they say (number,
date, amount in words, annex rows, scores), PDF/A-3b identification, embedded fonts, the
embedded JSON and page numbers from page 2.

Rendering costs about 0.3 s a document on this machine, so each kind is rendered once per
test session (module fixtures) and the tests read the same bytes.
"""

from __future__ import annotations

import io
import json
import re

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from registry.documents.decisions import ATTACHMENT_NAME, decision_html, render_decision
from registry.domain.decision_documents import document_data, document_from_data
from tests.decision_samples import call_document, notice_document, project_document

pytestmark = pytest.mark.integration

MM = 72 / 25.4
CALL = call_document(count=12)
PROJECT = project_document()
REJECTION = notice_document(reserve=False)


@pytest.fixture(scope="module")
def call_pdf() -> PdfReader:
    return PdfReader(io.BytesIO(render_decision(CALL)))


@pytest.fixture(scope="module")
def project_bytes() -> bytes:
    return render_decision(PROJECT)


@pytest.fixture(scope="module")
def project_pdf(project_bytes) -> PdfReader:
    return PdfReader(io.BytesIO(project_bytes))


@pytest.fixture(scope="module")
def rejection_pdf() -> PdfReader:
    return PdfReader(io.BytesIO(render_decision(REJECTION)))


def text_of(reader: PdfReader) -> str:
    """The document's words, one space between each (line breaks and justification vary)."""
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def top_margin_text(reader: PdfReader, index: int) -> str:
    """What is printed in the top margin (above 20 mm from the top) of page `index`."""
    page = reader.pages[index]
    height = float(page.mediabox.height)
    parts: list[str] = []

    def visit(text, cm, tm, font, size):  # type: ignore[no-untyped-def]
        y = cm[5] + tm[5] * cm[3]
        if text.strip() and y > height - 20 * MM:
            parts.append(text.strip())

    page.extract_text(visitor_text=visit)
    return " ".join(parts)


def test_the_call_decision_has_the_decree_30_lines(call_pdf):
    text = text_of(call_pdf)
    first = " ".join(call_pdf.pages[0].extract_text().split())
    assert "Số: 07/QĐ-QPTKHCN" in first
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in first
    assert "Độc lập - Tự do - Hạnh phúc" in first
    assert "Hà Nội, ngày 05 tháng 3 năm 2026" in first
    assert "QUYẾT ĐỊNH Về việc phê duyệt danh mục đề tài được tài trợ" in first
    assert "Căn cứ Nghị quyết số 57-NQ/TW" in first
    assert "QUYẾT ĐỊNH: Điều 1." in first
    assert re.search(r"Điều 3\. .*\./\.", text)
    assert (
        "Nơi nhận: - Như Điều 3; - Bộ Khoa học và Công nghệ (để báo cáo); - Lưu: VT, QLKH." in text
    )
    assert "KT. GIÁM ĐỐC PHÓ GIÁM ĐỐC Nguyễn Thị Minh Hằng" in text
    assert "Mã xác thực: QD7K-4M2X" in text
    assert "https://registry.example.vn/verify/QD7K-4M2X" in text


def test_the_legal_bases_end_with_semicolons_and_the_last_with_a_full_stop(call_pdf):
    text = text_of(call_pdf)
    bases = re.findall(r"(Căn cứ .*?)([;.])(?= Căn cứ| QUYẾT ĐỊNH:)", text)
    assert len(bases) == len(CALL.bases)
    assert [end for _, end in bases] == [";"] * (len(CALL.bases) - 1) + ["."]


def test_the_call_decision_totals_in_words_and_lists_every_funded_project_in_the_annex(call_pdf):
    text = text_of(call_pdf)
    total = CALL.annex_total_vnd
    assert total == 14_745_000_000
    assert "14.745.000.000 đồng (Mười bốn tỷ bảy trăm bốn mươi lăm triệu đồng)" in text
    assert "PHỤ LỤC DANH MỤC ĐỀ TÀI ĐƯỢC TÀI TRỢ" in text
    for project in CALL.annex:
        amount = re.escape(f"{project.amount_vnd:,}".replace(",", "."))
        row = re.search(
            rf"\b{project.rank} {project.reference} .*? {amount} {project.duration_months}\b", text
        )
        assert row, project.reference
    assert "Tổng cộng: 12 đề tài 14.745.000.000" in text


def test_the_project_decision_gives_the_amount_in_figures_and_words(project_pdf):
    text = text_of(project_pdf)
    assert "Số: 08/QĐ-QPTKHCN" in text
    assert "Về việc tài trợ đề tài mã số QPTKHCN-2026-000001" in text
    assert "1.500.000.000 đồng (Một tỷ năm trăm triệu đồng)" in text
    assert "thời gian thực hiện 24 tháng" in text
    assert "Tổ chức chủ trì và chủ nhiệm đề tài có trách nhiệm:" in text


def test_the_rejection_notice_gives_each_criterions_official_mark_and_comments(rejection_pdf):
    text = text_of(rejection_pdf)
    assert "Số: 09/TB-QPTKHCN" in text
    assert "THÔNG BÁO Về việc kết quả xét chọn đề tài mã số QPTKHCN-2026-000015" in text
    assert "không được xét chọn tài trợ" in text
    for score in REJECTION.scores:
        assert f"{score.criterion} {score.mark}" in text
        assert score.comments in text
    assert "Chất lượng và hiệu quả triển khai 2,5/5 Kế hoạch kinh phí chưa hợp lý." in text
    assert "Tổng điểm 10/15" in text


def test_a_reserve_notice_says_the_rank_and_the_reserve_list():
    html = decision_html(notice_document(reserve=True))
    assert "được xếp thứ 15 và đưa vào danh sách dự bị" in html
    assert "Số: 09/TB-QPTKHCN" in html


def test_the_pdf_is_identified_as_pdf_a_3b_with_document_metadata(call_pdf):
    root = call_pdf.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
    assert 'pdfaid:part="3"' in xmp
    assert 'pdfaid:conformance="B"' in xmp
    assert "/OutputIntents" in root
    info = call_pdf.metadata
    assert info.title == "Quyết định 07/QĐ-QPTKHCN"
    assert info.author == "QUỸ PHÁT TRIỂN KHOA HỌC VÀ CÔNG NGHỆ QUỐC GIA"
    assert info.subject.startswith("Quyết định về việc phê duyệt danh mục")
    assert info["/CreationDate"] == "D:20260305000000+07'00"


def _fonts(reader: PdfReader) -> dict[str, DictionaryObject]:
    fonts: dict[str, DictionaryObject] = {}

    def walk(resources: DictionaryObject) -> None:
        for font in resources.get("/Font", {}).values():
            font = font.get_object()
            fonts[str(font["/BaseFont"])] = font
        for xobject in resources.get("/XObject", {}).values():
            inner = xobject.get_object().get("/Resources")
            if inner is not None:
                walk(inner.get_object())

    for page in reader.pages:
        walk(page["/Resources"].get_object())
    return fonts


def test_every_font_is_embedded_and_is_liberation_serif(call_pdf, rejection_pdf):
    for reader in (call_pdf, rejection_pdf):
        fonts = _fonts(reader)
        assert fonts
        for name, font in fonts.items():
            descendants = font.get("/DescendantFonts")
            described = descendants[0].get_object() if descendants else font
            descriptor = described["/FontDescriptor"].get_object()
            assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), name
            assert "Liberation-Serif" in name, name


def test_the_decision_data_is_attached_as_json_equal_to_the_document(call_pdf, project_pdf):
    for reader, document in ((call_pdf, CALL), (project_pdf, PROJECT)):
        (content,) = reader.attachments[ATTACHMENT_NAME]
        data = json.loads(content)
        assert data == document_data(document)
        assert document_from_data(data) == document
        assert data["number_line"] == document.number_line
    names = call_pdf.trailer["/Root"]["/Names"]["/EmbeddedFiles"]["/Names"]
    spec = names[1].get_object()
    assert spec["/AFRelationship"] == "/Data"
    embedded = spec["/EF"]["/F"].get_object()
    assert embedded["/Subtype"] == "/application/json"
    assert embedded["/Params"]["/ModDate"] == "D:20260304170000Z"  # 5 March, 00:00 in Vietnam
    assert json.loads(call_pdf.attachments[ATTACHMENT_NAME][0])["annex"][0]["amount_vnd"] == (
        1_500_000_000
    )


def test_pages_are_numbered_from_the_second_page_at_the_top(call_pdf):
    assert len(call_pdf.pages) >= 3  # decision, closing, annex
    assert top_margin_text(call_pdf, 0) == ""
    for index in range(1, len(call_pdf.pages)):
        assert top_margin_text(call_pdf, index) == str(index + 1)


def test_the_annex_is_landscape_and_the_decision_a4_portrait(call_pdf):
    first, last = call_pdf.pages[0].mediabox, call_pdf.pages[-1].mediabox
    assert (round(float(first.width) / MM), round(float(first.height) / MM)) == (210, 297)
    assert (round(float(last.width) / MM), round(float(last.height) / MM)) == (297, 210)


def test_the_qr_code_is_drawn_and_values_are_escaped():
    html = decision_html(CALL)
    assert 'src="data:image/svg+xml' in html
    hostile = project_document()
    from dataclasses import replace

    bad = replace(hostile, subject='<img src="file:///etc/passwd">')
    assert "&lt;img" in decision_html(bad)


def test_one_document_renders_the_same_bytes_again(project_bytes):
    """No clock in the file: a re-run job reproduces the stored PDF byte for byte."""
    assert render_decision(PROJECT) == project_bytes
