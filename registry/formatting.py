"""How numbers, money, dates and codes look in the language being spoken (Jinja filters and
globals for pages and documents alike).

Outside the layers, like i18n.py: the web layer and the documents layer both use it.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

from babel import Locale
from babel.numbers import NumberPattern, parse_pattern

from registry.domain import accounts, calls, proposals, reviews
from registry.domain.clock import VIETNAM
from registry.domain.money import format_vnd
from registry.i18n import N_, current_language, gettext_

#: Large amounts in charts: (size, Vietnamese unit, English unit), largest first.
COMPACT_UNITS = (
    (10**12, "nghìn tỷ", "tn"),
    (10**9, "tỷ", "bn"),
    (10**6, "triệu", "m"),
)


@functools.cache
def _number_format(language: str, places: int) -> tuple[Locale, NumberPattern]:
    """The locale and pattern `decimal` formats with, parsed once: Babel's format_decimal
    parses both on every call (about 90 µs, and a search page shows 40 figures)."""
    pattern = "#,##0." + "#" * places if places else "#,##0"
    return Locale.parse(language), parse_pattern(pattern)


def decimal(value: int | Decimal, places: int = 0) -> str:
    """A number as the reader's language writes it (CLDR data, through Babel): thousands
    grouped, a decimal comma in Vietnamese and a point in English, rounded half up to at
    most `places` decimals, trailing zeros dropped. The one rule every figure follows."""
    language = current_language()
    if isinstance(value, int):  # counts, years, amounts: grouped, nothing to round
        return f"{value:,}".replace(",", _group_symbol(language))
    rounded = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    locale, pattern = _number_format(language, places)
    return pattern.apply(rounded, locale, decimal_quantization=False)


@functools.cache
def _group_symbol(language: str) -> str:
    """The thousands separator of `language`, whose numbers group by three (vi and en, as
    CLDR has them; tests/unit/test_formatting.py holds integers to Babel's own output)."""
    locale, pattern = _number_format(language, 0)
    assert pattern.grouping == (3, 3), f"{language} groups numbers otherwise"
    return str(locale.number_symbols["latn"]["group"])


def vnd(amount: int | None) -> str:
    """`1.234.567 ₫` / `VND 1,234,567`: the domain's rule, which agrees with `decimal`
    (tests/unit/test_formatting.py checks it)."""
    return "" if amount is None else format_vnd(amount, current_language())


def vnd_compact(amount: int | None) -> str:
    """Short form for charts, rounded (not cut) to one decimal: `13,2 tỷ ₫` / `VND 13.2 bn`."""
    if amount is None:
        return ""
    vietnamese = current_language() == "vi"
    for size, vi_unit, en_unit in COMPACT_UNITS:
        value = Decimal(amount) / size
        # 0.95 and up rounds to 1 of this unit (`1 bn`, never `1,000 m`).
        if abs(value) >= Decimal("0.95") and abs(amount) >= COMPACT_UNITS[-1][0]:
            figure = decimal(value, places=1)
            return f"{figure} {vi_unit} ₫" if vietnamese else f"VND {figure} {en_unit}"
    return vnd(amount)


def number(value: int | None) -> str:
    return "" if value is None else decimal(value)


def percent(permille: int | None) -> str:
    """A share kept in thousandths: `12,5%` / `12.5%`."""
    return "" if permille is None else f"{decimal(Decimal(permille) / 10, places=1)}%"


def mark(tenths: int | None) -> str:
    """A mark kept in tenths, for reading (form values keep domain.scoring.format_mark)."""
    return "" if tenths is None else decimal(Decimal(tenths) / 10, places=1)


def weight(thousandths: int | None) -> str:
    """A ranking weight kept in thousandths, for reading."""
    return "" if thousandths is None else decimal(Decimal(thousandths) / 1000, places=3)


#: English month abbreviations, as strftime's %b writes them in the C locale.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def date(value: dt.date | dt.datetime | None) -> str:
    """`05/03/2026` in Vietnamese (explicit zero-padded pattern), `5 Mar 2026` in English."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.astimezone(VIETNAM).date()
    # Formatted by hand: strftime costs three times as much, and a results page dates 20 hits.
    if current_language() == "vi":
        return f"{value.day:02}/{value.month:02}/{value.year}"
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def started(value: dt.date | None) -> str:
    """`từ 05/03/2026` / `from 5 Mar 2026`: when a project starts, as a results page says it
    beside every hit."""
    return "" if value is None else gettext_("from %(date)s") % {"date": date(value)}


def localized(text: object) -> str:
    """A Localized value in the current language (Vietnamese when no English was written)."""
    if text is None:
        return ""
    getter = getattr(text, "get", None)
    return getter(current_language()) if getter else str(text)


def local_datetime(value: dt.datetime | None) -> str:
    """A moment in Vietnam time, with the zone named: `05/03/2026 14:30 (GMT+7)`."""
    if value is None:
        return ""
    local = value.astimezone(VIETNAM)
    return f"{date(local)} {local:%H:%M} (GMT+7)"


def _names(msgids: dict[str, str]) -> Callable[[str], str]:
    """A function naming each code (an enum value) in the reader's language."""

    def name(code: str) -> str:
        return gettext_(msgids[str(code)])

    return name


role_name = _names(
    {
        "applicant": N_("Applicant"),
        "reviewer": N_("Expert reviewer"),
        "fund_manager": N_("Fund manager"),
        "admin": N_("Administrator"),
    }
)
attachment_kind_name = _names(
    {
        "description": N_("Project description"),
        "cvs": N_("CVs of the team"),
        "budget_justification": N_("Budget justification"),
        "endorsement": N_("Endorsement of the host organisation"),
        "other": N_("Other document"),
    }
)
proposal_status_name = _names(
    {"draft": N_("Draft"), "submitted": N_("Submitted"), "withdrawn": N_("Withdrawn")}
)
budget_category_name = _names(
    {
        "personnel": N_("Personnel"),
        "equipment": N_("Equipment"),
        "materials": N_("Materials and supplies"),
        "travel": N_("Travel and conferences"),
        "subcontracting": N_("Subcontracting"),
        "other": N_("Other costs"),
    }
)

#: A proposal's parts as the editor labels them (Draft.changes_from's names, and "files").
draft_field_name = _names(
    {
        "title_vi": N_("Title (Vietnamese)"),
        "title_en": N_("Title (English)"),
        "abstract_vi": N_("Abstract (Vietnamese)"),
        "abstract_en": N_("Abstract (English)"),
        "technologies": N_("Strategic technologies"),
        "pi_name": N_("Principal investigator"),
        "pi_orcid": N_("ORCID iD of the principal investigator (optional)"),
        "team": N_("Team"),
        "budget": N_("Budget"),
        "duration_months": N_("Duration (months)"),
        "milestones": N_("Milestones"),
        "files": N_("Documents (PDF)"),
    }
)


#: The columns of the editor's rows (team-N-*, budget-<category>-*, milestone-N-*), as its
#: tables head them and label their inputs.
row_column_name = _names(
    {
        "name": N_("Member"),
        "orcid": N_("ORCID iD (optional)"),
        "role": N_("Role in the project"),
        "requested": N_("Requested from the fund"),
        "own": N_("Own funds"),
        "month": N_("Month"),
        "text": N_("Milestone"),
    }
)
_ROW_SECTIONS = {"team": N_("Team"), "milestone": N_("Milestones"), "budget": N_("Budget (đồng)")}


def form_field_name(field: str) -> str:
    """A proposal form's field as the editor labels it: `title_vi` -> "Title (Vietnamese)",
    `team-1-role` -> "Team, row 2: Role in the project", `budget-travel-own` -> "Budget
    (đồng), Travel and conferences: Own funds". A name it does not know is shown as it is."""
    section, _, rest = field.partition("-")
    row, _, column = rest.rpartition("-")
    try:
        if section not in _ROW_SECTIONS:
            return draft_field_name(field)
        if section == "budget":
            row_name = budget_category_name(row)
        else:
            row_name = gettext_("row %(n)s") % {"n": int(row) + 1}
        return gettext_("%(section)s, %(row)s: %(column)s") % {
            "section": gettext_(_ROW_SECTIONS[section]),
            "row": row_name,
            "column": row_column_name(column),
        }
    except (KeyError, ValueError):
        return field


#: The text limits the form readers enforce (from the domain), for the forms' maxlength.
LIMITS = {
    "call_title": calls.TITLE_MAX,
    "call_description": calls.DESCRIPTION_MAX,
    "criterion_name": calls.NAME_MAX,
    "criterion_guidance": calls.GUIDANCE_MAX,
    "proposal_title": proposals.TITLE_MAX,
    "proposal_abstract": proposals.ABSTRACT_MAX,
    "person_name": proposals.NAME_MAX,
    "milestone": proposals.MILESTONE_MAX,
    "display_name": accounts.NAME_MAX,
    "password": accounts.PASSWORD_MAX,
    "review_comment": reviews.COMMENT_MAX,
    "review_overall": reviews.OVERALL_MAX,
    "review_note": reviews.NOTE_MAX,
    "keywords": reviews.KEYWORDS_MAX,
}
