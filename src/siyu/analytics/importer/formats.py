"""The file formats of ``siyu import``: columns per kind, encodings, streaming readers.

Pure: no database. A reader yields one :class:`SourceRow` at a time (never the whole file in
memory) and says how many bytes of the file it has consumed, for the progress bar.

* CSV: UTF-8 with or without a byte-order mark, or GB18030 (what Excel in China saves).
  The delimiter is the most frequent of ``,`` ``\\t`` ``;`` on the header line. Rows are
  numbered as a spreadsheet shows them: the header is row 1, the first data row 2.
* JSON Lines: one JSON object per line, keys named like the CSV headers; a row's number is
  its line number.

Header names are matched case-insensitively, in English or Chinese; the customer columns
reuse the names the customers app's CSV import already knows
(:data:`siyu.customers.import_csv.COLUMNS`).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from operator import itemgetter
from typing import BinaryIO

from django.utils.translation import gettext as _

from siyu.customers.import_csv import COLUMNS as CUSTOMER_COLUMNS

KINDS = ("customers", "orders", "memberships", "referrals")
FORMATS = ("csv", "jsonl")

_EXTERNAL_CUSTOMER = (
    "customer_id",
    "customer id",
    "external_customer_id",
    "external customer id",
    "customer",
    "member id",
    "member_id",
    "客户id",
    "客户编号",
    "会员id",
    "会员号",
    "会员编号",
)
_TIME_ZH = ("时间", "日期")

# kind → column → the header names that mean it (lower case); the first column names are
# the canonical ones the documentation and JSON Lines use.
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "customers": {
        "external_id": (
            "external_id",
            "external id",
            "customer_id",
            "customer id",
            "外部id",
            "会员号",
            "会员id",
            "会员编号",
            "客户id",
            "客户编号",
        ),
        "phone": CUSTOMER_COLUMNS["phone"],
        "name": CUSTOMER_COLUMNS["name"],
        "created_at": (
            "created_at",
            "created at",
            "created",
            "joined",
            "registered_at",
            "注册时间",
            "创建时间",
            "入会时间",
        ),
        "join_channel": ("join_channel", "join channel", "channel", "来源", "注册渠道", "渠道"),
        "home_store": CUSTOMER_COLUMNS["store"],
        "gender": CUSTOMER_COLUMNS["gender"],
        "city": CUSTOMER_COLUMNS["city"],
    },
    "orders": {
        "order_id": (
            "order_id",
            "order id",
            "external_order_id",
            "external order id",
            "order",
            "order no",
            "order number",
            "订单号",
            "订单id",
            "订单编号",
        ),
        "customer_id": _EXTERNAL_CUSTOMER,
        "placed_at": (
            "placed_at",
            "placed at",
            "time",
            "timestamp",
            "order time",
            "paid_at",
            "paid at",
            "下单时间",
            "支付时间",
            "付款时间",
            "订单时间",
            *_TIME_ZH,
        ),
        "amount": (
            "amount",
            "paid",
            "paid amount",
            "total",
            "金额",
            "实付金额",
            "支付金额",
            "订单金额",
            "实付",
        ),
        "refunded": ("refunded", "refund", "refunded amount", "退款", "退款金额"),
        "store": ("store", "store code", "store_code", "门店", "门店编码", "门店代码"),
        "channel": ("channel", "source", "渠道", "来源"),
        "group": ("group", "group_id", "group id", "社群", "群", "群id", "社群id"),
        "guide": ("guide", "shopping guide", "guide_id", "导购", "导购账号"),
        "distributor": ("distributor", "distributor_id", "distributor id", "分销员", "分销员id"),
        "campaign": ("campaign", "campaign_id", "campaign id", "活动", "活动id"),
        "lines": ("lines", "items", "line count", "商品数", "件数", "明细"),
    },
    "memberships": {
        "customer_id": _EXTERNAL_CUSTOMER,
        "group": ("group", "group_id", "group id", "group key", "社群", "群", "群id", "社群id"),
        "joined_at": ("joined_at", "joined at", "joined", "入群时间", "加入时间"),
        "left_at": ("left_at", "left at", "left", "退群时间", "离开时间"),
        "channel": ("channel", "source", "渠道", "来源"),
    },
    "referrals": {
        "inviter_id": ("inviter_id", "inviter id", "inviter", "邀请人", "邀请人id"),
        "invitee_id": ("invitee_id", "invitee id", "invitee", "被邀请人", "被邀请人id"),
        "invited_at": ("invited_at", "invited at", "time", "邀请时间", *_TIME_ZH),
        "kind": ("kind", "type", "类型", "方式"),
    },
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "customers": ("external_id",),
    "orders": ("order_id", "customer_id", "placed_at", "amount"),
    "memberships": ("customer_id", "group", "joined_at"),
    "referrals": ("inviter_id", "invitee_id", "invited_at"),
}

SNIFF_BYTES = 1 << 20


class FileProblem(ValueError):
    """The file as a whole cannot be read (encoding, header, required columns)."""


@dataclass(slots=True)
class SourceRow:
    number: int  # as a spreadsheet shows it (CSV), or the line number (JSON Lines)
    values: dict[str, str]  # column → text as found (stripped); absent columns missing


def format_of(file_name: str, given: str | None = None) -> str:
    """``csv`` or ``jsonl``: as given, else from the file's extension."""
    if given:
        if given not in FORMATS:
            raise FileProblem(_("The format must be csv or jsonl."))
        return given
    lower = file_name.lower()
    if lower.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    return "csv"


