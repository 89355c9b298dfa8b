"""``siyu report --merchant SLUG --from DATE --to DATE [--by DIMENSION] [--json]``.

Prints the overview numbers of the console (this period, the period of the same length just
before, the change) as an aligned table, Chinese labels aligned by display width; with
``--by`` also the period's sales per value of the dimension. ``--json`` prints the same as
JSON with money in minor units (fen), as the API gives it. Both days are the merchant's local
days and both are included. A bad argument is an error naming it.

``--lifetime [--unit weeks|days]`` adds the lifetime-value models: the latest fit (BG/NBD's
r, α, a, b and Gamma-Gamma's p, q, γ, the log-likelihood, whether it converged, the customers
scored) and the calibration/holdout check *of the report's period*: BG/NBD fitted on the sales
before ``--from`` only, its predicted purchases per customer from ``--from`` to ``--to`` (or to
today, when the period has not ended) against what happened, by repeat purchases before
``--from`` (0–6, 7+) — what the console's lifetime-value page and ``siyu analytics backtest``
show (``siyu analytics backtest --as-of DAY --end DAY`` takes any other pair of days, its end
excluded). The check reads every sale up to the end and fits while you wait: 25–74 s for
1.18 M sales on the busy 2-core machine (docs/clv.md). JSON: ``"lifetime": {"run": ..., "holdout": ...}`` as the API's
``/analytics/lifetime`` and ``/analytics/lifetime/backtest`` give them.
"""

from __future__ import annotations

import json
import unicodedata
from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from siyu.analytics import documents, lifetime, metrics
from siyu.analytics.forms import DIMENSION_LABELS, MAX_DAYS, dimension_labels, local_today
from siyu.analytics.models import LifetimeRun
from siyu.analytics.reference import DIMENSIONS, Period, SaleStats
from siyu.analytics.views_console import (
    GROUP_COLUMNS,
    NUMBER_KINDS,
    NUMBER_LABELS,
    shown,
    shown_change,
)
from siyu.core.errors import DomainError, InvalidInput
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
        parser.add_argument(
            "--lifetime",
            action="store_true",
            help="add the latest lifetime-value fit and the holdout check of the period",
        )
        parser.add_argument(
            "--unit",
            choices=lifetime.UNITS,
            default="weeks",
            help="time unit of the holdout check's fit (default weeks)",
        )

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
            fit = self._lifetime(merchant, period, opts["unit"]) if opts["lifetime"] else None
        ordered = sorted(grouped.items(), key=lambda i: (-i[1].net_sales, labels[i[0]]))
        if opts["json"]:
            self._json(merchant, period, figures, by, [(labels[k], k, s) for k, s in ordered], fit)
        else:
            self._table(merchant, period, figures, by, [(labels[k], s) for k, s in ordered])
            if fit is not None:
                self._lifetime_table(merchant, *fit)

    def _lifetime(
        self, merchant: Merchant, period: Period, unit: str
    ) -> tuple[LifetimeRun | None, dict[str, Any]]:
        """The latest run and the holdout check of ``period`` (cut at today)."""
        end = min(period.end, local_today(merchant) + timedelta(days=1))
        if end <= period.start:
            raise CommandError("--from: the holdout check needs a period that has begun")
        run = LifetimeRun.objects.order_by("-created_at", "-id").first()
        try:
            check = lifetime.backtest(merchant, as_of=period.start, end=end, unit=unit)
        except InvalidInput as exc:
            reasons = {"as_of": "--from", "end": "--to"}
            raise CommandError(
                "; ".join(f"{reasons.get(k, '--' + k)}: {v}" for k, v in exc.fields.items())
                or exc.message
            ) from None
        return run, {**check, "unit": unit}

    def _json(
        self,
        merchant: Merchant,
        period: Period,
        figures: metrics.Overview,
        by: str | None,
        grouped: list[tuple[str, Any, SaleStats]],
        fit: tuple[LifetimeRun | None, dict[str, Any]] | None = None,
    ) -> None:
        document = documents.overview_document(merchant, period, figures, by, grouped)
        if fit is not None:
            document["lifetime"] = {"run": documents.lifetime_document(fit[0]), "holdout": fit[1]}
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

    def _lifetime_table(
        self, merchant: Merchant, run: LifetimeRun | None, check: dict[str, Any]
    ) -> None:
        self.stdout.write("")
        if run is None:
            self.stdout.write(
                f"lifetime value: not fitted yet (siyu analytics lifetime --merchant "
                f"{merchant.slug})"
            )
        else:
            self.stdout.write(
                f"lifetime value: latest fit as of {run.as_of.isoformat()} in {run.unit}, "
                f"{run.customers} customers scored ({run.repeat_customers} bought again), "
                f"{'converged' if run.converged else 'NOT converged'} ({run.status})"
            )
            for key, name in (("bgnbd", "BG/NBD"), ("gamma_gamma", "Gamma-Gamma")):
                shown = _parameters((run.params or {}).get(key))
                if shown:
                    self.stdout.write(f"  {name}: {shown}")
            if run.log_likelihood is not None:
                self.stdout.write(f"  log-likelihood (BG/NBD): {run.log_likelihood:.2f}")
            for _code, sentence in lifetime.cautions(run):
                self.stdout.write(f"  caution: {sentence}")
        last = date.fromisoformat(check["holdout_end"]) - timedelta(days=1)
        self.stdout.write("")
        self.stdout.write(
            f"holdout check: fitted on the sales before {check['calibration_end']} "
            f"({check['customers']} customers) in {check['unit']}, compared with their "
            f"purchases {check['calibration_end']} – {last.isoformat()}"
        )
        likelihood = check["log_likelihood"]
        self.stdout.write(
            f"  BG/NBD: {_parameters(check['params'])}; log-likelihood "
            + ("-" if likelihood is None else f"{likelihood:.2f}")
        )
        rows = [
            [
                row["x"],
                str(row["customers"]),
                "-" if row["actual"] is None else f"{row['actual']:.3f}",
                "-" if row["predicted"] is None else f"{row['predicted']:.3f}",
            ]
            for row in check["rows"]
        ]
        headings = ["repeat purchases before", "customers", "actual", "predicted"]
        for line in aligned(headings, rows, right={0, 1, 2, 3}):
            self.stdout.write(line)
        error = check["relative_error"]
        self.stdout.write(
            f"in all: {check['actual_total']:.0f} purchases, {check['predicted_total']:.1f} "
            "predicted" + ("" if error is None else f" ({error * 100:+.1f}%)")
        )


# The stored parameters in the papers' order and names (Gamma-Gamma's γ is stored as v; a
# JSON column on PostgreSQL does not keep the order the keys were written in).
PARAMETER_NAMES = {"r": "r", "alpha": "α", "a": "a", "b": "b", "p": "p", "q": "q", "v": "γ"}


def _parameters(params: dict[str, Any] | None) -> str:
    if not params:
        return ""
    return ", ".join(
        f"{name} = {params[key]:.4g}"
        for key, name in PARAMETER_NAMES.items()
        if params.get(key) is not None
    )
