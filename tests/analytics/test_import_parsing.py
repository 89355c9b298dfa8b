"""The pure parts of imports: amounts, times, encodings, headers (no database)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from siyu.analytics.importer import parsing
from siyu.analytics.importer.formats import FileProblem, Reader, column_for, detect_encoding

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("text", "exponent", "minor"),
    [
        ("128.5", 2, 12850),
        ("128.50", 2, 12850),
        ("0.01", 2, 1),
        ("12.500", 2, 1250),  # trailing zeros are exact
        ("1,280.00", 2, 128000),
        ("¥99.90", 2, 9990),
        ("99.9元", 2, 9990),
        ("1200", 0, 1200),
        ("1200.0", 0, 1200),
        ("12.345", 3, 12345),
        ("0.001", 3, 1),
        ("１２.５", 2, 1250),  # full-width digits
    ],
)
def test_amounts_in_minor_units(text, exponent, minor):
    assert parsing.amount(text, exponent) == minor


@pytest.mark.parametrize(
    ("text", "exponent"),
    [
        ("12.345", 2),
        ("1200.5", 0),
        ("1.2345", 3),
        ("-3", 2),
        ("+3", 2),
        ("30,5", 2),
        ("1e3", 2),
        ("NaN", 2),
        ("abc", 2),
        ("", 2),
        ("1" * 20, 2),
    ],
)
def test_bad_amounts(text, exponent):
    with pytest.raises(parsing.Bad):
        parsing.amount(text, exponent)


def test_currency_exponents():
    assert [parsing.minor_units(c) for c in ("CNY", "usd", "JPY", "KRW", "KWD", "BHD")] == [
        2,
        2,
        0,
        0,
        3,
        3,
    ]
    with pytest.raises(parsing.Bad):
        parsing.minor_units("XYZ")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-01 09:30:00", datetime(2025, 3, 1, 1, 30, tzinfo=UTC)),
        ("2025/03/01 09:30:00", datetime(2025, 3, 1, 1, 30, tzinfo=UTC)),
        ("2025-03-01 09:30", datetime(2025, 3, 1, 1, 30, tzinfo=UTC)),
        ("2025-03-01T09:30:00+09:00", datetime(2025, 3, 1, 0, 30, tzinfo=UTC)),
        ("2025-03-01T01:30:00Z", datetime(2025, 3, 1, 1, 30, tzinfo=UTC)),
        ("2025-03-01", datetime(2025, 2, 28, 16, 0, tzinfo=UTC)),
        ("2025/3/1", None),
    ],
)
def test_times(text, expected):
    if expected is None:
        with pytest.raises(parsing.Bad):
            parsing.timestamp(text, SHANGHAI)
    else:
        assert parsing.timestamp(text, SHANGHAI) == expected


@pytest.mark.parametrize("text", ["yesterday", "2025-02-30 10:00:00", "1989-12-31 23:00:00", ""])
def test_bad_times(text):
    with pytest.raises(parsing.Bad):
        parsing.timestamp(text, SHANGHAI)


def test_encodings_detected_past_a_long_ascii_start():
    ascii_rows = b"".join(b"A%d,C,2025-01-01,1\n" % n for n in range(200_000))  # > 1 MB
    gb = ascii_rows + "订单,会员,2025-01-01,1\n".encode("gb18030")
    assert detect_encoding(io.BytesIO(gb)) == "gb18030"
    utf = ascii_rows + "订单,会员,2025-01-01,1\n".encode()
    assert detect_encoding(io.BytesIO(utf)) == "utf-8-sig"
    assert detect_encoding(io.BytesIO(b"\xef\xbb\xbforder_id\n")) == "utf-8-sig"


def test_headers_in_english_and_chinese_any_case():
    assert column_for("orders", " Order ID ") == "order_id"
    assert column_for("orders", "\ufeff订单号") == "order_id"
    assert column_for("orders", "实付金额") == "amount"
    assert column_for("memberships", "入群时间") == "joined_at"
    assert column_for("orders", "notes") is None


def test_a_bom_header_and_row_numbers_as_a_spreadsheet_shows_them():
    content = '\ufefforder_id;customer_id;placed_at;amount\n"A\n1";C;2025-01-01;1\n\nB;C;x;2\n'
    reader = Reader(io.BytesIO(content.encode()), "orders", "csv")
    rows = list(reader)
    assert [(r.number, r.values["order_id"]) for r in rows] == [(2, "A\n1"), (4, "B")]
    assert reader.bytes_read == len(content.encode())


def test_a_header_without_required_columns():
    with pytest.raises(FileProblem):
        Reader(io.BytesIO(b"order_id,amount\n1,2\n"), "orders", "csv")
    with pytest.raises(FileProblem):
        Reader(io.BytesIO(b""), "orders", "csv")