def column_for(kind: str, header: str) -> str | None:
    """The column a header names (case-insensitive, English or Chinese), or None."""
    text = header.strip().lower().replace("\ufeff", "")
    for column, names in COLUMNS[kind].items():
        if text == column or text in names:
            return column
    return None


def detect_encoding(raw: BinaryIO) -> str:
    """``utf-8-sig`` when the bytes are UTF-8, else ``gb18030``; the stream is rewound.

    Reads until the first non-ASCII text decides it (a GB18030 file is almost never valid
    UTF-8 once it holds a few Chinese characters) or the end of the file."""
    start = raw.tell()
    decoder = codecs.getincrementaldecoder("utf-8")()
    seen_non_ascii = 0
    encoding = "utf-8-sig"
    while True:
        chunk = raw.read(SNIFF_BYTES)
        if not chunk:
            break
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError:
            encoding = "gb18030"
            break
        seen_non_ascii += len(chunk) - len(chunk.decode("ascii", "ignore"))
        if seen_non_ascii >= 256:
            break
    raw.seek(start)
    return encoding


class CountingReader(io.RawIOBase):
    """A binary stream that counts the bytes read through it (progress of bytes read)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.bytes_read += n
        return n


def _text(raw: BinaryIO) -> tuple[CountingReader, io.TextIOWrapper]:
    encoding = detect_encoding(raw)
    counter = CountingReader(raw)
    buffered = io.BufferedReader(counter, buffer_size=1 << 16)
    return counter, io.TextIOWrapper(buffered, encoding=encoding, newline="")


class Reader:
    """Rows of one file of one kind; ``bytes_read`` grows as they are consumed.

    ``unknown`` lists headers that name no column (reported, ignored). Raises
    :class:`FileProblem` when the header lacks a required column."""

    def __init__(self, raw: BinaryIO, kind: str, file_format: str) -> None:
        self.kind = kind
        self.file_format = file_format
        self.counter, self.text = _text(raw)
        self.unknown: list[str] = []
        self._columns: dict[int, str] = {}
        if file_format == "csv":
            self._start_csv()

    @property
    def bytes_read(self) -> int:
        return self.counter.bytes_read

    @property
    def columns(self) -> tuple[str, ...] | None:
        """The columns the CSV header names (None for JSON Lines: any row may have any)."""
        if self.file_format != "csv":
            return None
        return tuple(self._columns.values())

    def _start_csv(self) -> None:
        try:
            first = self.text.readline()
        except UnicodeDecodeError:
            raise FileProblem(_("Save the file as CSV in UTF-8 or GB18030.")) from None
        if not first.strip():
            raise FileProblem(_("The file is empty."))
        delimiter = max(",\t;", key=first.count)
        self._delimiter = delimiter
        header = next(csv.reader([first], delimiter=delimiter))
        seen: set[str] = set()
        for index, name in enumerate(header):
            column = column_for(self.kind, name)
            if column is None or column in seen:
                if name.strip():
                    self.unknown.append(name.strip())
                continue
            seen.add(column)
            self._columns[index] = column
        missing = [c for c in REQUIRED[self.kind] if c not in seen]
        if missing:
            raise FileProblem(
                _("The first row must name the columns; missing: %(columns)s.")
                % {"columns": ", ".join(missing)}
            )

    def __iter__(self) -> Iterator[SourceRow]:
        try:
            if self.file_format == "csv":
                yield from self._csv_rows()
            else:
                yield from self._jsonl_rows()
        except UnicodeDecodeError:
            raise FileProblem(_("The file mixes text encodings: save it in UTF-8.")) from None
        except csv.Error as exc:
            raise FileProblem(_("The file is not valid CSV: %(error)s") % {"error": exc}) from None

    def _csv_rows(self) -> Iterator[SourceRow]:
        names = tuple(self._columns.values())
        indexes = tuple(self._columns)
        width = max(indexes) + 1
        pick = itemgetter(*indexes) if len(indexes) > 1 else (lambda cells: (cells[indexes[0]],))
        strip = str.strip
        number = 1
        for cells in csv.reader(self.text, delimiter=self._delimiter):
            number += 1
            if len(cells) >= width:
                values = {c: v for c, v in zip(names, map(strip, pick(cells)), strict=True) if v}
            else:  # a short row: the columns it has
                values = {
                    column: cells[index].strip()
                    for index, column in self._columns.items()
                    if index < len(cells) and cells[index].strip()
                }
            if values or any(cell.strip() for cell in cells):
                yield SourceRow(number, values)

    def _jsonl_rows(self) -> Iterator[SourceRow]:
        keys: dict[str, str | None] = {}
        number = 0
        for line in self.text:
            number += 1
            if not line.strip():
                continue
            try:
                obj = json.loads(line, parse_float=str)  # amounts stay exact text
            except ValueError:
                yield SourceRow(number, {"__error__": _("This line is not valid JSON.")})
                continue
            if not isinstance(obj, dict):
                yield SourceRow(number, {"__error__": _("Each line must be a JSON object.")})
                continue
            values: dict[str, str] = {}
            for key, value in obj.items():
                if key not in keys:
                    keys[key] = column_for(self.kind, str(key))
                    if keys[key] is None and key not in self.unknown:
                        self.unknown.append(str(key))
                column = keys[key]
                if column is None or value is None or column in values:
                    continue
                text = value if isinstance(value, str) else json.dumps(value)
                if text.strip():
                    values[column] = text.strip()
            yield SourceRow(number, values)
