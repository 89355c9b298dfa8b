"""``siyu analytics rebuild|status|lifetime|backtest --merchant SLUG``: one merchant's analytics.

``lifetime`` fits the lifetime-value models and scores every buyer now (what the nightly job
does; ``--as-of``, ``--unit days|weeks``, ``--holdout-days N`` also stores the calibration /
holdout check); ``backtest --as-of DATE [--end DATE]`` fits on the history before a past date
only and prints predicted against actual purchases after it, by past repeat purchases
(``--json`` for the machine).

``rebuild`` writes the facts of Siyu's own history again from the operational tables (one
set-based statement per table, progress shown per table); imported rows are left alone.
``status`` prints the rows of each fact table by source.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from siyu.analytics import documents, lifetime
from siyu.analytics import rebuild as facts_rebuild
from siyu.core.errors import InvalidInput
from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


class Command(BaseCommand):
    help = "Rebuild or count a merchant's analytics facts."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        for name, text in (
            ("rebuild", "write the facts of Siyu's history again from the operational tables"),
            ("status", "rows of each fact table by source"),
            ("lifetime", "fit the lifetime-value models and score every buyer now"),
            ("backtest", "fit as of a past date and compare with what happened after it"),
        ):
            sub = actions.add_parser(name, help=text)
            sub.add_argument("--merchant", required=True, help="the merchant's slug")
            sub.add_argument("--no-progress", action="store_true", help="no progress bar (rebuild)")
            if name in ("lifetime", "backtest"):
                sub.add_argument("--as-of", type=_day, required=name == "backtest")
                sub.add_argument("--unit", choices=lifetime.UNITS, default="weeks")
                sub.add_argument("--json", action="store_true", help="print JSON")
            if name == "lifetime":
                sub.add_argument("--holdout-days", type=int, default=None)
            if name == "backtest":
                sub.add_argument("--end", type=_day, default=None)

    def handle(self, *args: Any, **opts: Any) -> None:
        merchant = Merchant.objects.filter(slug=opts["merchant"]).first()
        if merchant is None:
            raise CommandError(f"--merchant: there is no merchant {opts['merchant']!r}")
        with merchant_context(merchant):
            try:
                if opts["action"] == "rebuild":
                    self._rebuild(merchant, progress=not opts["no_progress"])
                elif opts["action"] == "lifetime":
                    self._lifetime(merchant, opts)
                elif opts["action"] == "backtest":
                    self._backtest(merchant, opts)
                else:
                    self._status(merchant)
            except InvalidInput as exc:
                reasons = "; ".join(f"--{k.replace('_', '-')}: {v}" for k, v in exc.fields.items())
                raise CommandError(reasons or exc.message) from None

    def _lifetime(self, merchant: Merchant, opts: dict[str, Any]) -> None:
        run = lifetime.refresh(
            merchant, as_of=opts["as_of"], unit=opts["unit"], holdout_days=opts["holdout_days"]
        )
        out = documents.lifetime_document(run)
        if opts["json"]:
            self.stdout.write(json.dumps(out, ensure_ascii=False, indent=2))
            return
        self.stdout.write(
            f"{merchant.slug}: {run.customers} buyers scored from {run.sales} sales as of "
            f"{run.as_of} in {run.seconds:.1f} s ({run.status})"
        )
        for model, params in (run.params or {}).items():
            if params:
                shown = ", ".join(f"{k} = {v:.4g}" for k, v in params.items())
                self.stdout.write(f"  {model}: {shown}")
        if run.log_likelihood is not None:
            self.stdout.write(f"  log-likelihood: {run.log_likelihood:.2f}")
        if run.holdout:
            self._holdout_table(run.holdout)

    def _backtest(self, merchant: Merchant, opts: dict[str, Any]) -> None:
        check = lifetime.backtest(merchant, as_of=opts["as_of"], end=opts["end"], unit=opts["unit"])
        if opts["json"]:
            self.stdout.write(json.dumps(check, ensure_ascii=False, indent=2))
            return
        self._holdout_table(check)

    def _holdout_table(self, check: dict[str, Any]) -> None:
        self.stdout.write(
            f"calibration up to {check['calibration_end']}, holdout until "
            f"{check['holdout_end']}: {check['customers']} customers"
        )
        self.stdout.write(f"  {'x':>3}  {'customers':>9}  {'actual':>8}  {'predicted':>9}")
        for row in check["rows"]:
            actual = "-" if row["actual"] is None else f"{row['actual']:.3f}"
            predicted = "-" if row["predicted"] is None else f"{row['predicted']:.3f}"
            self.stdout.write(
                f"  {row['x']:>3}  {row['customers']:>9}  {actual:>8}  {predicted:>9}"
            )
        self.stdout.write(
            f"  total actual {check['actual_total']:.0f}, predicted {check['predicted_total']:.1f}"
        )

    def _rebuild(self, merchant: Merchant, *, progress: bool) -> None:
        from tqdm import tqdm

        started = time.monotonic()
        with tqdm(
            total=len(facts_rebuild.STEPS) + 1,  # and the rollups
            desc="rebuild",
            unit="table",
            file=sys.stderr,
            disable=not progress,
        ) as bar:

            def step(name: str, rows: int) -> None:
                bar.update(1)
                bar.set_description(f"rebuild: {name}")
                self.stdout.write(f"{name}: {rows} rows written")

            report = facts_rebuild.rebuild(merchant, progress=step)
        self.stdout.write(
            self.style.SUCCESS(
                f"facts of {merchant.slug} rebuilt: {report.total} rows written "
                f"in {time.monotonic() - started:.1f} s"
            )
        )

    def _status(self, merchant: Merchant) -> None:
        for table, counts in facts_rebuild.status(merchant).items():
            cells = ", ".join(f"{source}: {n}" for source, n in counts.items()) or "none"
            self.stdout.write(f"{table}: {cells}")
