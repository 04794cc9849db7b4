"""The application's clock (see `domain.clock` for the rule it serves).

`now()` reads the system clock in production; tests swap in a `MovingClock` with `using()`.
The web layer stamps each request's arrival with `now()`, services judge deadlines at that
stamp (`Origin.at`), and jobs and the CLI read `now()` when they start an action.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from registry.domain.accounts import Origin
from registry.domain.clock import Clock


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


_clock: Clock = SystemClock()


def now() -> datetime:
    return _clock.now()


@contextmanager
def using(clock: Clock) -> Iterator[Clock]:
    """Read `clock` instead of the system clock until the block ends (tests)."""
    global _clock
    previous, _clock = _clock, clock
    try:
        yield clock
    finally:
        _clock = previous


def arrival(origin: Origin) -> datetime:
    """The instant that judges an action: when its request arrived, else now."""
    return origin.at or now()
