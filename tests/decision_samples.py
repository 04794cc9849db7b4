"""Sample decision documents for the document tests and bench/documents.py."""

from __future__ import annotations

from datetime import date

from registry.domain.decision_documents import (
    CriterionScore,
    DecisionDocument,
    Issuer,
    Issuing,
    Project,
    Signer,
    call_decision,
    outcome_notice,
    project_decision,
    verify_url,
)

ISSUING = Issuing(
    issuer=Issuer(
        parent="BỘ KHOA HỌC VÀ CÔNG NGHỆ",
        name="QUỸ PHÁT TRIỂN KHOA HỌC VÀ CÔNG NGHỆ QUỐC GIA",
        code="QPTKHCN",
        authority="GIÁM ĐỐC QUỸ PHÁT TRIỂN KHOA HỌC VÀ CÔNG NGHỆ QUỐC GIA",
    ),
    signer=Signer(on_behalf="KT. GIÁM ĐỐC", title="PHÓ GIÁM ĐỐC", name="Nguyễn Thị Minh Hằng"),
    issued_on=date(2026, 3, 5),
    call_title="Đợt kêu gọi đề tài công nghệ chiến lược năm 2026",
)
PUBLIC_URL = "https://registry.example.vn"

ORGANISATIONS = (
    "Viện Hàn lâm Khoa học và Công nghệ Việt Nam",
    "Đại học Quốc gia Hà Nội",
    "Trường Đại học Bách khoa Hà Nội",
    "Viện Công nghệ thông tin",
)
TITLES = (
    "Cảm biến lượng tử cho đo lường từ trường siêu nhạy",
    "Vật liệu bán dẫn thế hệ mới cho vi mạch công suất",
    "Mô hình ngôn ngữ lớn tiếng Việt cho dịch vụ công",
    "Pin thể rắn an toàn cho phương tiện giao thông điện",
)


def projects(count: int) -> tuple[Project, ...]:
    return tuple(
        Project(
            rank=i + 1,
            reference=f"QPTKHCN-2026-{i + 1:06d}",
            title=f"{TITLES[i % len(TITLES)]} (giai đoạn {i // len(TITLES) + 1})",
            organisation=ORGANISATIONS[i % len(ORGANISATIONS)],
            principal_investigator=f"PGS.TS. Trần Văn Đức {i + 1}",
            amount_vnd=1_500_000_000 - 105_000_000 * (i % 7),
            duration_months=24 + 6 * (i % 3),
        )
        for i in range(count)
    )


def call_document(count: int = 12, number: int = 7) -> DecisionDocument:
    return call_decision(
        ISSUING, number, projects(count), code="QD7K-4M2X", url=verify_url(PUBLIC_URL, "QD7K-4M2X")
    )


def project_document(number: int = 8) -> DecisionDocument:
    return project_decision(
        ISSUING, number, projects(1)[0], code="P8Q2-ZZ41", url=verify_url(PUBLIC_URL, "P8Q2-ZZ41")
    )


SCORES = (
    CriterionScore("Tính xuất sắc", 35, 50, "Mục tiêu rõ ràng; phương pháp đo cần chi tiết hơn."),
    CriterionScore("Tác động", 40, 50, "Ứng dụng thực tiễn cao trong công nghiệp bán dẫn."),
    CriterionScore("Chất lượng và hiệu quả triển khai", 25, 50, "Kế hoạch kinh phí chưa hợp lý."),
)


def notice_document(*, reserve: bool, number: int = 9) -> DecisionDocument:
    project = projects(15)[14]
    return outcome_notice(
        ISSUING,
        number,
        project,
        reserve=reserve,
        scores=SCORES,
        total_tenths=100,
        total_max_tenths=150,
        code="TB9R-77AC",
        url=verify_url(PUBLIC_URL, "TB9R-77AC"),
    )
