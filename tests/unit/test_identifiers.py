import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.domain.identifiers import (
    is_valid_orcid,
    is_valid_ror,
    is_valid_tax_number,
    orcid_check_digit,
)

pytestmark = pytest.mark.unit
CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def _ror_with_checksum(body: str) -> str:
    number = 0
    for char in "0" + body:
        number = number * 32 + CROCKFORD.index(char)
    return f"0{body}{98 - (number * 100 % 97):02d}"


@pytest.mark.parametrize("ror", ["https://ror.org/05dxps055", "02mhbdp94", "03yrm5c26"])
def test_published_ror_ids_are_valid(ror):
    assert is_valid_ror(ror)


@given(st.text(alphabet=CROCKFORD, min_size=6, max_size=6))
def test_any_ror_with_correct_check_digits_is_valid(body):
    assert is_valid_ror(_ror_with_checksum(body))


@given(st.text(alphabet=CROCKFORD, min_size=6, max_size=6), st.integers(0, 99))
def test_a_wrong_check_number_is_refused(body, check):
    valid = _ror_with_checksum(body)
    candidate = f"{valid[:7]}{check:02d}"
    assert is_valid_ror(candidate) == (candidate == valid)


def test_ror_shapes_that_cannot_be_ids_are_refused():
    assert not is_valid_ror("15dxps055")  # must start with 0
    assert not is_valid_ror("05dxpi055")  # i is not Crockford base 32
    assert not is_valid_ror("05dxps05")


@pytest.mark.parametrize(
    "orcid",
    [
        "0000-0002-1825-0097",
        "0000-0001-5109-3700",
        "0000-0002-1694-233X",
        "https://orcid.org/0000-0002-1825-0097",
    ],
)
def test_published_orcid_ids_are_valid(orcid):
    assert is_valid_orcid(orcid)


@given(st.text(alphabet="0123456789", min_size=15, max_size=15))
def test_orcid_check_digit_catches_any_single_digit_change(digits):
    check = orcid_check_digit(digits)
    changed = str((int(digits[7]) + 1) % 10)
    altered = digits[:7] + changed + digits[8:]
    assert orcid_check_digit(altered) != check


def test_tax_numbers_have_10_or_13_digits():
    assert is_valid_tax_number("0101234567")
    assert is_valid_tax_number("0101234567-001")
    assert not is_valid_tax_number("01012345")
    assert not is_valid_tax_number("01012345ab")
