"""Issued documents' pure rules: verification codes and how numbers are printed."""

from hypothesis import given
from hypothesis import strategies as st

from registry.domain.documents import (
    CODE_LENGTH,
    CROCKFORD,
    DocumentKind,
    code_from_bytes,
    issuer_abbreviation,
    normalise_code,
)


@given(st.binary(min_size=7, max_size=16))
def test_every_code_is_ten_unambiguous_characters_read_back_as_itself(random: bytes) -> None:
    code = code_from_bytes(random)
    assert len(code) == CODE_LENGTH
    assert set(code) <= set(CROCKFORD)
    assert normalise_code(code) == code
    assert normalise_code(code.lower()) == code
    assert normalise_code(f"{code[:5]}-{code[5:]}") == code


def test_codes_use_all_fifty_random_bits() -> None:
    assert code_from_bytes(bytes(7)) == "0" * 10
    assert code_from_bytes(b"\xff" * 7) == "Z" * 10


def test_typed_lookalikes_are_read_as_digits() -> None:
    assert normalise_code("O0IL1ABCDE") == "00111ABCDE"
    assert normalise_code("ABCDEFGHJU") is None
    assert normalise_code("ABCDEFGHJ") is None


def test_issuers_abbreviate_as_decree_30_writes_them() -> None:
    assert issuer_abbreviation("Quỹ PTKHCN", "nafosted") == "QUỸPTKHCN"
    assert issuer_abbreviation(None, "nafosted") == "NAFOSTED"


def test_decisions_number_as_qd_and_notices_as_tb() -> None:
    assert [kind.type_code for kind in DocumentKind] == ["QĐ", "QĐ", "TB", "TB"]
    assert DocumentKind.RESERVE.heading == "THÔNG BÁO"
