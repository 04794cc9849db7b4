"""Importing historic funded projects from a spreadsheet: the columns, and reading one row.

Pure: the service (services.project_import) reads the file, looks names up in the database
and writes; here a row's cells become a checked `ProjectRow`, or the problems that refuse it.
Problems are English msgids with parameters, translated where they are shown (page, report).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from registry.domain.catalogue import OrganisationKind
from registry.domain.errors import N_, InvalidInput
from registry.domain.identifiers import is_valid_tax_number
from registry.domain.money import AMOUNT_MAX, parse_vnd
from registry.domain.permissions import is_admin, is_fund_manager
from registry.domain.text import clean, fold

#: Import a fund's historic projects: administrators for any fund, managers for their own.
may_import_projects = is_admin | is_fund_manager

#: Longest external id (it is part of the project's code, Varchar(60), with the fund's code).
EXTERNAL_ID_MAX = 40
TITLE_MAX = 500
ABSTRACT_MAX = 10_000
#: Separates several technologies in one cell.
LIST_SEPARATORS = re.compile(r"[;\n|]")


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    #: The header in the template (English msgid; the Vietnamese template shows its translation).
    label: str
    required: bool
    example: str


COLUMNS = (
    Column("external_id", N_("External id"), True, "NAF-2019-001"),
    Column("title_vi", N_("Title (Vietnamese)"), True, "Nghiên cứu vật liệu đất hiếm"),
    Column("title_en", N_("Title (English)"), False, "Research on rare-earth materials"),
    Column("abstract_vi", N_("Abstract (Vietnamese)"), False, "Tóm tắt dự án."),
    Column("abstract_en", N_("Abstract (English)"), False, "Project summary."),
    Column("fund", N_("Fund code"), False, "NAFOSTED"),
    Column("organisation", N_("Organisation"), True, "Viện Hàn lâm Khoa học và Công nghệ"),
    Column("tax_number", N_("Organisation tax number"), False, "0100110687"),
    Column("organisation_kind", N_("Organisation kind"), False, "research_institute"),
    Column("amount_vnd", N_("Amount (VND)"), True, "1.500.000.000"),
    Column("starts_on", N_("Start date"), True, "15/03/2019"),
    Column("ends_on", N_("End date"), True, "14/03/2021"),
    Column("province", N_("Province"), False, "Hà Nội"),
    Column("technologies", N_("Technologies"), False, "ai-digital-twin-xr; Bán dẫn"),
)
COLUMN_KEYS = tuple(c.key for c in COLUMNS)
REQUIRED = frozenset(c.key for c in COLUMNS if c.required)


def header_key(text: str) -> str:
    """A header cell as compared with the known names: folded, punctuation as single spaces."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", fold(clean(text))).split())


def map_header(header: list[str], aliases: Mapping[str, str]) -> tuple[dict[int, str], list[str]]:
    """Which column of the file holds which field (`aliases`: header_key -> field key), and the
    required fields no column holds. Unknown columns are ignored (funds keep notes beside)."""
    positions: dict[int, str] = {}
    for index, cell in enumerate(header):
        key = aliases.get(header_key(cell))
        if key is not None and key not in positions.values():
            positions[index] = key
    missing = [key for key in COLUMN_KEYS if key in REQUIRED and key not in positions.values()]
    return positions, missing


# --- provinces after the 2025 merger ---------------------------------------------------------

#: The 34 provinces and centrally run cities since 1 July 2025 (Resolution 202/2025/QH15), as
#: the catalogue writes them (fixtures/demo_vocabulary.json), each with the provinces merged
#: into it. Older spreadsheets name the 63 provinces before the merger: they map to the new one.
PROVINCES: dict[str, tuple[str, ...]] = {
    "Hà Nội": (),
    "Huế": ("Thừa Thiên Huế", "Thừa Thiên - Huế"),
    "Lai Châu": (),
    "Điện Biên": (),
    "Sơn La": (),
    "Lạng Sơn": (),
    "Quảng Ninh": (),
    "Thanh Hóa": (),
    "Nghệ An": (),
    "Hà Tĩnh": (),
    "Cao Bằng": (),
    "Tuyên Quang": ("Hà Giang",),
    "Lào Cai": ("Yên Bái",),
    "Thái Nguyên": ("Bắc Kạn",),
    "Phú Thọ": ("Vĩnh Phúc", "Hòa Bình"),
    "Bắc Ninh": ("Bắc Giang",),
    "Hưng Yên": ("Thái Bình",),
    "Hải Phòng": ("Hải Dương",),
    "Ninh Bình": ("Hà Nam", "Nam Định"),
    "Quảng Trị": ("Quảng Bình",),
    "Đà Nẵng": ("Quảng Nam",),
    "Quảng Ngãi": ("Kon Tum",),
    "Gia Lai": ("Bình Định",),
    "Khánh Hòa": ("Ninh Thuận",),
    "Lâm Đồng": ("Đắk Nông", "Bình Thuận"),
    "Đắk Lắk": ("Phú Yên",),
    "TP. Hồ Chí Minh": ("Hồ Chí Minh", "Sài Gòn", "HCM", "Bình Dương", "Bà Rịa - Vũng Tàu"),
    "Đồng Nai": ("Bình Phước",),
    "Tây Ninh": ("Long An",),
    "Cần Thơ": ("Sóc Trăng", "Hậu Giang"),
    "Vĩnh Long": ("Bến Tre", "Trà Vinh"),
    "Đồng Tháp": ("Tiền Giang",),
    "Cà Mau": ("Bạc Liêu",),
    "An Giang": ("Kiên Giang",),
}
#: Words before a province's name that say what it is ("Tỉnh Nam Định", "Thành phố Huế").
_PROVINCE_PREFIX = re.compile(r"^(tinh|thanh pho|tp)\s+")


