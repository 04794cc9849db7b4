"""What a decision document says, as values: the documents layer lays them out (Decree 30,
templates/pdf/) and embeds them as JSON in the PDF, so a machine reads the decision without
parsing the layout.

Four kinds: the call-level decision approving the funded projects (an annex table), the
per-project decision (amount in figures and words, duration, obligations), and the notices to
applicants on the reserve list or rejected (per-criterion scores and the reviewers' comments).
Decisions are `QĐ`, notices `TB` (Thông báo) in the number line.

Texts are Vietnamese: these are legal documents. Money is whole đồng, marks integer tenths.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from fractions import Fraction
from typing import Any

from registry.domain.documents import DocumentKind
from registry.domain.scoring import TENTHS, Criteria
from registry.domain.vietnamese import formal_amount, number_line, place_and_date

#: Legal bases a fund's decisions cite when the call names none (the call has no field for
#: them yet). The last basis ends with "." in the document, the others with ";". Only the
#: resolution and the law are cited with numbers (domain.md §1); a fund should check these
#: texts and name its own charter before issuing.
DEFAULT_LEGAL_BASES: tuple[str, ...] = (
    "Căn cứ Luật Khoa học, công nghệ và đổi mới sáng tạo số 93/2025/QH15",
    "Căn cứ Nghị quyết số 57-NQ/TW ngày 22 tháng 12 năm 2024 của Bộ Chính trị về đột phá phát"
    " triển khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số quốc gia",
    "Căn cứ Quyết định của Thủ tướng Chính phủ ban hành Danh mục công nghệ chiến lược và sản"
    " phẩm công nghệ chiến lược",
    "Căn cứ Điều lệ tổ chức và hoạt động của Quỹ",
    "Căn cứ kết quả đánh giá của các chuyên gia và đề nghị của Hội đồng khoa học",
)

#: What a funded project's host organisation undertakes (Điều 2 of a project decision).
DEFAULT_OBLIGATIONS: tuple[str, ...] = (
    "Tổ chức chủ trì và chủ nhiệm đề tài thực hiện đề tài theo thuyết minh đã được phê duyệt,"
    " sử dụng kinh phí đúng mục đích và đúng chế độ tài chính hiện hành",
    "Báo cáo định kỳ tiến độ và kết quả thực hiện, quyết toán kinh phí theo quy định của Quỹ",
    "Công bố kết quả nghiên cứu có ghi nhận sự tài trợ của Quỹ",
)


@dataclass(frozen=True, slots=True)
class Issuer:
    #: The body above the issuer, upper case ("BỘ KHOA HỌC VÀ CÔNG NGHỆ"); "" if none.
    parent: str
    #: The issuing body, upper case ("QUỸ PHÁT TRIỂN KHOA HỌC VÀ CÔNG NGHỆ QUỐC GIA").
    name: str
    #: Its abbreviation in number lines ("QPTKHCN").
    code: str
    #: The authority that decides, upper case ("GIÁM ĐỐC QUỸ PHÁT TRIỂN ...").
    authority: str
    place: str = "Hà Nội"


@dataclass(frozen=True, slots=True)
class Signer:
    #: The signing capacity when someone signs for the head ("KT. GIÁM ĐỐC"), else "".
    on_behalf: str
    title: str  # "PHÓ GIÁM ĐỐC"
    name: str


@dataclass(frozen=True, slots=True)
class Project:
    """A funded (or reserve, or rejected) proposal as the documents name it."""

    rank: int | None
    reference: str
    title: str
    organisation: str
    principal_investigator: str
    #: Granted amount in đồng (requested, for notices).
    amount_vnd: int
    duration_months: int

    @property
    def amount_line(self) -> str:
        return formal_amount(self.amount_vnd)


@dataclass(frozen=True, slots=True)
class CriterionScore:
    criterion: str
    #: The official (consensus, or aggregated) mark and the scale's maximum, in tenths.
    mark_tenths: int
    max_tenths: int
    comments: str

    @property
    def mark(self) -> str:
        return f"{mark_vi(self.mark_tenths)}/{mark_vi(self.max_tenths)}"


def mark_vi(tenths: int) -> str:
    """A mark as Vietnamese writes it: `4,5` (a decimal comma), `4` when whole."""
    whole, rest = divmod(tenths, TENTHS)
    return f"{whole}" if rest == 0 else f"{whole},{rest}"


@dataclass(frozen=True, slots=True)
class DecisionDocument:
    kind: DocumentKind
    issuer: Issuer
    number: int
    issued_on: date
    #: After "Về việc" / "V/v": "phê duyệt danh mục đề tài được tài trợ năm 2026".
    subject: str
    call_title: str
    #: "Căn cứ ..." lines without their final punctuation.
    bases: tuple[str, ...]
    #: The articles' texts, numbered "Điều 1.", "Điều 2." ... in the document. Notices have
    #: paragraphs here instead.
    articles: tuple[str, ...]
    #: "Nơi nhận:" lines without the dash; the filing line ("Lưu: VT, ...") is added.
    recipients: tuple[str, ...]
    #: The offices keeping a copy after "VT" (the clerical office), e.g. ("QLKH",).
    filed_by: tuple[str, ...]
    signer: Signer
    verification_code: str
    verify_url: str
    #: The call decision's annex: the funded projects in rank order.
    annex: tuple[Project, ...] = ()
    #: The project a project decision or a notice is about.
    project: Project | None = None
    #: A notice's per-criterion scores; the total in tenths (weighted), if any.
    scores: tuple[CriterionScore, ...] = ()
    total_tenths: int | None = None
    total_max_tenths: int | None = None
    obligations: tuple[str, ...] = ()
    #: To whom a notice is addressed ("Kính gửi: ...").
    addressee: str = ""
    #: The reference of the document this one corrects and replaces ("07/QĐ-QPTKHCN"), if any.
    replaces: str = ""

    @property
    def number_line(self) -> str:
        return number_line(self.number, self.kind.type_code, self.issuer.code)

    @property
    def date_line(self) -> str:
        return place_and_date(self.issuer.place, self.issued_on)

    @property
    def reference(self) -> str:
        """`07/QĐ-QPTKHCN`, the number line without "Số: "."""
        return self.number_line.removeprefix("Số: ")

    @property
    def title(self) -> str:
        return f"{self.kind.heading.capitalize()} {self.reference}"

    @property
    def total_mark(self) -> str:
        if self.total_tenths is None:
            return ""
        mark = mark_vi(self.total_tenths)
        return f"{mark}/{mark_vi(self.total_max_tenths)}" if self.total_max_tenths else mark

    @property
    def annex_total_vnd(self) -> int:
        return sum(p.amount_vnd for p in self.annex)


def verify_url(public_url: str, code: str) -> str:
    """Where the QR code and the printed link lead: the public verify page of the code."""
    return f"{public_url.rstrip('/')}/verify/{code}"


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def document_data(document: DecisionDocument) -> dict[str, Any]:
    """The decision as plain JSON values (the attachment embedded in the PDF): every field,
    dates as ISO 8601, plus the number line and reference as printed."""
    data: dict[str, Any] = _plain(asdict(document))
    data["kind"] = str(document.kind)
    data["reference"] = document.reference
    data["number_line"] = document.number_line
    data["format"] = "registry-decision/1"
    return data


# Standard texts: the documents a call's approved outcomes give, with their usual wording.

EFFECT = (
    "Quyết định này có hiệu lực kể từ ngày ký. Chánh Văn phòng, Trưởng các ban chuyên môn của"
    " Quỹ, tổ chức chủ trì và chủ nhiệm các đề tài nêu tại Điều 1 chịu trách nhiệm thi hành"
    " Quyết định này"
)


def _effect(replaces: str) -> str:
    """The last article; a correction names the decision it replaces (which stays on record)."""
    if not replaces:
        return EFFECT
    return EFFECT.replace(
        "kể từ ngày ký.", f"kể từ ngày ký và thay thế Quyết định số {replaces}.", 1
    )


@dataclass(frozen=True, slots=True)
class Issuing:
    """What every document of one issue shares: who issues, signs, when, for which call."""

    issuer: Issuer
    signer: Signer
    issued_on: date
    call_title: str
    bases: tuple[str, ...] = DEFAULT_LEGAL_BASES
    filed_by: tuple[str, ...] = ("QLKH",)


def call_decision(
    issuing: Issuing,
    number: int,
    projects: tuple[Project, ...],
    *,
    code: str,
    url: str,
    replaces: str = "",
) -> DecisionDocument:
    """The decision approving a call's funded projects, listed in the annex."""
    total = sum(p.amount_vnd for p in projects)
    return DecisionDocument(
        kind=DocumentKind.CALL_DECISION,
        issuer=issuing.issuer,
        number=number,
        issued_on=issuing.issued_on,
        subject=f"phê duyệt danh mục đề tài được tài trợ thuộc {issuing.call_title}",
        call_title=issuing.call_title,
        bases=issuing.bases,
        articles=(
            f"Phê duyệt danh mục {len(projects)} đề tài được tài trợ thuộc {issuing.call_title}"
            f" với tổng kinh phí {formal_amount(total)}, chi tiết tại Phụ lục kèm theo Quyết"
            " định này.",
            "Kinh phí và thời gian thực hiện của từng đề tài theo Phụ lục. Tổ chức chủ trì và"
            " chủ nhiệm đề tài ký hợp đồng thực hiện với Quỹ và thực hiện đề tài theo quy định"
            " của Quỹ.",
            _effect(replaces),
        ),
        recipients=("Như Điều 3", "Bộ Khoa học và Công nghệ (để báo cáo)"),
        filed_by=issuing.filed_by,
        signer=issuing.signer,
        verification_code=code,
        verify_url=url,
        annex=projects,
        replaces=replaces,
    )


