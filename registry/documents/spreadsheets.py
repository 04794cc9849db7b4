"""Tables as files people open in a spreadsheet: CSV (UTF-8 with a byte-order mark, so Excel
reads Vietnamese correctly) and XLSX (XlsxWriter), one sheet per table.

Text that a spreadsheet would take for a formula (=, +, -, @ and control characters at the
start) is written as text: in CSV with a leading apostrophe (OWASP's advice against formula
injection), in XLSX as a string cell, which is never evaluated.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

import xlsxwriter

Cell = str | int | None
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class Sheet:
    name: str  # at most 31 characters (an XLSX limit)
    header: tuple[str, ...]
    rows: Sequence[tuple[Cell, ...]]


def _csv_cell(value: Cell) -> str | int:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(sheet: Sheet) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(sheet.header)
    writer.writerows([_csv_cell(v) for v in row] for row in sheet.rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(sheets: Sequence[Sheet]) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False})
    bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    for sheet in sheets:
        page = book.add_worksheet(sheet.name[:31])
        page.freeze_panes(1, 0)
        for col, title in enumerate(sheet.header):
            page.write_string(0, col, title, bold)
        for r, row in enumerate(sheet.rows, start=1):
            for col, value in enumerate(row):
                if isinstance(value, int):
                    page.write_number(r, col, value)
                elif value is not None:
                    page.write_string(r, col, value)
        if sheet.rows:
            page.autofilter(0, 0, len(sheet.rows), len(sheet.header) - 1)
    book.close()
    return out.getvalue()
