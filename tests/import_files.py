"""Spreadsheets of historic projects as funds keep them, for the import tests and bench."""

from __future__ import annotations

import csv
import io
import secrets
import string
from collections.abc import Iterable, Sequence

import xlsxwriter

HEADER_EN = (
    "External id", "Title (Vietnamese)", "Title (English)", "Fund code", "Organisation",
    "Organisation tax number", "Amount (VND)", "Start date", "End date", "Province",
    "Technologies", "Notes",
)  # fmt: skip


def token() -> str:
    """A made-up word, so each test's projects are the only ones its searches find."""
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(10))


def rows(word: str, count: int = 3) -> list[list[str]]:
    """`count` good rows whose titles hold `word`; amounts and dates written the ways funds
    write them, provinces by their names before the 2025 merger, technologies by code and
    by name, one organisation known by name and one new (by tax number)."""
    amounts = ("1.500.000.000", "1,500,000,000", "1500000000", "1,5 tỷ", "250 triệu")
    dates = (("15/03/2019", "14/03/2021"), ("2019-06-01", "2021-05-31"), ("1/2/2020", "1/2/2022"))
    provinces = ("Hà Nội", "Quảng Nam", "Tỉnh Bình Dương", "Thừa Thiên Huế", "Nam Định")
    organisations = (
        ("Viện Hàn lâm Khoa học và Công nghệ Việt Nam", ""),
        (f"Công ty Cổ phần Bán dẫn {word.title()}", "04" + str(secrets.randbelow(10**8)).zfill(8)),
    )
    technologies = ("advanced-materials; Chip bán dẫn", "robotics-automation", "")
    out = []
    for i in range(count):
        starts, ends = dates[i % len(dates)]
        name, tax = organisations[i % 2]
        out.append([
            f"{word}-{i}", f"Nghiên cứu vật liệu {word} số {i}", f"Research {word} {i}", "nafosted",
            name, tax, amounts[i % len(amounts)], starts, ends, provinces[i % len(provinces)],
            technologies[i % len(technologies)], "ghi chú",
        ])  # fmt: skip
    return out


def as_csv(body: Iterable[Sequence[str]], header: Sequence[str] = HEADER_EN) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(body)
    return ("\ufeff" + out.getvalue()).encode()


def as_xlsx(body: Iterable[Sequence[str]], header: Sequence[str] = HEADER_EN) -> bytes:
    """A workbook as a spreadsheet program saves it: amounts that are plain digits as numbers."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "constant_memory": True})
    sheet = book.add_worksheet("Dự án")
    sheet.write_row(0, 0, header)
    for r, row in enumerate(body, start=1):
        for c, value in enumerate(row):
            if c == 6 and value.isdigit():
                sheet.write_number(r, c, int(value))
            else:
                sheet.write_string(r, c, value)
    book.close()
    return out.getvalue()
