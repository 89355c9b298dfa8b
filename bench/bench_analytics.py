"""Analytics at Luckin Coffee's scale on PostgreSQL, and DuckDB measured against it.

The dataset (``bench/analytics_data.py``: one merchant, 1.8 M customers, about 20 M sales
over three years with refunds and attributions to 9,100 stores, groups, guides, distributors,
campaigns and live rooms, and about 27 M active days) lives in its own database,
``siyu_bench_analytics`` on the server given with ``--postgres``
(``SIYU_BENCH_ANALYTICS_DATABASE`` names another), built on the first run (minutes) and
reused afterwards; ``SIYU_BENCH_ANALYTICS_REBUILD=1`` builds it again, and
``SIYU_BENCH_ANALYTICS_PARTS`` (``facts,rollups,duckdb``) chooses what is measured.

    ./dev bench analytics --postgres postgres://postgres@127.0.0.1:5432/postgres

Timed, each the median of ``SIYU_BENCH_ROUNDS`` rounds (3; one when the first round takes
longer than ``SLOW`` seconds; a statement running past ``SIYU_BENCH_TIMEOUT`` seconds, 600,
is cancelled and recorded as not finished):

1. what the console and the API read: ``metrics.overview`` (the period and the one before,
   with activity and sources) of the last full year and of one month, as the API's
   ``documents.overview_document``; the console's daily series of the year; sales by store
   of a month (``metrics.sale_stats(by="store")``); the cohort matrix by month over the whole
   history; the RFM cells and grid (``documents.rfm_document``). Targets from issue 6:
   overview of a year under 2 s, cohort matrix under 5 s.
2. when ``siyu.analytics.rollups`` exists: the same from the facts (rollups marked stale with
   ``rollups.suspend``), then ``rollups.rebuild`` (timed) and the same again from the
   rollups, each answer checked against the one from the facts.
3. DuckDB against PostgreSQL (``analytics_duckdb``): the sales exported and loaded into DuckDB
   (timed), then the same group-bys on both engines.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from harness import Result

BENCH_DIR = Path(__file__).resolve().parent
ROUNDS = int(os.environ.get("SIYU_BENCH_ROUNDS", "3"))
TIMEOUT = int(os.environ.get("SIYU_BENCH_TIMEOUT", "600"))
SLOW = 60.0  # a first round slower than this is not repeated
# what to measure: facts (rollups stale), rollups (rebuilt, then read), duckdb
PARTS = set(os.environ.get("SIYU_BENCH_ANALYTICS_PARTS", "facts,rollups,duckdb").split(","))

YEAR = date(2025, 1, 1)  # the last full year of the history (and 2024 before it)
MONTH = date(2026, 10, 1)  # the last full month


# --- the dataset's database --------------------------------------------------------------


def _conninfo() -> str:
    """The dataset's database on the server the run's temporary database is on."""
    from django.db import connection
    from psycopg.conninfo import make_conninfo

    from analytics_data import DATABASE

    s = connection.settings_dict
    parts: dict[str, Any] = {
        "host": s.get("HOST") or "127.0.0.1",
        "port": s.get("PORT") or 5432,
        "user": s.get("USER") or "postgres",
        "dbname": os.environ.get("SIYU_BENCH_ANALYTICS_DATABASE", DATABASE),
    }
    if s.get("PASSWORD"):
        parts["password"] = s["PASSWORD"]
    return make_conninfo("", **parts)


def _prepare() -> str:
    """Build the dataset unless it is there (a subprocess, with its progress); switch to it."""
    from django.conf import settings
    from django.db import connections
    from psycopg.conninfo import conninfo_to_dict

    from luckin.build import url_for

    conninfo = _conninfo()
    name = str(conninfo_to_dict(conninfo)["dbname"])
    command = [sys.executable, str(BENCH_DIR / "analytics_data.py")]
    command += ["--postgres", url_for(conninfo), "--database", name]
    if os.environ.get("SIYU_BENCH_ANALYTICS_REBUILD") == "1":
        command.append("--rebuild")
    env = {k: v for k, v in os.environ.items() if k != "SIYU_DATABASE_URL"}
    subprocess.run(command, check=True, env=env)
    connections.close_all()
    settings.DATABASES["default"]["NAME"] = name
    connections["default"].settings_dict["NAME"] = name
    os.environ["SIYU_DATABASE_URL"] = url_for(conninfo)
    return conninfo


def _sql(query: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(query, params or [])
        return list(cursor.fetchall())


# --- timing ------------------------------------------------------------------------------


class Timed:
    """The median of the rounds of one call, or why it has none."""

    def __init__(self, action: Callable[[], Any]) -> None:
        from django.db import OperationalError, connection

        self.times: list[float] = []
        self.answer: Any = None
        self.failed = ""
        _session_limits()
        for _ in range(ROUNDS):
            started = time.perf_counter()
            try:
                self.answer = action()
            except OperationalError as error:  # statement_timeout
                connection.close()
                self.failed = f"not finished: {str(error).splitlines()[0]}"
                break
            self.times.append(time.perf_counter() - started)
            if self.times[-1] > SLOW:
                break

    def result(self, name: str, n: int, notes: str = "") -> Result:
        if self.failed:
            return Result(name, "s", float(TIMEOUT), n, f"{self.failed} (> {TIMEOUT} s)")
        rounds = " / ".join(f"{t:.2f}" for t in self.times)
        return Result(
            name, "s", statistics.median(self.times), n, f"{notes}rounds {rounds}".strip()
        )


def _session_limits(seconds: int = TIMEOUT) -> None:
    """Cancel a statement running past ``seconds`` (0: no limit) on this session."""
    from django.db import connection

    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute(f"SET statement_timeout = '{seconds}s'")


# --- what the console and the API read ------------------------------------------------------


def _calls(merchant: Any) -> list[tuple[str, Callable[[], Any], str]]:
    from analytics_data import END, START
    from siyu.analytics import cohorts, documents, metrics
    from siyu.analytics.reference import Period

    year = Period.of(YEAR, date(YEAR.year + 1, 1, 1))
    month = Period.of(MONTH, date(MONTH.year + (MONTH.month == 12), MONTH.month % 12 + 1, 1))

    def overview(period: Period) -> Callable[[], Any]:
        return lambda: documents.overview_document(
            merchant, period, metrics.overview(merchant, period)
        )

    def by_store() -> Any:
        stats = metrics.sale_stats(merchant, month, by="store")
        return dict(stats)

    def cohort() -> Any:
        matrix = cohorts.cohort_matrix(merchant, Period.of(START, END), END, by="month")
        return documents.cohort_document(matrix)

    return [
        (
            f"overview {YEAR.year} with {YEAR.year - 1} (API document)",
            overview(year),
            "target < 2 s; ",
        ),
        (
            f"console daily series, {YEAR.year} (365 days)",
            lambda: metrics.daily(merchant, year),
            "",
        ),
        (f"overview {MONTH:%Y-%m} with the month before", overview(month), ""),
        (f"sales by store, {MONTH:%Y-%m} (sale_stats by=store)", by_store, ""),
        ("cohort matrix by month, all history", cohort, "target < 5 s; "),
        (
            "RFM cells and grid, all history (rfm_document)",
            lambda: documents.rfm_document(merchant, END),
            "",
        ),
    ]


def measure(merchant: Any, label: str, n: int) -> tuple[list[Result], dict[str, Any]]:
    results, answers = [], {}
    for name, action, notes in _calls(merchant):
        print(f"bench analytics: {name} ({label})", file=sys.stderr, flush=True)
        timed = Timed(action)
        results.append(timed.result(f"{name} [{label}]", n, notes))
        print(f"  {results[-1]}", file=sys.stderr, flush=True)
        answers[name] = None if timed.failed else timed.answer
    return results, answers


def _differences(facts: dict[str, Any], rolled: dict[str, Any]) -> list[str]:
    return [
        name
        for name, answer in rolled.items()
        if facts.get(name) is not None and answer is not None and answer != facts[name]
    ]


def _facts_and_rollups(merchant: Any, n: int) -> list[Result]:
    """The calls from the facts; with the rollups module, then its rebuild and the calls
    again from the rollups, their answers compared."""
    rollups: Any
    try:
        from siyu.analytics import rollups
    except ImportError:  # before the rollups: the facts only
        rollups = None
    results: list[Result] = []
    from_facts: dict[str, Any] = {}
    if "facts" in PARTS:
        if rollups is not None:
            rollups.suspend(merchant)  # readers read the facts until the rebuild
        part, from_facts = measure(merchant, "facts", n)
        results += part
    if rollups is None or "rollups" not in PARTS:
        return results
    _session_limits(0)
    started = time.perf_counter()
    rows = rollups.rebuild(merchant)
    seconds = time.perf_counter() - started
    summary = ", ".join(f"{k} {v:,}" for k, v in rows.items())
    results.append(Result("rollups.rebuild (all history)", "s", seconds, n, summary))
    print(f"  {results[-1]}", file=sys.stderr, flush=True)
    part, from_rollups = measure(merchant, "rollups", n)
    results += part
    if from_facts:
        differ = _differences(from_facts, from_rollups)
        results.append(
            Result(
                "answers from rollups differing from the facts'",
                "calls",
                len(differ),
                len(from_rollups),
                "; ".join(differ) or "none",
            )
        )
        print(f"  {results[-1]}", file=sys.stderr, flush=True)
    return results


def run() -> list[Result]:
    from django.db import connection

    if connection.vendor != "postgresql":
        message = (
            "bench analytics needs PostgreSQL (20 M sales): "
            "./dev bench analytics --postgres postgres://postgres@127.0.0.1:5432/postgres"
        )
        if "analytics" in sys.argv[1:]:
            raise SystemExit(message)
        print(f"\n{message}; skipped", file=sys.stderr)
        return []
    conninfo = _prepare()
    from analytics_data import END, MARKER, SLUG
    from siyu.core.models import Merchant
    from siyu.core.tenancy import merchant_context

    merchant = Merchant.objects.get(slug=SLUG)
    [(n,)] = _sql("SELECT COUNT(*) FROM analytics_sale WHERE merchant_id = %s", [merchant.pk])
    load = [os.getloadavg()]
    with merchant_context(merchant):
        results = _facts_and_rollups(merchant, n)
    load.append(os.getloadavg())
    if "duckdb" in PARTS:
        from analytics_duckdb import compare

        results += compare(conninfo, merchant.pk, YEAR, END, ROUNDS, TIMEOUT)
    load.append(os.getloadavg())
    [(counts, seconds, size)] = _sql(f"SELECT counts, build_seconds, size FROM {MARKER}")
    counts = counts if isinstance(counts, dict) else json.loads(counts)  # a raw cursor: text
    summary = ", ".join(
        f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}" for k, v in counts.items()
    )
    results.append(Result("dataset (built once)", "s", seconds, n, f"{summary}; {size}"))
    settings = _sql(
        "SELECT name, current_setting(name), '' FROM pg_settings WHERE name IN ('shared_buffers',"
        " 'work_mem', 'max_parallel_workers_per_gather', 'effective_cache_size') ORDER BY name"
    )
    results.append(
        Result(
            "machine load average (1 min) at start / after PostgreSQL / after DuckDB",
            "load",
            load[-1][0],
            len(load),
            " / ".join(f"{x[0]:.2f}" for x in load)
            + "; PostgreSQL "
            + ", ".join(f"{name}={value}{unit or ''}" for name, value, unit in settings),
        )
    )
    return results
