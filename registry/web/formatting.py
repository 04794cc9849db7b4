"""How numbers, money and dates look in each language (used as Jinja filters)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from registry.domain.money import format_vnd, format_vnd_compact, group_thousands
from registry.web.i18n import current_language

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


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