def project_decision(
    issuing: Issuing,
    number: int,
    project: Project,
    *,
    code: str,
    url: str,
    obligations: tuple[str, ...] = DEFAULT_OBLIGATIONS,
    replaces: str = "",
) -> DecisionDocument:
    """The decision funding one project: amount in figures and words, duration, duties."""
    p = project
    return DecisionDocument(
        kind=DocumentKind.FUNDING,
        issuer=issuing.issuer,
        number=number,
        issued_on=issuing.issued_on,
        subject=f"tài trợ đề tài mã số {p.reference}",
        call_title=issuing.call_title,
        bases=issuing.bases,
        articles=(
            f"Tài trợ đề tài \u201c{p.title}\u201d, mã số {p.reference}, thuộc"
            f" {issuing.call_title}, do {p.organisation} chủ trì và {p.principal_investigator}"
            f" làm chủ nhiệm, với kinh phí {p.amount_line}, thời gian thực hiện"
            f" {p.duration_months} tháng.",
            "Tổ chức chủ trì và chủ nhiệm đề tài có trách nhiệm: "
            + "; ".join(o[0].lower() + o[1:] for o in obligations)
            + ".",
            _effect(replaces),
        ),
        recipients=("Như Điều 3", p.organisation),
        filed_by=issuing.filed_by,
        signer=issuing.signer,
        verification_code=code,
        verify_url=url,
        project=p,
        obligations=obligations,
        replaces=replaces,
    )


