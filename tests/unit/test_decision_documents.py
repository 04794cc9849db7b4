"""The values of decision documents: number lines per kind, standard texts, JSON both ways."""

from __future__ import annotations

import json

import pytest

from registry.domain.decision_documents import (
    document_data,
    document_from_data,
    verify_url,
)
from registry.domain.documents import DocumentKind
from tests.decision_samples import call_document, notice_document, project_document

pytestmark = pytest.mark.unit


def test_decisions_are_qd_and_notices_tb_in_the_number_line():
    assert call_document(number=7).number_line == "Số: 07/QĐ-QPTKHCN"
    assert project_document(number=12).number_line == "Số: 12/QĐ-QPTKHCN"
    assert notice_document(reserve=True, number=3).number_line == "Số: 03/TB-QPTKHCN"
    assert notice_document(reserve=False).kind == DocumentKind.REJECTION


def test_the_call_decision_states_the_count_and_total_in_words():
    document = call_document(count=3)
    assert document.annex_total_vnd == 1_500_000_000 + 1_395_000_000 + 1_290_000_000
    assert (
        "Phê duyệt danh mục 3 đề tài được tài trợ thuộc Đợt kêu gọi đề tài công nghệ chiến"
        " lược năm 2026 với tổng kinh phí 4.185.000.000 đồng (Bốn tỷ một trăm tám mươi lăm"
        " triệu đồng)" in document.articles[0]
    )


def test_the_project_decision_names_amount_duration_and_obligations():
    document = project_document()
    assert "với kinh phí 1.500.000.000 đồng (Một tỷ năm trăm triệu đồng)" in document.articles[0]
    assert "thời gian thực hiện 24 tháng" in document.articles[0]
    assert document.articles[1].startswith("Tổ chức chủ trì và chủ nhiệm đề tài có trách nhiệm:")


def test_marks_are_written_with_a_decimal_comma():
    notice = notice_document(reserve=False)
    assert [s.mark for s in notice.scores] == ["3,5/5", "4/5", "2,5/5"]
    assert notice.total_mark == "10/15"


@pytest.mark.parametrize(
    "document",
    [call_document(count=2), project_document(), notice_document(reserve=True)],
    ids=["call", "project", "notice"],
)
def test_the_json_reads_back_as_the_same_document(document):
    data = json.loads(json.dumps(document_data(document), ensure_ascii=False))
    assert document_from_data(data) == document
    assert data["reference"] == document.reference


def test_the_verify_url_joins_the_public_address_and_code():
    assert verify_url("https://r.example.vn/", "AB12") == "https://r.example.vn/verify/AB12"
