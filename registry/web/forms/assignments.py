"""The assignment forms' fields: load bounds for automatic assignment, the reviewer chosen."""

from __future__ import annotations

from collections.abc import Mapping

from registry.domain.errors import N_, InvalidInput, Problems
from registry.domain.text import whole_number
from registry.web.forms import chosen_id

#: More proposals than anyone reviews in one call; a bound past it is a typing slip.
MAX_LOAD = 10_000
CHOOSE_REVIEWER = N_("Choose a reviewer of the fund's pool.")


def _load(value: str, field: str) -> int | None:
    text = value.strip()
    if not text:
        return None  # the balanced default
    number = whole_number(text, low=0, high=MAX_LOAD)
    if number is None:
        raise InvalidInput(
            "Give a whole number of proposals from 0 to %(high)s.", field=field, high=MAX_LOAD
        )
    return number


def load_bounds(values: Mapping[str, str]) -> tuple[int | None, int | None]:
    """(min_load, max_load); None where left empty (the balanced bound is used)."""
    problems = Problems()
    low = problems.read(lambda: _load(values.get("min_load", ""), "min_load"))
    high = problems.read(lambda: _load(values.get("max_load", ""), "max_load"))
    problems.raise_any()
    return low, high


def reviewer(values: Mapping[str, str]) -> int:
    chosen = chosen_id(values.get("reviewer", ""), field="reviewer", message=CHOOSE_REVIEWER)
    if chosen is None:
        raise InvalidInput(CHOOSE_REVIEWER, field="reviewer")
    return chosen
