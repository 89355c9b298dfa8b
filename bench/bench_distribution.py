"""Settling distributor commission: completed orders past their return window.

``SIYU_BENCH_SETTLE_ORDERS`` completed orders (1,000,000 by default on PostgreSQL,
200,000 on SQLite), one line each, each with a pending commission entry, are written by
set-based SQL (copies of one real order made through the services) and vacuumed; then
``services.settle_merchant`` settles them all — the hourly job's one ``INSERT … SELECT``
per merchant, timed with its commit — and runs again with nothing left to settle (the
anti-join on its own). Every entry is then checked: one settled entry per pending one, of
the same amount, and the distributor's balances are the sums.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Sum

from harness import Result
from siyu.core import clock
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_merchant
from siyu.distribution import selectors, services
from siyu.distribution.models import CommissionEntry
from siyu.distribution.testing import distributed_order, make_distributor, set_default_rate
from siyu.orders.models import Order, OrderLine


def _count() -> int:
    default = 1_000_000 if connection.vendor == "postgresql" else 200_000
    return int(os.environ.get("SIYU_BENCH_SETTLE_ORDERS", default))


def _copy_sql(model: type, base_id: int, replace: dict[str, str], source: str, where: str) -> str:
    fields = [f.column for f in model._meta.concrete_fields if not f.primary_key]
    table = model._meta.db_table
    values = [replace.get(c, f"b.{c}") for c in fields]
    return (
        f"INSERT INTO {table} ({', '.join(fields)}) SELECT {', '.join(values)} "
        f"FROM {table} b, {source} WHERE b.id = {base_id} {where}"
    )


def _fill(n: int, order: Order) -> None:
    line = OrderLine.unscoped.get(order=order)
    entry = CommissionEntry.unscoped.get(order=order)
    series = f"(WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {n}) SELECT n FROM g) s"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            _copy_sql(Order, order.pk, {"number": "'B' || s.n", "pickup_code": "''"}, series, "")
        )
        cursor.execute(
            _copy_sql(
                OrderLine,
                line.pk,
                {"order_id": "o.id"},
                "orders_order o",
                "AND o.number LIKE 'B%%'",
            )
        )
        cursor.execute(
            _copy_sql(
                CommissionEntry,
                entry.pk,
                {"order_id": "l.order_id", "order_line_id": "l.id"},
                "orders_orderline l",
                f"AND l.id > {line.pk}",
            )
        )
    if connection.vendor == "postgresql":
        # VACUUM as autovacuum would have long before: orders settle a week after completion,
        # so their rows' hint bits are set; without it the first scan of the just-written
        # orders (1.6 GB at 1 M) rewrites every page, which is the fill's cost, not settling's.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE orders_order")
            cursor.execute("VACUUM ANALYZE orders_orderline")
            cursor.execute("VACUUM ANALYZE distribution_commissionentry")


def run() -> list[Result]:
    n = _count()
    merchant = make_merchant(slug="bench-distribution", name="Bench Distribution")
    set_default_rate(merchant, 1000)
    distributor = make_distributor(merchant)
    order = distributed_order(merchant, distributor, status="completed")
    started = time.perf_counter()
    _fill(n, order)
    fill_seconds = time.perf_counter() - started
    total = n + 1
    assert CommissionEntry.unscoped.filter(kind="pending").count() == total
    later = clock.now() + timedelta(days=8)
    with merchant_context(merchant):
        started = time.perf_counter()
        settled = services.settle_merchant(merchant, now=later)
        settle_seconds = time.perf_counter() - started
        started = time.perf_counter()
        again = services.settle_merchant(merchant, now=later)
        again_seconds = time.perf_counter() - started
    assert (settled, again) == (total, 0), (settled, again)
    with merchant_context(merchant):
        balances = selectors.balances(distributor)
        pending = CommissionEntry.objects.filter(kind="pending").aggregate(n=Sum("amount"))["n"]
    assert balances.settled == balances.earned == pending, balances
    assert balances.pending == 0, balances
    return [
        Result(
            "settle commission of completed orders",
            "s",
            settle_seconds,
            total,
            "one INSERT … SELECT per merchant, with its commit; target < 60 s for 1 M on PostgreSQL",
        ),
        Result(
            "settle commission of completed orders",
            "orders/s",
            total / settle_seconds,
            total,
            "",
        ),
        Result("settle again, nothing left", "s", again_seconds, total, "the anti-join alone"),
        Result("write the orders, lines and entries", "s", fill_seconds, total, "set-based SQL"),
    ]
