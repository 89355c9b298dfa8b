"""Reading a customer CSV (pure: no database): encoding, columns, and each row's values.

Columns are matched by header name, case-insensitive, in English or Chinese
(see ``docs/import-customers.md``). Rows are numbered as a spreadsheet shows
them: the header is row 1, the first customer row 2.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext as _

from siyu.customers import phones

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000

# column → the header names that mean it (lower case)
COLUMNS: dict[str, tuple[str, ...]] = {
    "phone": ("phone", "mobile", "phone number", "手机", "手机号", "手机号码", "电话"),
    "name": ("name", "姓名", "名字"),
    "gender": ("gender", "sex", "性别"),
    "birthday": ("birthday", "birth date", "date of birth", "生日", "出生日期"),
    "city": ("city", "城市"),
    "store": ("store", "store code", "home store", "门店", "门店编码", "归属门店"),
    "guide": ("guide", "shopping guide", "导购", "导购账号"),
    "tags": ("tags", "tag", "标签"),
    "external_id": ("external_id", "external id", "外部id", "会员号"),
    "wechat_openid": ("wechat_openid", "openid", "微信openid"),
    "wechat_unionid": ("wechat_unionid", "unionid", "微信unionid"),
    "consent_marketing": ("consent_marketing", "marketing", "营销同意", "接收营销"),
}
IDENTITY_COLUMNS = ("external_id", "wechat_openid", "wechat_unionid")
GENDERS = {
    "female": "female",
    "f": "female",
    "woman": "female",
    "女": "female",
    "male": "male",
    "m": "male",
    "man": "male",
    "男": "male",
}
YES = {"yes", "y", "true", "1", "是", "同意"}
NO = {"no", "n", "false", "0", "否", "不同意", "拒绝"}
LIMITS = {"name": 80, "city": 40, "store": 32, "guide": 150}
IDENTITY_MAX = 128
TAG_MAX = 40


class FileProblem(ValueError):
    """The file as a whole cannot be imported (encoding, no phone column, too big)."""


@dataclass(frozen=True)
class TagRef:
    group: str  # "" when the row gave just the tag name
    name: str


@dataclass
class ImportRow:
    """One row's parsed values; ``None`` means the column is absent or empty (no change)."""

    row: int
    phone: str = ""
    name: str | None = None
    gender: str | None = None
    birthday: date | None = None
    city: str | None = None
    store: str | None = None
    guide: str | None = None
    tags: list[TagRef] = field(default_factory=list)
    identities: dict[str, str] = field(default_factory=dict)  # kind → value
    consent_marketing: bool | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)  # (field, reason)


@dataclass(frozen=True)
class Table:
    columns: dict[str, int]  # column name → index in the row
    unknown: list[str]
    rows: list[list[str]]


