"""``siyu report --merchant SLUG --from DATE --to DATE [--by DIMENSION] [--json]``.

Prints the overview numbers of the console (this period, the period of the same length just
before, the change) as an aligned table, Chinese labels aligned by display width; with
``--by`` also the period's sales per value of the dimension. ``--json`` prints the same as
JSON with money in minor units (fen), as the API gives it. Both days are the merchant's local
days and both are included. A bad argument is an error naming it.
"""

from __future__ import annotations

import json
import unicodedata
from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from siyu.analytics import documents, metrics
from siyu.analytics.forms import DIMENSION_LABELS, MAX_DAYS, dimension_labels
from siyu.analytics.reference import DIMENSIONS, Period, SaleStats
from siyu.analytics.views_console import (
    GROUP_COLUMNS,
    NUMBER_KINDS,
    NUMBER_LABELS,
    shown,
    shown_change,
)
from siyu.core.errors import DomainError
from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context


def display_width(text: str) -> int:
    """Terminal columns of ``text``: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def aligned(headings: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    """Lines of a table padded by display width; columns in ``right`` align right."""
    widths = [max(display_width(r[i]) for r in [headings, *rows]) for i in range(len(headings))]

    def line(cells: list[str]) -> str:
        parts = []
        for i, (cell, width) in enumerate(zip(cells, widths, strict=True)):
            pad = " " * (width - display_width(cell))
            parts.append(pad + cell if i in right else cell + pad)
        return "  ".join(parts).rstrip()

    return [line(headings), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--{name}: {value!r} is not a date (YYYY-MM-DD)") from exc


class Command(BaseCommand):
    help = "Print a merchant's analytics overview for a period (optionally grouped)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--merchant", required=True, help="the merchant's slug")
        parser.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, help="last day (included)")
        parser.add_argument("--by", choices=DIMENSIONS, help="group the sales by a dimension")
        parser.add_argument("--json", action="store_true", help="print JSON (money in fen)")

    def handle(self, *args: Any, **opts: Any) -> None:
        merchant = Merchant.objects.filter(slug=opts["merchant"]).first()
        if merchant is None:
            raise CommandError(f"--merchant: there is no merchant {opts['merchant']!r}")
        start, last = _day(opts["start"], "from"), _day(opts["end"], "to")
        if last < start:
            raise CommandError("--to: must not be before --from")
        if (last - start).days + 1 > MAX_DAYS:
            raise CommandError(f"--to: at most {MAX_DAYS} days after --from")
        period = Period(start, last + timedelta(days=1))
        by = opts["by"]
        with merchant_context(merchant):
            try:
                figures = metrics.overview(merchant, period)
                grouped = metrics.sale_stats(merchant, period, by=by) if by else {}
            except DomainError as exc:
                raise CommandError(f"{exc.message} {exc.fields}") from exc
            labels = dimension_labels(merchant, by, grouped) if by else {}
        ordered = sorted(grouped.items(), key=lambda i: (-i[1].net_sales, labels[i[0]]))
        if opts["json"]:
            self._json(merchant, period, figures, by, [(labels[k], k, s) for k, s in ordered])
        else:
            self._table(merchant, period, figures, by, [(labels[k], s) for k, s in ordered])

    def _json(
        self,
        merchant: Merchant,
        period: Period,
        figures: metrics.Overview,
        by: str | None,
        grouped: list[tuple[str, Any, SaleStats]],
    ) -> None:
        document = documents.overview_document(merchant, period, figures, by, grouped)
        self.stdout.write(json.dumps(document, ensure_ascii=False, indent=2))

    def _table(
        self,
        merchant: Merchant,
        period: Period,
        figures: metrics.Overview,
        by: str | None,
        grouped: list[tuple[str, SaleStats]],
    ) -> None:
        last = period.end - timedelta(days=1)
        previous = period.previous()
        self.stdout.write(
            f"{merchant.name}  {period.start.isoformat()} – {last.isoformat()}"
            f"  (previous: {previous.start.isoformat()} – "
            f"{(previous.end - timedelta(days=1)).isoformat()})"
        )
        rows = []
        for row in figures.rows():
            kind = NUMBER_KINDS[row["name"]]
            rows.append(
                [
                    str(NUMBER_LABELS[row["name"]]),
                    shown(merchant, kind, row["value"]),
                    shown(merchant, kind, row["previous"]),
                    shown_change(row["change"])[0],
                ]
            )
        headings = ["metric", "value", "previous", "change"]
        for line in aligned(headings, rows, right={1, 2, 3}):
            self.stdout.write(line)
        if by:
            self.stdout.write("")
            headings = [str(DIMENSION_LABELS[by])] + [name for name, _kind in GROUP_COLUMNS]
            table = [
                [label, *(shown(merchant, kind, getattr(s, name)) for name, kind in GROUP_COLUMNS)]
                for label, s in grouped
            ]
            right = set(range(1, len(headings)))
            for line in aligned(headings, table, right=right):
                self.stdout.write(line)
