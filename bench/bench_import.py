"""Importing order history: ``siyu import orders`` throughput, first import and re-import.

Generates an orders CSV of ``SIYU_BENCH_IMPORT_ROWS`` rows (1,000,000 by default; ``--rows``
when run on its own) over one tenth as many customers (about eleven orders a customer, as
at Luckin's 1.8 M customers and 20 M orders), with a store, a channel and a refund on some
rows, times with and without an offset. Then imports it into an empty merchant the way the
command does (streamed in batches of 10,000, COPY into a staging table and one
``INSERT … SELECT … ON CONFLICT`` per batch on PostgreSQL; customers created set-based), and
imports it again (nothing changes: every row compared, none rewritten). Each figure is
order rows a second over the whole run, parsing and validation included. Checked after
each run: the number of sales and customers, and the total amount. The notes give the
importing process's own CPU time too: on a machine shared with other work the wall-clock
rate says more about the neighbours than about the import.

    python bench/run.py import --postgres postgres://postgres@127.0.0.1:5432/siyu
    python bench/bench_import.py --rows 100000 --postgres postgres://…   # same, fewer rows
"""

from __future__ import annotations

import csv
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from harness import Result, rate

ROWS_ENV = "SIYU_BENCH_IMPORT_ROWS"
HEADER = ["order_id", "customer_id", "placed_at", "amount", "refunded", "store", "channel"]
CHANNELS = ["group", "guide", "organic", "live", "campaign"]


def _rows() -> int:
    return int(os.environ.get(ROWS_ENV, "1000000"))


def generate(path: Path, rows: int, seed: int = 6) -> int:
    """Write the CSV; the total amount in fen (to check the import against)."""
    rng = random.Random(seed)
    customers = max(rows // 10, 1)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    total = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for n in range(rows):
            fen = rng.randint(900, 20000)
            total += fen
            when = start + timedelta(seconds=rng.randint(0, 365 * 86400))
            placed = (
                when.strftime("%Y-%m-%d %H:%M:%S")
                if n % 2
                else when.astimezone(UTC).isoformat(timespec="seconds")
            )
            refunded = f"{fen // 200}.{fen // 2 % 100:02d}" if n % 20 == 0 else ""
            writer.writerow(
                [
                    f"LK{n:09d}",
                    f"U{rng.randrange(customers):08d}",
                    placed,
                    f"{fen // 100}.{fen % 100:02d}",
                    refunded,
                    "S01" if n % 3 == 0 else "",
                    CHANNELS[n % len(CHANNELS)],
                ]
            )
    return total


def run() -> list[Result]:
    from django.db import connection
    from django.db.models import Sum

    from siyu.analytics.importer.runner import Options
    from siyu.analytics.importer.service import run_now
    from siyu.analytics.models import Sale
    from siyu.core.tenancy import merchant_context
    from siyu.core.testing import make_merchant
    from siyu.customers.models import Customer
    from siyu.stores.testing import make_store

    rows = _rows()
    merchant = make_merchant(slug=f"import-bench-{os.getpid()}")
    with merchant_context(merchant):
        make_store(merchant, code="S01")
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="siyu-import-") as tmp:
        path = Path(tmp) / "orders.csv"
        started = time.perf_counter()
        total = generate(path, rows)
        generated = time.perf_counter() - started
        size_mb = path.stat().st_size / 1e6
        for label in ("first import", "re-import, unchanged"):
            with merchant_context(merchant):
                started = time.perf_counter()
                cpu_started = time.process_time()
                outcome = run_now(None, path, Options(kind="orders"), None, actor=_actor(merchant))
                seconds = time.perf_counter() - started
                cpu = time.process_time() - cpu_started
                count = Sale.objects.count()
                amount = Sale.objects.aggregate(s=Sum("amount"))["s"]
                customers = Customer.objects.count()
            assert outcome.rows_rejected == 0, outcome.report[:5]
            assert count == rows, (count, rows)
            assert amount == total, (amount, total)
            assert customers == outcome.customers_created or label != "first import"
            results.append(
                Result(
                    f"orders CSV, {label}",
                    "rows/s",
                    rate(rows, seconds),
                    rows,
                    f"{seconds:.1f} s for {size_mb:.0f} MB ({cpu:.1f} s of Python CPU, "
                    f"{rate(rows, cpu):,.0f} rows per CPU-second); {outcome.rows_written:,} rows "
                    f"written, {customers:,} customers ({outcome.customers_created:,} created)",
                )
            )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_total_relation_size('analytics_sale')")
                sale_bytes = cursor.fetchone()[0]
            results.append(Result("sale table with indexes", "bytes/row", sale_bytes / rows, rows))
    results.append(Result("generating the CSV", "rows/s", rate(rows, generated), rows))
    return results


def _actor(merchant):  # type: ignore[no-untyped-def]
    from siyu.core.actors import Actor

    return Actor.system(merchant, label="bench import")


if __name__ == "__main__":
    args = sys.argv[1:]
    if "--rows" in args:
        i = args.index("--rows")
        os.environ[ROWS_ENV] = args[i + 1]
        del args[i : i + 2]
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import run as bench_run

    sys.exit(bench_run.main(["import", *args]))