def decode(content: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 as Excel in China saves it."""
    if len(content) > MAX_BYTES:
        raise FileProblem(_("The file is larger than 20 MB: split it."))
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return content.decode("gb18030")
        except UnicodeDecodeError:
            raise FileProblem(_("Save the file as CSV in UTF-8.")) from None


def _column_for(header: str) -> str | None:
    text = header.strip().lower()
    for column, names in COLUMNS.items():
        if text in names:
            return column
    return None


def read(content: bytes) -> Table:
    """The header's columns and the data rows (blank lines skipped)."""
    text = decode(content)
    first_line = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first_line.count) if first_line else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise FileProblem(_("The file is empty.")) from None
    columns: dict[str, int] = {}
    unknown: list[str] = []
    for index, name in enumerate(header):
        column = _column_for(name)
        if column is None:
            if name.strip():
                unknown.append(name.strip())
        elif column not in columns:
            columns[column] = index
    if "phone" not in columns:
        raise FileProblem(_("The first row must name the columns, and a phone column is required."))
    try:
        rows = [row for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise FileProblem(_("The file is not valid CSV: %(error)s") % {"error": exc}) from None
    if len(rows) > MAX_ROWS:
        raise FileProblem(_("At most %(n)d customers per file: split it.") % {"n": MAX_ROWS})
    return Table(columns, unknown, rows)


def _cell(table: Table, row: list[str], column: str) -> str:
    index = table.columns.get(column)
    if index is None or index >= len(row):
        return ""
    return row[index].strip()


def parse_tags(raw: str) -> list[TagRef] | str:
    """``"Taste:Oat milk; VIP | 新客"`` → tag references, or the reason it is wrong."""
    refs: list[TagRef] = []
    for part in raw.replace("|", ";").split(";"):
        item = part.strip()
        if not item:
            continue
        group, sep, name = item.partition(":")
        if not sep:
            group, sep, name = item.partition("：")  # a full-width colon typed in Chinese
        group, name = (group.strip(), name.strip()) if sep else ("", item)
        if not name:
            return _("“%(tag)s” has no tag name after the colon.") % {"tag": item}
        if len(name) > TAG_MAX or len(group) > TAG_MAX:
            return _("Tag and group names have at most %(n)d characters.") % {"n": TAG_MAX}
        ref = TagRef(group, name)
        if ref not in refs:
            refs.append(ref)
    return refs


def _birthday(raw: str, today: date) -> date | str:
    try:
        value = date.fromisoformat(raw.replace("/", "-"))
    except ValueError:
        return _("Enter a date as YYYY-MM-DD, e.g. 1990-05-17.")
    if value > today:
        return _("A birthday cannot be in the future.")
    if value.year < 1900:
        return _("A birthday before 1900 is not plausible.")
    return value


def parse_row(table: Table, number: int, cells: list[str], today: date) -> ImportRow:
    """The values of one row, with every problem found (field, reason)."""
    row = ImportRow(row=number)
    raw_phone = _cell(table, cells, "phone")
    parsed = phones.parse(raw_phone)
    if isinstance(parsed, phones.PhoneProblem):
        row.errors.append(
            (
                "phone",
                _("A phone number is required.")
                if parsed == phones.PhoneProblem.EMPTY
                else _("“%(value)s” is not a valid phone number.") % {"value": raw_phone[:40]},
            )
        )
    else:
        row.phone = parsed
    for column, limit in LIMITS.items():
        value = _cell(table, cells, column)
        if not value:
            continue
        if len(value) > limit:
            row.errors.append((column, _("At most %(n)d characters.") % {"n": limit}))
        else:
            setattr(row, column, value)
    gender = _cell(table, cells, "gender")
    if gender:
        if gender.lower() in GENDERS:
            row.gender = GENDERS[gender.lower()]
        else:
            row.errors.append(("gender", _("Write female or male (女 / 男).")))
    birthday = _cell(table, cells, "birthday")
    if birthday:
        result = _birthday(birthday, today)
        if isinstance(result, str):
            row.errors.append(("birthday", result))
        else:
            row.birthday = result
    tags = _cell(table, cells, "tags")
    if tags:
        parsed_tags = parse_tags(tags)
        if isinstance(parsed_tags, str):
            row.errors.append(("tags", parsed_tags))
        else:
            row.tags = parsed_tags
    for column in IDENTITY_COLUMNS:
        value = _cell(table, cells, column)
        if not value:
            continue
        if len(value) > IDENTITY_MAX:
            row.errors.append((column, _("At most %(n)d characters.") % {"n": IDENTITY_MAX}))
        else:
            row.identities["external" if column == "external_id" else column] = value
    consent = _cell(table, cells, "consent_marketing").lower()
    if consent in YES:
        row.consent_marketing = True
    elif consent in NO:
        row.consent_marketing = False
    elif consent:
        row.errors.append(("consent_marketing", _("Write yes or no.")))
    return row


def rows(table: Table, today: date, start: int = 0) -> Iterator[ImportRow]:
    """Parsed rows from index ``start`` on (row numbers count the header as row 1)."""
    for index in range(start, len(table.rows)):
        yield parse_row(table, index + 2, table.rows[index], today)
