"""Vietnamese as formal documents write it: amounts in words, the amount line, the place and
date line and the number line of Decree 30/2020 (domain.md §4 and §6).

Amounts in words follow one convention, the northern one that Hà Nội's documents use:

- groups of three digits, named nghìn (10^3), triệu (10^6), tỷ (10^9); above a tỷ the names
  repeat before "tỷ" (10^12 is "một nghìn tỷ", 10^15 "một triệu tỷ");
- "mười" for 10-19, "mươi" for the tens 20-90;
- "linh" (not "lẻ") for a zero tens digit before a units digit: "một trăm linh năm";
- "mốt" for a units 1 after tens 2-9 ("hai mươi mốt"), "một" otherwise ("mười một");
- "lăm" for a units 5 after any tens ("mười lăm", "hai mươi lăm"), "năm" otherwise;
- "bốn" always (never "tư"), "bảy" and "tỷ" spelt with y;
- a group after a higher one is read whole: "không trăm" for a zero hundreds digit ("một tỷ
  không trăm linh năm triệu"); groups that are all zeros are left out;
- the first letter is a capital, and words end with "đồng".
"""

from __future__ import annotations

from datetime import date

from registry.domain.money import AMOUNT_MAX, group_thousands

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
#: Names of the groups below a tỷ, from the units group up.
GROUPS = ("", "nghìn", "triệu")
TY = 10**9


def _group(value: int, *, whole: bool) -> list[str]:
    """Words of 0 < value < 1000. `whole`: a higher group came before, so a zero hundreds
    digit is read ("không trăm") and a lone units digit takes "linh"."""
    hundreds, rest = divmod(value, 100)
    tens, units = divmod(rest, 10)
    words: list[str] = []
    if hundreds or whole:
        words += [DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units:
            if words:
                words.append("linh")
            words.append(DIGITS[units])
        return words
    words += ["mười"] if tens == 1 else [DIGITS[tens], "mươi"]
    if units == 1:
        words.append("một" if tens == 1 else "mốt")
    elif units == 5:
        words.append("lăm")
    elif units:
        words.append(DIGITS[units])
    return words


def _below_ty(value: int, *, whole: bool) -> list[str]:
    """Words of 0 < value < 10^9."""
    words: list[str] = []
    for power in (2, 1, 0):
        group = value // 1000**power % 1000
        if group:
            words += _group(group, whole=whole or bool(words))
            if GROUPS[power]:
                words.append(GROUPS[power])
    return words


def _number(value: int, *, whole: bool = False) -> list[str]:
    """Words of 0 < value; the part above a tỷ is itself a number followed by "tỷ"."""
    high, low = divmod(value, TY)
    words: list[str] = []
    if high:
        words += [*_number(high, whole=whole), "tỷ"]
    if low:
        words += _below_ty(low, whole=whole or bool(words))
    return words


def number_in_words(value: int) -> str:
    """`1500000000` -> `một tỷ năm trăm triệu` (lower case, no unit)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("a whole number")
    if not 0 <= value <= AMOUNT_MAX:
        raise ValueError(f"between 0 and {AMOUNT_MAX}")
    return " ".join(_number(value)) if value else DIGITS[0]


def amount_in_words(amount: int) -> str:
    """`1500000000` -> `Một tỷ năm trăm triệu đồng`."""
    words = number_in_words(amount) + " đồng"
    return words[0].upper() + words[1:]


def formal_amount(amount: int) -> str:
    """`1.500.000.000 đồng (Một tỷ năm trăm triệu đồng)`, as decisions write an amount."""
    return f"{group_thousands(amount, '.')} đồng ({amount_in_words(amount)})"


def place_and_date(place: str, day: date) -> str:
    """`Hà Nội, ngày 05 tháng 3 năm 2026`: days 1-9 and months 1-2 take a leading zero
    (Decree 30 does so that nothing can be written in front of them)."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"


def number_line(number: int, kind: str, issuer_code: str) -> str:
    """`Số: 07/QĐ-QPTKHCN`: the number (a leading zero below 10), the document type's
    abbreviation and the issuing body's."""
    if number < 1:
        raise ValueError("numbers start at 1")
    return f"Số: {number:02d}/{kind}-{issuer_code}"
