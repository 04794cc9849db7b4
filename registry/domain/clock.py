"""Time: the one clock the application reads, and the rule for which reading judges a deadline.

The rule: a deadline is judged by the application's clock at the instant the request
*arrived* (the web layer stamps each request before it waits for anything, such as a database
connection), never by when a query happens to run. Every action of one request (autosave,
upload, submit, withdraw) is judged at that one instant. Web hosts keep their clocks in sync
(NTP); the database's own clock only stamps rows (`created_at`, `updated_at`) and expires
tokens and sessions.

Code reads the time through a `Clock`, so tests can put it anywhere and move it. Times are
aware datetimes in UTC; people see them in Vietnam time (`VIETNAM`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

#: Asia/Ho_Chi_Minh: how every time is shown and how local times in forms are read.
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def vietnam_time(moment: datetime) -> str:
    """A moment to the second in Vietnam time, as mail states receipts and withdrawals (read
    in either language): `30/11/2026 17:05:03 (GMT+7)`."""
    return f"{moment.astimezone(VIETNAM):%d/%m/%Y %H:%M:%S} (GMT+7)"


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, aware, in UTC."""
        ...


@dataclass
class MovingClock:
    """A clock for tests: it stays where it is put and moves only when told."""

    at: datetime

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("a clock reads aware datetimes")
        self.at = self.at.astimezone(UTC)

    def now(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> datetime:
        self.at += delta
        return self.at
