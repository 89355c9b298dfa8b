"""Tables as CSV and XLSX: headings and rows come back as they went in, numbers stay numbers,
Chinese text survives Excel, formulas typed by customers are defused."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from siyu.web.tables import Table, as_csv, as_xlsx, download, fen_to_yuan, sheet_title, slug

TABLE = Table(
    title="复购率 by store",
    headings=["门店", "orders", "sales (¥)", "day", "when"],
    rows=[
        ["静安店", 12, fen_to_yuan(123456), date(2026, 3, 1), datetime(2026, 3, 1, 9, 30)],
        ['=HYPERLINK("x")', 0, fen_to_yuan(0), None, None],
    ],
)


def test_csv_has_a_bom_and_the_rows() -> None:
    raw = as_csv(TABLE)
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["门店", "orders", "sales (¥)", "day", "when"]
    assert rows[1] == ["静安店", "12", "1234.56", "2026-03-01", "2026-03-01 09:30:00"]
    assert rows[2] == ['\'=HYPERLINK("x")', "0", "0.00", "", ""]


def test_xlsx_keeps_numbers_and_dates() -> None:
    book = load_workbook(io.BytesIO(as_xlsx(TABLE)))
    sheet = book.active
    assert sheet.title == "复购率 by store"
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == ["门店", "orders", "sales (¥)", "day", "when"]
    assert values[1][0:3] == ["静安店", 12, 1234.56]
    assert values[1][3].date() == date(2026, 3, 1)
    assert values[2][0] == '\'=HYPERLINK("x")'


def test_aware_times_are_written_as_local_times() -> None:
    shanghai = datetime(2026, 3, 1, 23, 59, tzinfo=ZoneInfo("Asia/Shanghai"))
    book = load_workbook(io.BytesIO(as_xlsx(Table("t", ["when"], [[shanghai]]))))
    assert book.active["A2"].value == datetime(2026, 3, 1, 23, 59)


def test_titles_and_names() -> None:
    assert sheet_title("a/b:c" + "x" * 40) == ("a b c" + "x" * 40)[:31]
    assert sheet_title("???") == "Sheet"
    assert slug("Cohort retention 2026") == "cohort-retention-2026"
    assert fen_to_yuan(1) == Decimal("0.01")
    assert fen_to_yuan(None) is None


def test_download_answers_both_formats_and_refuses_others() -> None:
    as_sheet = download(TABLE, "xlsx", filename="留存")
    assert as_sheet["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''%E7%95%99%E5%AD%98.xlsx" in as_sheet["Content-Disposition"]
    as_text = download(TABLE, "csv")
    disposition = as_text["Content-Disposition"]
    assert 'filename="by-store.csv"' in disposition
    assert "filename*=UTF-8''%E5%A4%8D%E8%B4%AD%E7%8E%87-by-store.csv" in disposition
    with pytest.raises(ValueError, match="pdf"):
        download(TABLE, "pdf")