def outcome_notice(
    issuing: Issuing,
    number: int,
    project: Project,
    *,
    reserve: bool,
    scores: tuple[CriterionScore, ...],
    total_tenths: int | None,
    total_max_tenths: int | None,
    code: str,
    url: str,
    replaces: str = "",
) -> DecisionDocument:
    """The notice to a proposal on the reserve list (`reserve`) or rejected, with its marks."""
    p = project
    if reserve:
        outcome = (
            f"được xếp thứ {p.rank} và đưa vào danh sách dự bị. Đề tài sẽ được xem xét tài trợ"
            " nếu một đề tài trong danh mục được tài trợ không ký hợp đồng hoặc Quỹ bổ sung"
            " kinh phí cho đợt xét chọn"
        )
    else:
        outcome = "không được xét chọn tài trợ"
    return DecisionDocument(
        kind=DocumentKind.RESERVE if reserve else DocumentKind.REJECTION,
        issuer=issuing.issuer,
        number=number,
        issued_on=issuing.issued_on,
        subject=f"kết quả xét chọn đề tài mã số {p.reference}",
        call_title=issuing.call_title,
        bases=(),
        articles=(
            f"Căn cứ kết quả đánh giá của các chuyên gia đối với các hồ sơ đăng ký thuộc"
            f" {issuing.call_title}, Quỹ thông báo: đề tài"
            f" \u201c{p.title}\u201d, mã số {p.reference}, {outcome}.",
            *(
                (f"Thông báo này thay thế Thông báo số {replaces}.",) if replaces else ()
            ),
            "Điểm chính thức theo từng tiêu chí và tóm tắt nhận xét của chuyên gia như sau"
            " (danh tính chuyên gia không được công bố):",
        ),
        recipients=(p.organisation, p.principal_investigator),
        filed_by=issuing.filed_by,
        signer=issuing.signer,
        verification_code=code,
        verify_url=url,
        project=p,
        scores=scores,
        total_tenths=total_tenths,
        total_max_tenths=total_max_tenths,
        addressee=p.organisation,
        replaces=replaces,
    )