def _province_key(text: str) -> str:
    # Spaces and hyphens go: "Bà Rịa - Vũng Tàu", "Bà Rịa-Vũng Tàu" and "TP.HCM" all match.
    return _PROVINCE_PREFIX.sub("", header_key(text)).replace(" ", "")


_PROVINCE_INDEX = {
    _province_key(name): current
    for current, merged in PROVINCES.items()
    for name in (current, *merged)
}


def current_province(text: str) -> str | None:
    """The province as it is named since the 2025 merger, or None when the name is unknown."""
    return _PROVINCE_INDEX.get(_province_key(text))


# --- amounts and dates -----------------------------------------------------------------------

_UNITS = {"ty": 10**9, "ti": 10**9, "trieu": 10**6, "tr": 10**6, "nghin": 10**3, "ngan": 10**3}
_WITH_UNIT = re.compile(r"^(\d{1,12})(?:[.,](\d{1,9}))?\s*(ty|ti|trieu|tr|nghin|ngan)$")
_CURRENCY = re.compile(r"\s*(vnd|vnđ|dong|đồng|đ|₫)\.?$", re.IGNORECASE)


def parse_amount(value: object) -> int:
    """Whole đồng from a cell: a whole number (spreadsheets give numbers as floats: only exact
    whole ones pass), `1500000000`, `1.500.000.000`, `1,500,000,000`, `1 500 000 000 đồng`, or
    with a unit, `1,5 tỷ` / `1.5 ty` / `250 triệu` (exact: `1,0000000005 tỷ` is refused)."""
    if isinstance(value, bool):
        raise InvalidInput("Enter a whole amount in đồng, such as 1.500.000.", field="amount_vnd")
    if isinstance(value, int):
        amount = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise InvalidInput("An amount in đồng has no fractions.", field="amount_vnd")
        amount = int(value)
    else:
        text = _CURRENCY.sub("", clean(str(value)))
        unit = _WITH_UNIT.match(fold(text))
        if unit:
            whole, fraction, name = unit.groups()
            size = _UNITS[name]
            fraction = fraction or ""
            scaled = int(whole) * size + int(fraction or "0") * size // 10 ** len(fraction)
            if fraction and int(fraction) * size % 10 ** len(fraction):
                raise InvalidInput("An amount in đồng has no fractions.", field="amount_vnd")
            amount = scaled
        else:
            amount = parse_vnd(text, field="amount_vnd")
    if not 0 < amount <= AMOUNT_MAX:
        raise InvalidInput(
            "Enter an amount above 0 and at most %(limit)s đồng.",
            field="amount_vnd",
            limit=f"{AMOUNT_MAX:,}".replace(",", "."),
        )
    return amount


_DAY_FIRST = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.]+)?$")


