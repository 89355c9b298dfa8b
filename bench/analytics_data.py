"""Build the analytics facts of one merchant at Luckin Coffee's scale in its own database.

    python bench/analytics_data.py --postgres postgres://postgres@127.0.0.1:5432/postgres
    python bench/analytics_data.py --postgres URL --rebuild         # drop and build again
    python bench/analytics_data.py --postgres URL --database NAME   # another database

The database (``siyu_bench_analytics`` unless ``--database`` names another) is created,
migrated, filled and marked built (table ``bench_analytics_dataset``: parameters, row counts,
build time, size); when the marker is there nothing is generated again, so the benchmark
reuses it. Only what ``siyu.analytics.metrics``, ``cohorts`` and ``rfm`` read is written: one
merchant (Asia/Shanghai) and its ``analytics_sale`` and ``analytics_activeday`` rows. No
customer rows: no measured call joins the customers table (only the join-channel dimension
and filter do).

The history, three years of local days ``[START, END)``, drawn with numpy:

* 1.8 M customers arriving over the three years at a growing rate (density ∝ t^0.67); each
  buys from the first day on at a Poisson rate λ ~ Gamma(1, 16 days) and leaves after each
  repeat purchase with probability p ~ Beta(1, 11) (``clv_simulate``, the BG/NBD story):
  about 11 orders per customer, heavy-tailed (median 6, 1 % over 78), and churn;
* times of day around the morning and afternoon peaks; ``placed_at`` in UTC, ``day`` the
  local day in Asia/Shanghai (UTC+8) of the same instant;
* ¥20 a purchase on average (Gamma-Gamma spend); 3 % refunded in full, 8 % in part;
* 9,100 stores of uneven popularity: each customer has a home store where 85 % of their orders
  are placed; 60 % join one of their home store's two groups some weeks after their first
  order and 70 % of their later orders carry the group; 35 % have a shopping guide (600) on a
  quarter of their orders; 4 % are bound to one of 3,000 distributors (half their orders);
  6 % of orders come through the campaign of their month, 1 % from one of 12 live rooms;
* ``order_id`` numbers the sales in time order and the rows are written in that order, as a
  live system appends them (so ``day`` correlates with the physical order, as in production);
* ``ActiveDay``: every (customer, local day) with an order (ordered), plus visits without an
  order, group-chat messages of members and the day each joined, OR-ed into one row per day.

Rows go in with ``COPY`` while the tables' secondary indexes are detached (``luckin.build``'s
``detached``), then the indexes are put back and the tables vacuumed and analysed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))
if str(ROOT / "src") not in sys.path:
    sys.path.insert(1, str(ROOT / "src"))

from luckin.build import (  # noqa: E402
    Clock,
    Table,
    conninfo_for,
    detached,
    ensure_database,
    setup_django,
    url_for,
)

DATABASE = "siyu_bench_analytics"
MARKER = "bench_analytics_dataset"
SLUG = "luckin-analytics"
START = date(2023, 11, 1)  # first local day of the history
END = date(2026, 11, 1)  # the day after the last
DAYS = (END - START).days
UTC_OFFSET = 8 * 3600  # Asia/Shanghai, no daylight saving time
DAY = 86_400

CUSTOMERS = 1_800_000
STORES = 9_100
GUIDES = 600
DISTRIBUTORS = 3_000
LIVE_ROOMS = 12
PARAMS_DAYS = (1.0, 16.0, 1.0, 11.0)  # BG/NBD r, alpha (days), a, b
SPEND = (6.0, 4.0, 1000.0)  # Gamma-Gamma p, q, v (fen): ¥20 a purchase on average
CHUNK = 200_000  # customers simulated at a time
COPY_ROWS = 500_000  # rows formatted and sent at a time


def _day_text(offset: int) -> str:
    return (START + timedelta(days=offset)).isoformat()


# --- the history ----------------------------------------------------------------------


def _times_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """Local seconds after midnight: 45 % around 8:45, 35 % around 14:30, the rest 7–22 h."""
    which = rng.random(n)
    hours = np.where(
        which < 0.45,
        rng.normal(8.75, 1.0, n),
        np.where(which < 0.80, rng.normal(14.5, 1.5, n), rng.uniform(7.0, 22.0, n)),
    )
    return np.clip(hours * 3600, 6 * 3600, 23 * 3600 - 1).astype(np.int64)


def simulate(seed: int) -> dict[str, np.ndarray]:
    """Every sale as numpy columns, in time order (zero for a NULL attribution)."""
    rng = np.random.default_rng(seed)
    from siyu.analytics.clv_simulate import simulate_transactions

    popularity = rng.lognormal(0.0, 0.8, STORES)
    popularity /= popularity.sum()
    home = rng.choice(STORES, size=CUSTOMERS, p=popularity) + 1
    births = DAYS * rng.random(CUSTOMERS) ** 0.6
    joins = rng.random(CUSTOMERS) < 0.60
    join_day = np.where(joins, births + rng.exponential(45.0, CUSTOMERS), np.inf)
    group = np.where(joins, 2 * home - 1 + rng.integers(0, 2, CUSTOMERS), 0)
    guide = np.where(rng.random(CUSTOMERS) < 0.35, rng.integers(1, GUIDES + 1, CUSTOMERS), 0)
    distributor = np.where(
        rng.random(CUSTOMERS) < 0.04, rng.integers(1, DISTRIBUTORS + 1, CUSTOMERS), 0
    )
    parts: dict[str, list[np.ndarray]] = {"customer": [], "t": [], "amount": []}
    for start in range(0, CUSTOMERS, CHUNK):
        n = min(CHUNK, CUSTOMERS - start)
        log = simulate_transactions(
            rng, PARAMS_DAYS, births[start : start + n], end=float(DAYS), spend=SPEND
        )
        parts["customer"].append((log.customer + start).astype(np.int32))
        parts["t"].append(log.t)
        parts["amount"].append(log.amount)
    customer = np.concatenate(parts["customer"])
    t = np.concatenate(parts["t"])
    amount = np.concatenate(parts["amount"]).astype(np.int64)
    n = len(customer)
    day = np.minimum(t.astype(np.int64), DAYS - 1)
    local = day * DAY + _times_of_day(rng, n)
    order = np.argsort(local, kind="stable")
    customer, day, local, amount = customer[order], day[order], local[order], amount[order]
    t = t[order]

    u = rng.random(n)
    refunded = np.zeros(n, dtype=np.int64)
    full = u < 0.03
    part = (u >= 0.03) & (u < 0.11) & (amount >= 2)
    refunded[full] = amount[full]
    share = rng.uniform(0.1, 0.9, n)
    refunded[part] = np.clip(np.rint(amount[part] * share[part]), 1, amount[part] - 1)

    elsewhere = rng.random(n) >= 0.85
    store = home[customer]
    store[elsewhere] = rng.choice(STORES, size=int(elsewhere.sum()), p=popularity) + 1
    in_group = (t >= join_day[customer]) & (rng.random(n) < 0.70)
    by_guide = (guide[customer] > 0) & (rng.random(n) < 0.25)
    by_distributor = (distributor[customer] > 0) & (rng.random(n) < 0.50)
    campaign = np.where(rng.random(n) < 0.06, day // 30 + 1, 0)
    live = np.where(rng.random(n) < 0.01, rng.integers(1, LIVE_ROOMS + 1, n), 0)
    return {
        "customer": customer.astype(np.int64) + 1,  # customer ids 1..CUSTOMERS
        "day": day,
        "utc": local - UTC_OFFSET + _epoch(START),
        "amount": amount,
        "refunded": refunded,
        "store": store,
        "group": np.where(in_group, group[customer], 0),
        "guide": np.where(by_guide, guide[customer], 0),
        "distributor": np.where(by_distributor, distributor[customer], 0),
        "campaign": campaign,
        "live": live,
        # what ActiveDay needs besides the sales
        "births": births,
        "join_day": join_day,
    }


def _epoch(day: date) -> int:
    return int(datetime.combine(day, datetime.min.time(), tzinfo=UTC).timestamp())


def active_days(rng: np.random.Generator, sales: dict[str, np.ndarray]) -> tuple[Any, Any, Any]:
    """(day, customer, kinds) of every active day, ordered by day then customer."""
    customer, day = sales["customer"], sales["day"]
    keys = [(day << 21) | customer]  # customer ids < 2**21
    flags = [np.full(len(customer), 1, dtype=np.int64)]  # ordered
    orders = np.bincount(customer, minlength=CUSTOMERS + 1)[1:]
    last = np.zeros(CUSTOMERS + 1, dtype=np.int64)
    np.maximum.at(last, customer, day)
    births = sales["births"].astype(np.int64)
    ids = np.arange(1, CUSTOMERS + 1, dtype=np.int64)
    # visits without an order: about 3 for 10 orders, between the first order and 60 days
    # after the last
    visits = rng.poisson(0.3 * orders)
    who = np.repeat(ids, visits)
    lo = births[who - 1]
    hi = np.minimum(last[who] + 60, DAYS)
    when = lo + (rng.random(len(who)) * np.maximum(hi - lo, 1)).astype(np.int64)
    keys.append((np.minimum(when, DAYS - 1) << 21) | who)
    flags.append(np.full(len(who), 4, dtype=np.int64))
    # members: the day they joined, and a few days with a message in the group chat
    join = sales["join_day"]
    member = np.isfinite(join) & (join < DAYS)
    joined = ids[member]
    join_days = join[member].astype(np.int64)
    keys.append((join_days << 21) | joined)
    flags.append(np.full(len(joined), 8, dtype=np.int64))
    chats = rng.poisson(2.0, len(joined))
    who = np.repeat(joined, chats)
    start = np.repeat(join_days, chats)
    when = start + (rng.random(len(who)) * (DAYS - start)).astype(np.int64)
    keys.append((np.minimum(when, DAYS - 1) << 21) | who)
    flags.append(np.full(len(who), 2, dtype=np.int64))
    key = np.concatenate(keys)
    flag = np.concatenate(flags)
    order = np.argsort(key, kind="stable")
    key, flag = key[order], flag[order]
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    kinds = np.bitwise_or.reduceat(flag, first)
    key = key[first]
    return key >> 21, key & ((1 << 21) - 1), kinds


# --- writing --------------------------------------------------------------------------


def _nullable(values: np.ndarray) -> list[Any]:
    return [v if v else "\\N" for v in values.tolist()]


def copy_sales(conn: Any, merchant_id: int, sales: dict[str, np.ndarray], bar: Any) -> int:
    from siyu.analytics.models import Sale

    varying = [
        "order_id",
        "customer_id",
        "placed_at",
        "day",
        "amount",
        "refunded",
        "store_id",
        "channel",
        "group_id",
        "guide_id",
        "distributor_id",
        "campaign_id",
        "live_room_id",
    ]
    table = Table(Sale, varying, {"merchant_id": merchant_id, "source": "siyu"}, "now()")
    n = len(sales["customer"])
    clock = Clock(_epoch(START) - DAY, _epoch(END) + DAY)
    days = [_day_text(d) for d in range(DAYS)]
    tail = table.tail
    with conn.cursor().copy(table.copy_sql()) as copy:
        for lo in range(0, n, COPY_ROWS):
            hi = min(n, lo + COPY_ROWS)
            live = sales["live"][lo:hi]
            channel = np.where(live > 0, "live", "storefront").tolist()
            columns = zip(
                range(lo + 1, hi + 1),
                sales["customer"][lo:hi].tolist(),
                sales["utc"][lo:hi].tolist(),
                sales["day"][lo:hi].tolist(),
                sales["amount"][lo:hi].tolist(),
                sales["refunded"][lo:hi].tolist(),
                sales["store"][lo:hi].tolist(),
                channel,
                _nullable(sales["group"][lo:hi]),
                _nullable(sales["guide"][lo:hi]),
                _nullable(sales["distributor"][lo:hi]),
                _nullable(sales["campaign"][lo:hi]),
                _nullable(live),
                strict=True,
            )
            copy.write(
                "".join(
                    [
                        f"{o}\t{c}\t{clock.text(u)}\t{days[d]}\t{a}\t{r}\t{s}\t{ch}\t{g}\t{gu}"
                        f"\t{di}\t{ca}\t{li}{tail}"
                        for o, c, u, d, a, r, s, ch, g, gu, di, ca, li in columns
                    ]
                )
            )
            bar.update(hi - lo)
    return n


def copy_active_days(conn: Any, merchant_id: int, rows: tuple[Any, Any, Any], bar: Any) -> int:
    from siyu.analytics.models import ActiveDay

    table = Table(ActiveDay, ["day", "customer_id", "kinds"], {"merchant_id": merchant_id}, "")
    day, customer, kinds = rows
    days = [_day_text(d) for d in range(DAYS)]
    tail = table.tail
    n = len(day)
    with conn.cursor().copy(table.copy_sql()) as copy:
        for lo in range(0, n, COPY_ROWS * 2):
            hi = min(n, lo + COPY_ROWS * 2)
            columns = zip(
                day[lo:hi].tolist(), customer[lo:hi].tolist(), kinds[lo:hi].tolist(), strict=True
            )
            copy.write("".join([f"{days[d]}\t{c}\t{k}{tail}" for d, c, k in columns]))
            bar.update(hi - lo)
    return n


def build(conninfo: str, seed: int) -> dict[str, Any]:
    """Fill the (migrated) database; answer the row counts and the time of each step."""
    import psycopg
    from tqdm import tqdm

    from siyu.analytics.models import ActiveDay, Sale
    from siyu.core.models import Merchant

    if Merchant.objects.filter(slug=SLUG).exists() or Sale.unscoped.exists():
        raise SystemExit("the database is not empty: use --rebuild")
    merchant = Merchant.objects.create(
        slug=SLUG, name="瑞幸咖啡（分析基准）", legal_name="Luckin analytics bench"
    )
    seconds: dict[str, float] = {}
    started = time.monotonic()
    sales = simulate(seed)
    ad = active_days(np.random.default_rng(seed + 1), sales)
    seconds["simulate"] = round(time.monotonic() - started, 1)
    tables = [Sale._meta.db_table, ActiveDay._meta.db_table]
    started = time.monotonic()
    with detached(conninfo, tables), psycopg.connect(conninfo) as conn:
        conn.execute("SET synchronous_commit = off")
        with tqdm(total=len(sales["customer"]), desc="sales", unit="row", file=sys.stderr) as bar:
            n_sales = copy_sales(conn, merchant.pk, sales, bar)
        with tqdm(total=len(ad[0]), desc="active days", unit="row", file=sys.stderr) as bar:
            n_active = copy_active_days(conn, merchant.pk, ad, bar)
        conn.commit()
        seconds["copy"] = round(time.monotonic() - started, 1)
        started = time.monotonic()
    seconds["indexes"] = round(time.monotonic() - started, 1)
    started = time.monotonic()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for table in tables:
            conn.execute(f'VACUUM (ANALYZE) "{table}"')
    seconds["vacuum_analyze"] = round(time.monotonic() - started, 1)
    refunded = sales["refunded"]
    return {
        "customers": CUSTOMERS,
        "buyers": len(np.unique(sales["customer"])),
        "sales": n_sales,
        "active_days": n_active,
        "fully_refunded": int((refunded == sales["amount"]).sum()),
        "partly_refunded": int(((refunded > 0) & (refunded < sales["amount"])).sum()),
        "stores": len(np.unique(sales["store"])),
        "from": START.isoformat(),
        "to": (END - timedelta(days=1)).isoformat(),
        "seconds": seconds,
    }


def built(conninfo: str) -> dict[str, Any] | None:
    import psycopg

    with psycopg.connect(conninfo) as conn:
        if conn.execute("SELECT to_regclass(%s)", [MARKER]).fetchone()[0] is None:  # type: ignore[index]
            return None
        row = conn.execute(f"SELECT built_at, seed, counts, build_seconds, size FROM {MARKER}")
        found = row.fetchone()
    if found is None:
        return None
    return dict(zip(("built_at", "seed", "counts", "build_seconds", "size"), found, strict=True))


def ensure(conninfo: str, *, seed: int = 2026, rebuild: bool = False) -> dict[str, Any]:
    """The dataset in ``conninfo``'s database: built now unless it already was."""
    import psycopg

    ensure_database(conninfo, rebuild=rebuild)
    started = time.monotonic()
    setup_django(url_for(conninfo))
    marker = built(conninfo)
    if marker is not None:
        print(
            f"analytics dataset already built on {marker['built_at']:%Y-%m-%d %H:%M} "
            f"(--rebuild to redo): {json.dumps(marker['counts'])}",
            file=sys.stderr,
        )
        return marker
    counts = build(conninfo, seed)
    total = round(time.monotonic() - started)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        size = conn.execute(
            "SELECT pg_size_pretty(pg_database_size(current_database()))"
        ).fetchone()[0]  # type: ignore[index]
        conn.execute(
            f"CREATE TABLE {MARKER} (built_at timestamptz, seed int, counts jsonb,"
            " build_seconds int, size text)"
        )
        conn.execute(
            f"INSERT INTO {MARKER} VALUES (now(), %s, %s, %s, %s)",
            [seed, json.dumps(counts), total, size],
        )
    print(f"built in {total} s; database {size}: {json.dumps(counts)}", file=sys.stderr)
    marker = built(conninfo)
    assert marker is not None
    return marker


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres",
        metavar="URL",
        default="postgres://postgres@127.0.0.1:5432/postgres",
        help="the PostgreSQL server (its database name is ignored)",
    )
    parser.add_argument("--database", default=DATABASE, help=f"default {DATABASE}")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--rebuild", action="store_true", help="drop the database and build again")
    opts = parser.parse_args(argv)
    ensure(conninfo_for(opts.postgres, opts.database), seed=opts.seed, rebuild=opts.rebuild)
    return 0


if __name__ == "__main__":
    sys.exit(main())
