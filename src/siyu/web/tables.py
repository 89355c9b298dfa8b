"""Tables people take away: the same rows as CSV or XLSX (web layer).

Every analytics table and chart offers both downloads. A ``Table`` is plain data (a title,
column headings and rows of str / int / float / date / None), built by a selector or a view;
:func:`download` answers it in the asked format. CSV is UTF-8 with a byte-order mark, so Excel
on Windows opens Chinese headings correctly; XLSX is written with openpyxl's write-only
workbook (constant memory), numbers stay numbers and dates stay dates.

Money columns are given in yuan (``Decimal`` from fen) by the caller when a person will read
them; the API keeps fen.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django.http import HttpResponse

CSV = "csv"
XLSX = "xlsx"
FORMATS = (CSV, XLSX)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Excel refuses a sheet title longer than 31 characters or with any of these.
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
# A cell starting with one of these is a formula in a spreadsheet: customer-typed text (names,
# notes) must not become one (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | Decimal | date | datetime | None


@dataclass(frozen=True)
class Table:
    title: str
    headings: Sequence[str]
    rows: Iterable[Sequence[Cell]] = field(default_factory=list)


def fen_to_yuan(fen: int | None) -> Decimal | None:
    """Fen as yuan with two decimals (exact), for a spreadsheet."""
    return None if fen is None else (Decimal(fen) / 100).quantize(Decimal("0.01"))


def _text_safe(value: Cell) -> Cell:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(_text_safe(value))


def as_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_csv_cell(h) for h in table.headings])
    for row in table.rows:
        writer.writerow([_csv_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def sheet_title(title: str) -> str:
    cleaned = _SHEET_FORBIDDEN.sub(" ", title).strip() or "Sheet"
    return cleaned[:31]


def as_xlsx(table: Table) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_title(table.title))
    sheet.append([str(h) for h in table.headings])
    for row in table.rows:
        cells: list[Any] = []
        for value in row:
            if isinstance(value, datetime) and value.tzinfo is not None:
                value = value.replace(tzinfo=None)  # Excel has no time zones: local time given
            cells.append(_text_safe(value))
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def slug(title: str) -> str:
    """A file name from a title: letters, digits and dashes (Chinese letters kept)."""
    cleaned = re.sub(r"[^\w]+", "-", title, flags=re.UNICODE).strip("-").lower()
    return cleaned[:60] or "table"


def download(table: Table, fmt: str, *, filename: str | None = None) -> HttpResponse:
    """The table as an attachment; ``fmt`` is ``csv`` or ``xlsx`` (anything else: ValueError,
    which views answer with 400 naming ``format``)."""
    if fmt not in FORMATS:
        raise ValueError(fmt)
    name = f"{filename or slug(table.title)}.{fmt}"
    if fmt == CSV:
        response = HttpResponse(as_csv(table), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(as_xlsx(table), content_type=XLSX_TYPE)
    ascii_name = name.encode("ascii", "ignore").decode().strip("-")
    if ascii_name.startswith("."):
        ascii_name = f"table{ascii_name}"

    response["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    )
    response["Cache-Control"] = "no-store"
    return response
