"""Identifiers with check digits: ROR (organisations), ORCID (people), VN-TIN (tax numbers)."""

from __future__ import annotations

import re

_ROR = re.compile(r"^0[0-9a-hj-km-np-tv-z]{6}[0-9]{2}$")
_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
_ORCID = re.compile(r"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$")
_TAX_NUMBER = re.compile(r"^\d{10}(-?\d{3})?$")


def normalise_ror(value: str) -> str:
    """`https://ror.org/05dxps055` or `05dxps055` -> `05dxps055`, lower case."""
    text = value.strip().lower()
    for prefix in ("https://ror.org/", "http://ror.org/", "ror.org/"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return text


def is_valid_ror(value: str) -> bool:
    """ROR ids: `0`, six Crockford base-32 characters, two ISO 7064 mod 97-10 check digits."""
    ror = normalise_ror(value)
    if not _ROR.match(ror):
        return False
    number = 0
    for char in ror[:7]:
        number = number * 32 + _CROCKFORD.index(char)
    return 98 - (number * 100 % 97) == int(ror[7:])


def orcid_check_digit(base_digits: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 15 digits of an ORCID iD."""
    total = 0
    for digit in base_digits:
        total = (total + int(digit)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def is_valid_orcid(value: str) -> bool:
    text = value.strip().upper().removeprefix("HTTPS://ORCID.ORG/")
    if not _ORCID.match(text):
        return False
    digits = text.replace("-", "")
    return orcid_check_digit(digits[:15]) == digits[15]


def is_valid_tax_number(value: str) -> bool:
    """Vietnamese tax number (org-id.guide `VN-TIN`): 10 digits, or 13 for a branch."""
    return bool(_TAX_NUMBER.match(value.strip()))
