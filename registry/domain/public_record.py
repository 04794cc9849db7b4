"""Rules of the public record: a funded project's dates, and the identifiers open data uses.

Pure: the services give the dates and codes, this module only computes with them.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

#: org-id.guide's scheme for Vietnamese tax numbers (Mã số thuế): 10 digits, 13 for a branch.
TAX_SCHEME = "VN-TIN"
_TAX_NUMBER = re.compile(r"^\d{10}(\d{3})?$")
#: 360Giving asks for titles under 140 characters.
TITLE_LIMIT = 140


def add_months(start: dt.date, months: int) -> dt.date:
    """`start` moved `months` calendar months on, clamped to the month's last day
    (31 January + 1 month = 28 or 29 February)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def ends_on(starts_on: dt.date, duration_months: int | None) -> dt.date:
    """The last day of a project of `duration_months` months starting on `starts_on` (12
    months when the proposal gave none): the day before the same date `duration_months` on."""
    return add_months(starts_on, duration_months or 12) - dt.timedelta(days=1)


def organisation_id(prefix: str, code: str, tax_number: str | None) -> str:
    """An organisation's identifier in open data: its org-id.guide VN-TIN code when a valid tax
    number is known, else an id scoped to this registry's 360Giving prefix (what the standard
    asks of publishers when no register identifies the organisation)."""
    if tax_number and _TAX_NUMBER.match(tax_number):
        return f"{TAX_SCHEME}-{tax_number}"
    return f"{prefix}-org-{code}"


def grant_id(prefix: str, project_code: str) -> str:
    """A grant's identifier: the publisher's 360Giving prefix and the project's code."""
    return f"{prefix}-{project_code}"


def short_title(title: str) -> str:
    """A title of fewer than 140 characters, cut at a word with an ellipsis when longer."""
    if len(title) < TITLE_LIMIT:
        return title
    head = title[: TITLE_LIMIT - 2]
    cut = head.rsplit(" ", 1)[0] if " " in head.strip() else head
    return cut.rstrip(" ,;:-") + "…"