def document_from_data(data: dict[str, Any]) -> DecisionDocument:
    """The document back from its JSON (`document_data`), e.g. read from a PDF's attachment."""

    def project(value: dict[str, Any] | None) -> Project | None:
        return None if value is None else Project(**value)

    return DecisionDocument(
        kind=DocumentKind(data["kind"]),
        issuer=Issuer(**data["issuer"]),
        number=data["number"],
        issued_on=date.fromisoformat(data["issued_on"]),
        subject=data["subject"],
        call_title=data["call_title"],
        bases=tuple(data["bases"]),
        articles=tuple(data["articles"]),
        recipients=tuple(data["recipients"]),
        filed_by=tuple(data["filed_by"]),
        signer=Signer(**data["signer"]),
        verification_code=data["verification_code"],
        verify_url=data["verify_url"],
        annex=tuple(Project(**p) for p in data["annex"]),
        project=project(data["project"]),
        scores=tuple(CriterionScore(**s) for s in data["scores"]),
        total_tenths=data["total_tenths"],
        total_max_tenths=data["total_max_tenths"],
        obligations=tuple(data["obligations"]),
        addressee=data["addressee"],
        replaces=data.get("replaces", ""),
    )


def half_up(tenths: Fraction) -> int:
    """An official mark (an exact fraction of tenths: a median or mean) to the whole tenth a
    document prints, halves rounded up."""
    return math.floor(tenths + Fraction(1, 2))


def notice_scores(
    criteria: Criteria, marks: Sequence[Fraction], comments: Sequence[Sequence[str]]
) -> tuple[CriterionScore, ...]:
    """Each criterion's official mark and its reviewers' comments, unnamed, one per line:
    what a notice tells the applicant (an evaluation summary, never who wrote what)."""
    return tuple(
        CriterionScore(
            criterion=criterion.name.vi,
            mark_tenths=half_up(mark),
            max_tenths=criterion.scale.high,
            comments="\n".join(c.strip() for c in said if c.strip()),
        )
        for criterion, mark, said in zip(criteria.items, marks, comments, strict=True)
    )
