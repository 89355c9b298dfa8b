"""Run Siyu's benchmarks: ``./dev bench`` or ``python bench/run.py``.

Every ``bench/bench_*.py`` module's ``run()`` is called against a temporary
SQLite database (or a temporary database on the PostgreSQL server given with
``--postgres URL``, dropped afterwards). Prints one table, and writes
``bench/results/<name>.json`` (``<name>-postgresql.json``) per module with the
machine it ran on.

    python bench/run.py                       # all, SQLite
    python bench/run.py --postgres postgres://postgres@127.0.0.1:5432/siyu
    python bench/run.py outbox apikey         # only these modules
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import platform
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(1, str(ROOT / "src"))


def bench_names() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in BENCH_DIR.glob("bench_*.py"))


def cpu_model() -> str:
    with contextlib.suppress(OSError):  # not Linux: fall back to what platform knows
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def machine(database: str) -> dict[str, Any]:
    import django

    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "database": database,
        # other work on the machine while the benchmarks ran (1, 5, 15 minute load averages)
        "load_average": [round(x, 2) for x in os.getloadavg()]
        if hasattr(os, "getloadavg")
        else None,
    }


@contextmanager
def postgres_database(url: str) -> Iterator[str]:
    """A new, empty database on the server of ``url``; dropped on the way out."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    info = conninfo_to_dict(url)
    name = f"siyu_bench_{secrets.token_hex(4)}"
    admin = make_conninfo(**{**info, "dbname": "postgres"})
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_conninfo(**{**info, "dbname": name})
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_label() -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        return f"SQLite {connection.Database.sqlite_version} (WAL)"
    connection.ensure_connection()
    version = connection.pg_version  # type: ignore[attr-defined]
    return f"PostgreSQL {version // 10000}.{version % 10000}"


def to_url(conninfo: str) -> str:
    from psycopg.conninfo import conninfo_to_dict

    info = conninfo_to_dict(conninfo)
    auth = info.get("user", "postgres") + (f":{info['password']}" if info.get("password") else "")
    host = info.get("host", "127.0.0.1")
    return f"postgres://{auth}@{host}:{info.get('port', 5432)}/{info['dbname']}"


def configure(data_dir: Path, database_url: str, redis_url: str) -> None:
    """Settings for a benchmark run: development mode without DEBUG's query log."""
    os.environ.update(
        SIYU_ENV="development",
        SIYU_DEBUG="0",
        SIYU_LOG_LEVEL="ERROR",
        SIYU_TASKS_BACKEND="db",
        SIYU_DATA_DIR=str(data_dir),
        SIYU_DATABASE_URL=database_url,
        SIYU_REDIS_URL=redis_url,
        DJANGO_SETTINGS_MODULE="siyu.config.settings",
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def format_value(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def table(rows: list[tuple[str, Any]]) -> str:
    headers = ("benchmark", "result", "value", "unit", "n", "notes")
    lines = [
        (module, r.name, format_value(r.value), r.unit, str(r.n), r.notes) for module, r in rows
    ]
    widths = [max(len(str(x[i])) for x in [headers, *lines]) for i in range(len(headers))]
    right = {2, 4}

    def fmt(cells: tuple[str, ...]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([fmt(headers), fmt(tuple("-" * w for w in widths)), *map(fmt, lines)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "names", nargs="*", help=f"benchmarks to run (of {', '.join(bench_names())})"
    )
    parser.add_argument("--postgres", metavar="URL", help="run on a temporary PostgreSQL database")
    parser.add_argument("--redis", metavar="URL", default="", help="use Redis as the cache")
    parser.add_argument(
        "--no-save", action="store_true", help="print the table only; write no JSON results"
    )
    opts = parser.parse_args(argv)
    names = opts.names or bench_names()
    unknown = sorted(set(names) - set(bench_names()))
    if unknown:
        parser.error(f"no such benchmark: {', '.join(unknown)}")

    from tqdm import tqdm

    with tempfile.TemporaryDirectory(prefix="siyu-bench-") as tmp, _database(opts, tmp) as url:
        configure(Path(tmp), url, opts.redis)
        info = machine(database_label())
        rows: list[tuple[str, Any]] = []
        suffix = "-postgresql" if opts.postgres else ""  # SQLite's and PostgreSQL's side by side
        started = time.monotonic()
        with tqdm(names, desc="bench", unit="module", file=sys.stderr) as bar:
            for name in bar:
                bar.set_description(f"bench: {name}")
                module = importlib.import_module(f"bench_{name}")
                results = module.run()
                rows += [(name, r) for r in results]
                if not opts.no_save:
                    RESULTS_DIR.mkdir(exist_ok=True)
                    document = {
                        "benchmark": name,
                        "ran_at": datetime.now(UTC).isoformat(timespec="seconds"),
                        "machine": info,
                        "results": [r.as_dict() for r in results],
                    }
                    (RESULTS_DIR / f"{name}{suffix}.json").write_text(
                        json.dumps(document, indent=2, ensure_ascii=False) + "\n"
                    )
    print()
    print(table(rows))
    print()
    print(
        f"machine: {info['cpu']}, {info['cores']} cores; Python {info['python']}, "
        f"Django {info['django']}; {info['database']} ({time.monotonic() - started:.0f} s)"
    )
    if not opts.no_save:
        print(f"results: {RESULTS_DIR.relative_to(ROOT)}/<name>{suffix}.json")
    return 0


@contextmanager
def _database(opts: argparse.Namespace, tmp: str) -> Iterator[str]:
    if opts.postgres:
        with postgres_database(opts.postgres) as conninfo:
            yield to_url(conninfo)
    else:
        yield f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"


if __name__ == "__main__":
    sys.exit(main())
