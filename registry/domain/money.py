"""Money is an integer number of đồng (VND has no minor unit). No floats anywhere."""

from __future__ import annotations

import re

from registry.domain.errors import InvalidInput
from registry.domain.text import whole_number


def group_thousands(amount: int, separator: str) -> str:
    digits = f"{abs(amount):,}".replace(",", separator)
    return f"-{digits}" if amount < 0 else digits


def format_vnd(amount: int, language: str) -> str:
    """`1.234.567 ₫` in Vietnamese, `VND 1,234,567` in English."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError("amounts are whole đồng (int)")
    if language == "vi":
        return f"{group_thousands(amount, '.')} ₫"
    return f"VND {group_thousands(amount, ',')}"


#: Far above any real grant (a million billion đồng) and far below bigint's range.
AMOUNT_MAX = 10**15


_GROUPED = re.compile(r"^\d{1,3}([ .,\u00a0\u202f]\d{3})+$")


def parse_vnd(value: str, *, field: str) -> int:
    """Whole đồng as people type them: 1500000, 1.500.000 or 1 500 000. Commas and dots are
    thousands separators only (đồng have no fractions), so every group after one has 3 digits."""
    text = value.strip()
    if not text:
        return 0
    if text.isascii() and text.isdigit():
        digits = text
    elif _GROUPED.match(text):
        digits = re.sub(r"\D", "", text)
    else:
        raise InvalidInput("Enter a whole amount in đồng, such as 1.500.000.", field=field)
    amount = whole_number(digits, low=0, high=AMOUNT_MAX)
    if amount is None:
        raise InvalidInput("This amount is too large.", field=field)
    return amount
