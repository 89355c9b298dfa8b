"""The same group-bys in PostgreSQL and in DuckDB over the same sales (bench_analytics).

DuckDB needs its own copy of the facts: the sales are exported from PostgreSQL with
``COPY … TO STDOUT (FORMAT csv)`` into a file, loaded into a DuckDB database file (both
timed), and each query runs on both engines, fetching every result row into Python, median
of ``rounds``; the two answers are compared row for row.

PostgreSQL runs the statements as ``analytics.metrics_sql.fetch`` does (JIT off), with the
server's own parallel-query settings; DuckDB with its defaults (one thread per core).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from harness import Result

COLUMNS = (
    "customer_id, day, placed_at, amount, refunded, store_id, group_id, guide_id,"
    " distributor_id, campaign_id, live_room_id"
)
KEPT = "(refunded = 0 OR refunded < amount)"


def queries(year: date, end: date) -> dict[str, str]:
    """name → SQL that both engines run as written (table ``sale``, this merchant's rows)."""
    y0, y1 = year.isoformat(), date(year.year + 1, 1, 1).isoformat()
    month = (
        "(CAST(EXTRACT(YEAR FROM {c}) AS INTEGER) * 12 + CAST(EXTRACT(MONTH FROM {c}) AS INTEGER)"
        " - 1)"
    )
    first, this = month.format(c="first_day"), month.format(c="day")
    return {
        f"net sales and buyers by store, {year.year}": (
            f"SELECT store_id, SUM(amount - refunded), COUNT(*),"
            f" COUNT(DISTINCT CASE WHEN {KEPT} THEN customer_id END)"
            f" FROM sale WHERE day >= DATE '{y0}' AND day < DATE '{y1}'"
            " GROUP BY store_id ORDER BY store_id"
        ),
        "GMV, refunds, orders and buyers by month, all history": (
            f"SELECT {this}, SUM(amount), SUM(refunded), COUNT(*), COUNT(DISTINCT customer_id)"
            f" FROM sale WHERE day < DATE '{end.isoformat()}' GROUP BY 1 ORDER BY 1"
        ),
        "per customer: last day, orders, net (RFM inputs), all history": (
            "SELECT customer_id, MAX(day), COUNT(*), SUM(amount - refunded) FROM sale"
            f" WHERE day < DATE '{end.isoformat()}' AND {KEPT}"
            " GROUP BY customer_id ORDER BY customer_id"
        ),
        "cohort matrix (first month × month since), all history": (
            f"SELECT {first}, {this} - {first}, COUNT(DISTINCT customer_id), SUM(net) FROM ("
            "SELECT customer_id, day, amount - refunded AS net,"
            " MIN(day) OVER (PARTITION BY customer_id) AS first_day"
            f" FROM sale WHERE day < DATE '{end.isoformat()}' AND {KEPT}) f"
            " GROUP BY 1, 2 ORDER BY 1, 2"
        ),
    }


def _median(action: Callable[[], Any], rounds: int) -> tuple[float, list[float], Any]:
    times, result = [], None
    for _ in range(rounds):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
        if times[-1] > 60:  # not repeated
            break
    return statistics.median(times), times, result


def _normal(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows comparable across engines (DuckDB's HUGEINT sums and PostgreSQL's Decimals as int)."""
    return [
        tuple(int(v) if isinstance(v, int | float) or hasattr(v, "as_tuple") else v for v in r)
        for r in rows
    ]


def compare(
    conninfo: str, merchant_id: int, year: date, end: date, rounds: int, timeout: int = 600
) -> list[Result]:
    """The export and load, then each query on both engines; a PostgreSQL statement running
    past ``timeout`` seconds is cancelled and recorded as not finished."""
    import duckdb
    import psycopg

    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="siyu-duckdb-") as tmp:
        csv_path = Path(tmp) / "sales.csv"
        started = time.perf_counter()
        with psycopg.connect(conninfo) as conn, csv_path.open("wb") as out:
            copy_sql = (
                f"COPY (SELECT {COLUMNS} FROM analytics_sale WHERE merchant_id = {int(merchant_id)})"
                " TO STDOUT (FORMAT csv)"
            )
            with conn.cursor().copy(copy_sql) as copy:
                for block in copy:
                    out.write(block)
        exported = time.perf_counter() - started
        size_mb = csv_path.stat().st_size / 2**20
        started = time.perf_counter()
        duck = duckdb.connect(str(Path(tmp) / "sales.duckdb"))
        duck.execute(
            "CREATE TABLE sale (customer_id BIGINT, day DATE, placed_at TIMESTAMPTZ,"
            " amount BIGINT, refunded BIGINT, store_id BIGINT, group_id BIGINT,"
            " guide_id BIGINT, distributor_id BIGINT, campaign_id BIGINT, live_room_id BIGINT)"
        )
        duck.execute(f"COPY sale FROM '{csv_path}' (FORMAT csv, HEADER false)")
        duck.execute("CHECKPOINT")
        loaded = time.perf_counter() - started
        print(f"bench analytics: exported {exported:.1f} s, loaded {loaded:.1f} s", file=sys.stderr)
        (n,) = duck.execute("SELECT COUNT(*) FROM sale").fetchone()  # type: ignore[misc]
        duck_mb = (Path(tmp) / "sales.duckdb").stat().st_size / 2**20
        threads = duck.execute("SELECT current_setting('threads')").fetchone()[0]  # type: ignore[index]
        results += [
            Result(
                "DuckDB's copy: export from PostgreSQL to CSV",
                "s",
                exported,
                n,
                f"COPY TO STDOUT, {size_mb:,.0f} MB of CSV",
            ),
            Result(
                "DuckDB's copy: load the CSV into a DuckDB file",
                "s",
                loaded,
                n,
                f"{duck_mb:,.0f} MB on disk; DuckDB {duckdb.__version__}, {threads} threads",
            ),
        ]
        with psycopg.connect(conninfo, autocommit=True) as pg:
            pg.execute("SET jit = off")
            pg.execute(f"SET statement_timeout = '{int(timeout)}s'")
            pg.execute(
                f"CREATE TEMPORARY VIEW sale AS SELECT * FROM analytics_sale"
                f" WHERE merchant_id = {int(merchant_id)}"
            )
            for name, sql in queries(year, end).items():

                def on_pg(sql: str = sql) -> list[tuple[Any, ...]]:
                    return pg.execute(sql).fetchall()

                def on_duck(sql: str = sql) -> list[tuple[Any, ...]]:
                    return duck.execute(sql).fetchall()

                print(f"bench analytics: {name} (PostgreSQL, DuckDB)", file=sys.stderr)
                try:
                    pg_s, pg_times, pg_rows = _median(on_pg, rounds)
                except psycopg.errors.QueryCanceled:
                    pg_s, pg_times, pg_rows = float(timeout), [], []
                duck_s, duck_times, duck_rows = _median(on_duck, rounds)
                if not pg_times:
                    results += [
                        Result(
                            f"PostgreSQL: {name}", "s", pg_s, n, f"not finished (> {timeout} s)"
                        ),
                        Result(
                            f"DuckDB: {name}",
                            "s",
                            duck_s,
                            n,
                            f"{len(duck_rows):,} rows; rounds {_fmt(duck_times)}",
                        ),
                    ]
                    continue
                same = _normal(pg_rows) == _normal(duck_rows)
                results += [
                    Result(
                        f"PostgreSQL: {name}",
                        "s",
                        pg_s,
                        n,
                        f"{len(pg_rows):,} rows; rounds {_fmt(pg_times)}",
                    ),
                    Result(
                        f"DuckDB: {name}",
                        "s",
                        duck_s,
                        n,
                        f"{len(duck_rows):,} rows; {pg_s / duck_s:.1f}× faster; "
                        f"same answer as PostgreSQL: {'yes' if same else 'NO'}; "
                        f"rounds {_fmt(duck_times)}",
                    ),
                ]
                print(f"  {results[-2]}\n  {results[-1]}", file=sys.stderr, flush=True)
        duck.close()
    return results


def _fmt(times: list[float]) -> str:
    return " / ".join(f"{t:.2f}" for t in times)
