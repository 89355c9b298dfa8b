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

import contextlib
import csv
import os
import random
import sys
import tempfile
import threading
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


class ServerCpu:
    """CPU seconds of the PostgreSQL backends serving this database, read from ``/proc``
    (the server on this machine) every half second while a run lasts: the import's share
    of the server's work, whatever else the machine is doing."""

    def __init__(self) -> None:
        self.seen: dict[int, float] = {}
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    @staticmethod
    def _cpu(pid: int) -> float | None:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _pids(self) -> list[int]:
        import psycopg
        from django.db import connection

        settings = connection.settings_dict
        with psycopg.connect(
            host=settings["HOST"] or "127.0.0.1",
            port=settings["PORT"] or 5432,
            user=settings["USER"],
            password=settings["PASSWORD"] or None,
            dbname=settings["NAME"],
            autocommit=True,
        ) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            ).fetchall()
        return [r[0] for r in rows]

    def _work(self) -> None:
        while not self.stop.wait(0.5):
            self.sample()

    def sample(self) -> None:
        for pid in self._pids():
            cpu = self._cpu(pid)
            if cpu is not None:
                self.seen[pid] = max(self.seen.get(pid, 0.0), cpu)

    def __enter__(self) -> ServerCpu:
        self.sample()
        self.start = dict(self.seen)
        self.thread = threading.Thread(target=self._work, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.sample()
        self.stop.set()
        if self.thread is not None:
            self.thread.join()

    @property
    def seconds(self) -> float:
        return sum(cpu - self.start.get(pid, 0.0) for pid, cpu in self.seen.items())


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
        postgres = connection.vendor == "postgresql"
        for label in ("first import", "re-import, unchanged"):
            load = os.getloadavg()[0]
            server = ServerCpu() if postgres else contextlib.nullcontext()
            with merchant_context(merchant), server:
                started = time.perf_counter()
                cpu_started = time.process_time()
                outcome = run_now(None, path, Options(kind="orders"), None, actor=_actor(merchant))
                seconds = time.perf_counter() - started
                cpu = time.process_time() - cpu_started
            server_note = ""
            if isinstance(server, ServerCpu):
                server_note = (
                    f"; PostgreSQL {server.seconds:.1f} s CPU "
                    f"({rate(rows, server.seconds):,.0f} rows per CPU-second)"
                )
            with merchant_context(merchant):
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
                    f"{rate(rows, cpu):,.0f} rows per CPU-second{server_note}); "
                    f"{outcome.rows_written:,} rows written, {customers:,} customers "
                    f"({outcome.customers_created:,} created); load average {load:.1f}",
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