def parse_date(value: object, *, field: str) -> dt.date:
    """A date cell (a spreadsheet date) or text: `15/03/2019` (day first, as Vietnam writes
    it), `15-03-2019`, `15.03.2019` or `2019-03-15`."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = clean(str(value))
    day_first = _DAY_FIRST.match(text)
    iso = _ISO.match(text)
    try:
        if day_first:
            day, month, year = (int(g) for g in day_first.groups())
            return dt.date(year, month, day)
        if iso:
            year, month, day = (int(g) for g in iso.groups())
            return dt.date(year, month, day)
    except ValueError:
        pass
    raise InvalidInput("Enter a date as day/month/year, such as 15/03/2019.", field=field)


# --- rows ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """Why one row (its line in the file, header = 1) is refused."""

    line: int
    column: str  # a field key, or "" for the row as a whole
    message: str
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ProjectRow:
    line: int
    external_id: str
    title_vi: str
    title_en: str | None
    abstract_vi: str | None
    abstract_en: str | None
    fund: str | None
    organisation: str
    tax_number: str | None
    organisation_kind: OrganisationKind
    amount_vnd: int
    starts_on: dt.date
    ends_on: dt.date
    province: str | None
    technologies: tuple[str, ...]

    def fingerprint(self, fund_id: int, organisation: str, technology_ids: list[int]) -> str:
        """What the row says once resolved, hashed: a re-import whose fingerprint is the same
        changes nothing (`organisation` is the matched organisation's code)."""
        values = [
            self.title_vi,
            self.title_en,
            self.abstract_vi,
            self.abstract_en,
            fund_id,
            organisation,
            self.amount_vnd,
            self.starts_on.isoformat(),
            self.ends_on.isoformat(),
            self.province,
            sorted(technology_ids),
        ]
        return hashlib.sha256(json.dumps(values, ensure_ascii=False).encode()).hexdigest()


_KIND_WORDS = (
    ("dai hoc", OrganisationKind.UNIVERSITY),
    ("hoc vien", OrganisationKind.UNIVERSITY),
    ("cao dang", OrganisationKind.UNIVERSITY),
    ("cong ty", OrganisationKind.ENTERPRISE),
    ("tap doan", OrganisationKind.ENTERPRISE),
    ("doanh nghiep", OrganisationKind.ENTERPRISE),
    ("tong cong ty", OrganisationKind.ENTERPRISE),
    ("bo ", OrganisationKind.STATE_AGENCY),
    ("so ", OrganisationKind.STATE_AGENCY),
    ("uy ban", OrganisationKind.STATE_AGENCY),
    ("cuc ", OrganisationKind.STATE_AGENCY),
)


def guess_kind(name: str) -> OrganisationKind:
    """An organisation's kind from its Vietnamese name, for one created by an import with no
    kind given (it is pending review anyway): institutes and centres are the default."""
    folded = fold(name) + " "
    for word, kind in _KIND_WORDS:
        if folded.startswith(word) or f" {word}" in folded[:30]:
            return kind
    return OrganisationKind.RESEARCH_INSTITUTE


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a number typed in a text column (an id, a tax number)
    return clean(str(value))


def read_row(line: int, cells: Mapping[str, object]) -> tuple[ProjectRow | None, list[Problem]]:
    """One data row (field key -> cell) as a ProjectRow, or every problem it has."""
    problems: list[Problem] = []
    texts = {key: _cell_text(value) for key, value in cells.items()}  # each cell cleaned once

    def _text(_: object, key: str) -> str:
        return texts.get(key, "")

    def problem(column: str, message: str, **params: object) -> None:
        problems.append(Problem(line, column, message, params))

    def limited(key: str, limit: int) -> str:
        text = _text(cells, key)
        if len(text) > limit:
            problem(key, N_("Use at most %(count)s characters."), count=limit)
        return text

    for key in REQUIRED:
        if not _text(cells, key):
            problem(key, N_("This column is required."))
    external_id = limited("external_id", EXTERNAL_ID_MAX)
    title_vi, title_en = limited("title_vi", TITLE_MAX), limited("title_en", TITLE_MAX)
    abstract_vi = limited("abstract_vi", ABSTRACT_MAX)
    abstract_en = limited("abstract_en", ABSTRACT_MAX)
    organisation = limited("organisation", TITLE_MAX)
    tax_number = _text(cells, "tax_number").replace(" ", "").replace("-", "")
    if tax_number and not is_valid_tax_number(tax_number):
        problem("tax_number", N_("A tax number has 10 or 13 digits."))
    kind_text = _text(cells, "organisation_kind")
    kind = guess_kind(organisation)
    if kind_text:
        if kind_text in set(OrganisationKind):
            kind = OrganisationKind(kind_text)
        else:
            problem(
                "organisation_kind",
                N_("Unknown organisation kind; use one of: %(kinds)s."),
                kinds=", ".join(OrganisationKind),
            )
    amount = starts_on = ends_on = None
    if _text(cells, "amount_vnd"):
        try:
            amount = parse_amount(cells["amount_vnd"])
        except InvalidInput as error:
            problem("amount_vnd", error.message, **error.params)
    dates: dict[str, dt.date] = {}
    for key in ("starts_on", "ends_on"):
        if _text(cells, key):
            try:
                dates[key] = parse_date(cells[key], field=key)
            except InvalidInput as error:
                problem(key, error.message, **error.params)
    starts_on, ends_on = dates.get("starts_on"), dates.get("ends_on")
    if starts_on and ends_on and ends_on < starts_on:
        problem("ends_on", N_("The end date is before the start date."))
    province = None
    if province_text := _text(cells, "province"):
        province = current_province(province_text)
        if province is None:
            problem("province", N_("Unknown province: %(value)s."), value=province_text)
    technologies = tuple(
        name
        for name in (clean(part) for part in LIST_SEPARATORS.split(_text(cells, "technologies")))
        if name
    )
    if problems or amount is None or starts_on is None or ends_on is None:
        return None, problems
    return ProjectRow(
        line=line,
        external_id=external_id,
        title_vi=title_vi,
        title_en=title_en or None,
        abstract_vi=abstract_vi or None,
        abstract_en=abstract_en or None,
        fund=_text(cells, "fund") or None,
        organisation=organisation,
        tax_number=tax_number or None,
        organisation_kind=kind,
        amount_vnd=amount,
        starts_on=starts_on,
        ends_on=ends_on,
        province=province,
        technologies=technologies,
    ), []


def name_key(text: str) -> str:
    """Names compared the way people mean them: folded, punctuation and spacing ignored."""
    return header_key(text)


def project_code(fund_code: str, external_id: str) -> str:
    """The catalogue code of an imported project: unique across funds, readable."""
    return f"{fund_code}:{external_id}"
