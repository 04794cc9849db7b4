"""How numbers, money, dates and codes look in the language being spoken (Jinja filters and
globals for pages and documents alike).

Outside the layers, like i18n.py: the web layer and the documents layer both use it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from registry.domain import accounts, calls, proposals, reviews
from registry.domain.clock import VIETNAM
from registry.domain.money import format_vnd, format_vnd_compact, group_thousands
from registry.i18n import N_, current_language, gettext_


def vnd(amount: int | None) -> str:
    return "" if amount is None else format_vnd(amount, current_language())


def vnd_compact(amount: int | None) -> str:
    return "" if amount is None else format_vnd_compact(amount, current_language())


def number(value: int | None) -> str:
    if value is None:
        return ""
    return group_thousands(value, "." if current_language() == "vi" else ",")


def date(value: dt.date | dt.datetime | None) -> str:
    """`05/03/2026` in Vietnamese (explicit zero-padded pattern), `5 Mar 2026` in English."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.astimezone(VIETNAM).date()
    if current_language() == "vi":
        return value.strftime("%d/%m/%Y")
    return f"{value.day} {value.strftime('%b %Y')}"


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
