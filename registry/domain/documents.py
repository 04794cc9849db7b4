"""Issued decision documents: their kinds, how their numbers are printed, and verification
codes (10 Crockford base32 characters: no I, L, O or U, so a code read aloud or typed from
paper is unambiguous; 50 bits, so guessing one among a million issued takes ~10^9 tries).
"""

from __future__ import annotations

from enum import StrEnum

from registry.domain.reviews import OutcomeKind

CODE_LENGTH = 10
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: Letters people confuse, read as the digit they look like (Crockford's decoding rule).
_LOOKALIKES = {"O": "0", "I": "1", "L": "1"}


class DocumentKind(StrEnum):
    """What an issued document is: the call's decision approving its list, a funded
    project's decision, or the notice to a proposal on the reserve list or rejected."""

    CALL_DECISION = "call_decision"
    FUNDING = "funding"
    RESERVE = "reserve"
    REJECTION = "rejection"

    @property
    def type_code(self) -> str:
        """The document type's abbreviation in the number line (Decree 30, appendix III):
        decisions are QĐ, notices TB (Thông báo)."""
        return "QĐ" if self in (DocumentKind.CALL_DECISION, DocumentKind.FUNDING) else "TB"

    @property
    def heading(self) -> str:
        return "QUYẾT ĐỊNH" if self.type_code == "QĐ" else "THÔNG BÁO"


#: The document a proposal's approved outcome gets.
KIND_OF_OUTCOME = {
    OutcomeKind.FUNDED: DocumentKind.FUNDING,
    OutcomeKind.RESERVE: DocumentKind.RESERVE,
    OutcomeKind.REJECTED: DocumentKind.REJECTION,
}


def code_from_bytes(random: bytes) -> str:
    """A verification code from at least 7 random bytes (the caller brings the randomness)."""
    if len(random) < 7:
        raise ValueError("a code needs 50 random bits")
    value = int.from_bytes(random[:7], "big") >> 6  # 56 bits -> 50
    return "".join(CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(CODE_LENGTH)))


def normalise_code(typed: str) -> str | None:
    """The code someone typed (any case, spaces or hyphens, O for 0, I or L for 1), or None
    when it cannot be a code."""
    cleaned = "".join(c for c in typed.upper() if c not in " -")
    cleaned = "".join(_LOOKALIKES.get(c, c) for c in cleaned)
    if len(cleaned) != CODE_LENGTH or any(c not in CROCKFORD for c in cleaned):
        return None
    return cleaned


def issuer_abbreviation(short_name: str | None, code: str) -> str:
    """The issuer's abbreviation in a number: its short name without spaces, else its code,
    upper case (Decree 30 writes it in capitals)."""
    base = (short_name or "").strip() or code
    return "".join(base.split()).upper()
