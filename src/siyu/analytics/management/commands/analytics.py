"""``siyu analytics rebuild|status --merchant SLUG``: the fact tables of one merchant.

``rebuild`` writes the facts of Siyu's own history again from the operational tables (one
set-based statement per table, progress shown per table); imported rows are left alone.
``status`` prints the rows of each fact table by source.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from siyu.analytics import rebuild as facts_rebuild
from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context


class Command(BaseCommand):
    help = "Rebuild or count a merchant's analytics facts."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        for name, text in (
            ("rebuild", "write the facts of Siyu's history again from the operational tables"),
            ("status", "rows of each fact table by source"),
        ):
            sub = actions.add_parser(name, help=text)
            sub.add_argument("--merchant", required=True, help="the merchant's slug")
            sub.add_argument("--no-progress", action="store_true", help="no progress bar (rebuild)")

    def handle(self, *args: Any, **opts: Any) -> None:
        merchant = Merchant.objects.filter(slug=opts["merchant"]).first()
        if merchant is None:
            raise CommandError(f"--merchant: there is no merchant {opts['merchant']!r}")
        with merchant_context(merchant):
            if opts["action"] == "rebuild":
                self._rebuild(merchant, progress=not opts["no_progress"])
            else:
                self._status(merchant)

    def _rebuild(self, merchant: Merchant, *, progress: bool) -> None:
        from tqdm import tqdm

        started = time.monotonic()
        with tqdm(
            total=len(facts_rebuild.STEPS),
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
