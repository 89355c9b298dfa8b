"""Daily rollups of the sales and activity facts, kept current with every fact write (ADR 0008).

A dashboard must not slow down as history grows, so the overview, the cohorts and the
activity counts read small per-day tables instead of every sale. Every figure they hold is
exact, distinct customers included, because what a customer contributes to them depends only
on that customer's own facts (docs/metrics.md, "Rollups"):

* :class:`~siyu.analytics.models.SalesDay` — the additive sums per local day, for the merchant
  and per store, group, guide, distributor, campaign and source;
* :class:`~siyu.analytics.models.BuyersDay` — kept sales per day by the day of the customer's
  previous (and second-previous) kept sale: distinct buyers, repeat buyers and new buyers of
  any period are sums over it;
* :class:`~siyu.analytics.models.CohortDay` — kept sales per day by the month of the
  customer's first kept sale: the cohort matrix is a sum over it;
* :class:`~siyu.analytics.models.ActivityDay` — active customers per day by their previous
  active day: DAU, WAU and MAU are sums over it.

Maintenance. :func:`maintained` wraps a write of some customers' facts: before the write it
subtracts everything those customers contribute (computed from their facts as they are),
after it adds it back (computed from their facts as they now are), in the writer's
transaction. On PostgreSQL a transaction-level advisory lock per customer makes two writers of
one customer take turns, and a share lock on the merchant's :class:`RollupState` row keeps a
rebuild out meanwhile. The contributions are the same SQL :func:`rebuild` runs over the whole
merchant, so the incremental and the rebuilt rollups agree (a property test holds them to it).

An import that is large against the merchant's history marks the rollups stale
(:func:`suspend`) and rebuilds them once at its end; readers (:func:`ready`) use the facts
meanwhile. A small one keeps them batch by batch, as every other write does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

from django.db import connection, transaction

from siyu.analytics.models import (
    ActiveDay,
    ActivityDay,
    BuyersDay,
    CohortDay,
    RollupState,
    Sale,
    SalesDay,
)
from siyu.core import clock
from siyu.core.models import Merchant

__all__ = [
    "NONE_DAY",
    "ROLLUP_DIMENSIONS",
    "fact_rows",
    "maintained",
    "ready",
    "rebuild",
    "suspend",
]

NONE_DAY = date(1, 1, 1)  # "no earlier day" in a ``since`` column
LOCK_SPACE = 0x51_5901  # first key of the per-customer advisory locks (second: the customer)
CHAIN = "siyu_rollup_chain"  # the temporary table of a rebuild

SOURCE_SQL = (
    "CASE WHEN c.live_room_id IS NOT NULL THEN 'live'"
    " WHEN c.campaign_id IS NOT NULL THEN 'campaign'"
    " WHEN c.distributor_id IS NOT NULL THEN 'distributor'"
    " WHEN c.guide_id IS NOT NULL THEN 'guide'"
    " WHEN c.group_id IS NOT NULL THEN 'group'"
    " ELSE 'organic' END"
)
# Dimension → the key expression over the chained sales ``c`` (NULL ids are not rolled up).
ROLLUP_DIMENSIONS = {
    "store": "c.store_id",
    "group": "c.group_id",
    "guide": "c.guide_id",
    "distributor": "c.distributor_id",
    "campaign": "c.campaign_id",
    "source": SOURCE_SQL,
}


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


def _table(model: Any) -> str:
    return _qn(model._meta.db_table)


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _execute(sql: str, params: Sequence[Any] = ()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))  # always a list: SQLite then reads "%%" as "%"
        return max(cursor.rowcount, 0)


def _ids_clause(column: str, ids: Sequence[int]) -> tuple[str, list[Any]]:
    if _pg():
        return f"{column} = ANY(%s)", [list(ids)]
    return f"{column} IN (SELECT value FROM json_each(%s))", [json.dumps(list(ids))]  # noqa: S608


def _month_start(column: str) -> str:
    if _pg():
        return f"CAST(date_trunc('month', {column}) AS DATE)"
    return f"strftime('%%Y-%%m-01', {column})"


# --- the chained facts ---------------------------------------------------------------------------


def _sale_chain(where: str) -> str:
    """Each sale with ``k`` (1 if kept: not refunded in full) and, for kept sales, the day of
    the customer's previous and second-previous kept sale and of their first (ties on the
    time broken by id)."""
    sale = _table(Sale)
    return f"""
        SELECT x.*,
               CASE WHEN x.k = 1 THEN LAG(x.day, 1) OVER o END AS prev,
               CASE WHEN x.k = 1 THEN LAG(x.day, 2) OVER o END AS prev2,
               CASE WHEN x.k = 1 THEN MIN(x.day) OVER (PARTITION BY x.customer_id, x.k) END
                   AS first_day
        FROM (SELECT s.id, s.customer_id, s.placed_at, s.day, s.amount, s.refunded,
                     s.store_id, s.group_id, s.guide_id, s.distributor_id, s.campaign_id,
                     s.live_room_id,
                     CASE WHEN s.refunded = 0 OR s.refunded < s.amount THEN 1 ELSE 0 END AS k
              FROM {sale} s WHERE {where}) x
        WINDOW o AS (PARTITION BY x.customer_id, x.k ORDER BY x.placed_at, x.id)
    """  # noqa: S608


def _activity_chain(where: str) -> str:
    active = _table(ActiveDay)
    return f"""
        SELECT a.day, LAG(a.day) OVER (PARTITION BY a.customer_id ORDER BY a.day) AS prev
        FROM {active} a WHERE {where}
    """  # noqa: S608


# --- contributions -------------------------------------------------------------------------------


def _upsert(model: Any, columns: Sequence[str], keys: Sequence[str], select: str) -> str:
    """``INSERT … SELECT … ON CONFLICT (keys) DO UPDATE`` adding the new values to the old."""
    table = _table(model)
    values = [c for c in columns if c not in keys]
    adds = ", ".join(f"{_qn(c)} = {table}.{_qn(c)} + excluded.{_qn(c)}" for c in values)
    return (
        f"INSERT INTO {table} ({', '.join(_qn(c) for c in columns)}) {select}"
        f" ON CONFLICT ({', '.join(_qn(k) for k in keys)}) DO UPDATE SET {adds}"
    )


SALES_COLUMNS = (
    "merchant_id",
    "day",
    "dim",
    "key",
    "gmv",
    "refunds",
    "paid_orders",
    "refund_count",
    "full_refunds",
    "orders",
    "first_orders",
)


def _sales_day_sql(relation: str, sign: int) -> str:
    sums = (
        f"{sign} * SUM(c.amount), {sign} * SUM(c.refunded), {sign} * COUNT(*),"
        f" {sign} * SUM(CASE WHEN c.refunded > 0 THEN 1 ELSE 0 END), {sign} * SUM(1 - c.k),"
        f" {sign} * SUM(c.k), {sign} * SUM(CASE WHEN c.k = 1 AND c.prev IS NULL THEN 1 ELSE 0 END)"
    )
    parts = [
        f"SELECT %(m)s, c.day, '', '', {sums} FROM {relation} c WHERE 1 = 1 GROUP BY c.day"  # noqa: S608
    ]
    for dim, key in ROLLUP_DIMENSIONS.items():
        parts.append(
            f"SELECT %(m)s, c.day, '{dim}', CAST({key} AS TEXT), {sums} FROM {relation} c"  # noqa: S608
            f" WHERE {key} IS NOT NULL GROUP BY c.day, {key}"
        )
    return _upsert(
        SalesDay, SALES_COLUMNS, ("merchant_id", "dim", "key", "day"), " UNION ALL ".join(parts)
    )


def _buyers_day_sql(relation: str, sign: int) -> str:
    select = f"""
        SELECT %(m)s, b.day, b.since, {sign} * SUM(b.n1), {sign} * SUM(b.n2) FROM (
            SELECT c.day, COALESCE(c.prev, %(none)s) AS since, 1 AS n1, 0 AS n2
            FROM {relation} c WHERE c.k = 1
            UNION ALL
            SELECT c.day, COALESCE(c.prev2, %(none)s), 0, 1 FROM {relation} c WHERE c.k = 1
        ) b WHERE 1 = 1 GROUP BY b.day, b.since
    """  # noqa: S608
    columns = ("merchant_id", "day", "since", "after_prev", "after_prev2")
    return _upsert(BuyersDay, columns, ("merchant_id", "day", "since"), select)


def _cohort_day_sql(relation: str, sign: int) -> str:
    first_in_month = (
        f"CASE WHEN c.prev IS NULL OR c.prev < {_month_start('c.day')} THEN 1 ELSE 0 END"
    )
    select = f"""
        SELECT %(m)s, {_month_start("c.first_day")}, c.day, {sign} * SUM({first_in_month}),
               {sign} * COUNT(*), {sign} * SUM(c.amount - c.refunded)
        FROM {relation} c WHERE c.k = 1 GROUP BY {_month_start("c.first_day")}, c.day
    """  # noqa: S608
    columns = ("merchant_id", "cohort", "day", "customers", "orders", "net")
    return _upsert(CohortDay, columns, ("merchant_id", "cohort", "day"), select)


def _activity_day_sql(relation: str, sign: int) -> str:
    select = f"""
        SELECT %(m)s, a.day, COALESCE(a.prev, %(none)s), {sign} * COUNT(*)
        FROM {relation} a WHERE 1 = 1 GROUP BY a.day, COALESCE(a.prev, %(none)s)
    """  # noqa: S608
    columns = ("merchant_id", "day", "since", "customers")
    return _upsert(ActivityDay, columns, ("merchant_id", "day", "since"), select)


def _bind(sql: str, merchant: Merchant, extra: Sequence[Any]) -> tuple[str, list[Any]]:
    """The statement with ``%(m)s`` and ``%(none)s`` turned into positional parameters, in
    order of appearance, followed by ``extra`` for the chain's own ``%s``."""
    none = connection.ops.adapt_datefield_value(NONE_DAY)
    params: list[Any] = []
    out = []
    rest = sql
    while True:
        positions = [(rest.find(tag), tag) for tag in ("%(m)s", "%(none)s", "%s") if tag in rest]
        if not positions:
            out.append(rest)
            break
        at, tag = min(positions)
        out.append(rest[:at] + "%s")
        rest = rest[at + len(tag) :]
        params.append(merchant.pk if tag == "%(m)s" else none if tag == "%(none)s" else None)
    # The chain's "%s" placeholders take ``extra`` in order.
    supply = iter(extra)
    params = [next(supply) if p is None else p for p in params]
    return "".join(out), params


def _apply_sales(merchant: Merchant, customer_ids: Sequence[int], sign: int) -> None:
    ids_sql, ids_params = _ids_clause("s.customer_id", customer_ids)
    chain = _sale_chain(f"s.merchant_id = {int(merchant.pk)} AND {ids_sql}")
    for build in (_sales_day_sql, _buyers_day_sql, _cohort_day_sql):
        sql, params = _bind(f"WITH c0 AS ({chain}) " + build("c0", sign), merchant, ids_params)
        _execute(sql, params)


def _apply_activity(merchant: Merchant, customer_ids: Sequence[int], sign: int) -> None:
    ids_sql, ids_params = _ids_clause("a.customer_id", customer_ids)
    chain = _activity_chain(f"a.merchant_id = {int(merchant.pk)} AND {ids_sql}")
    sql, params = _bind(
        f"WITH a0 AS ({chain}) " + _activity_day_sql("a0", sign), merchant, ids_params
    )
    _execute(sql, params)


# --- state ---------------------------------------------------------------------------------------


def ready(merchant: Merchant) -> bool:
    """Whether ``merchant``'s rollups agree with its facts (readers use them only then)."""
    state = RollupState.objects.filter(merchant_id=merchant.pk).values_list("ready", flat=True)
    return next(iter(state), True)


def _ready_for_update(merchant: Merchant, *, exclusive: bool) -> bool:
    """The merchant's state row, locked on PostgreSQL: shared by writers of facts, exclusive
    for a rebuild (so a rebuild waits for writers in flight, and they for it)."""
    table = _table(RollupState)
    _execute(
        f"INSERT INTO {table} (merchant_id, ready) VALUES (%s, %s)"  # noqa: S608
        " ON CONFLICT (merchant_id) DO NOTHING",
        [merchant.pk, True],
    )
    lock = (" FOR UPDATE" if exclusive else " FOR SHARE") if _pg() else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ready FROM {table} WHERE merchant_id = %s{lock}", [merchant.pk])  # noqa: S608
        (is_ready,) = cursor.fetchone()
    return bool(is_ready)


def _lock_customers(customer_ids: Sequence[int]) -> None:
    if _pg() and customer_ids:
        keys = sorted({int(i) % 2_147_483_647 for i in customer_ids})
        _execute(
            "SELECT count(pg_advisory_xact_lock(%s, k)) FROM unnest(%s::int[]) AS k",
            [LOCK_SPACE, keys],
        )


MANY_CUSTOMERS = 64


@contextmanager
def maintained(
    merchant: Merchant,
    customer_ids: Iterable[int],
    *,
    sales: bool = True,
    activity: bool = False,
) -> Iterator[None]:
    """Keep the rollups current across a write of ``customer_ids``' facts done inside the
    block: their sales (``sales``) and/or their active days (``activity``). Runs the block
    in a transaction; does nothing more while the merchant's rollups are stale.

    A write of more than :data:`MANY_CUSTOMERS` customers (a batch of an import) takes the
    merchant's state row exclusively instead of a lock per customer: PostgreSQL keeps
    advisory locks in a shared table of a few thousand entries, which a batch's ten thousand
    customers would overflow, and such a batch touches most of the locks there are anyway."""
    ids = sorted({int(i) for i in customer_ids})
    with transaction.atomic():
        many = len(ids) > MANY_CUSTOMERS
        active = bool(ids) and _ready_for_update(merchant, exclusive=many)
        if active and not many:
            _lock_customers(ids)
        if active:
            if sales:
                _apply_sales(merchant, ids, -1)
            if activity:
                _apply_activity(merchant, ids, -1)
        yield
        if active:
            if sales:
                _apply_sales(merchant, ids, 1)
            if activity:
                _apply_activity(merchant, ids, 1)


def fact_rows(merchant: Merchant) -> tuple[int, int]:
    """The merchant's sales and active days, as its rollups count them (cheap: per-day
    sums); what an import weighs itself against (:func:`.importer.runner.maintains_rollups`)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COALESCE(SUM(paid_orders), 0) FROM {_table(SalesDay)} "  # noqa: S608
            "WHERE merchant_id = %s AND dim = ''",
            [merchant.pk],
        )
        (sales,) = cursor.fetchone()
        cursor.execute(
            f"SELECT COALESCE(SUM(customers), 0) FROM {_table(ActivityDay)} "  # noqa: S608
            "WHERE merchant_id = %s",
            [merchant.pk],
        )
        (days,) = cursor.fetchone()
    return int(sales), int(days)


def suspend(merchant: Merchant) -> None:
    """Mark ``merchant``'s rollups stale (before a large import): writes stop maintaining
    them and readers read the facts until :func:`rebuild` runs."""
    with transaction.atomic():
        _ready_for_update(merchant, exclusive=True)
        RollupState.objects.filter(merchant_id=merchant.pk).update(ready=False)


ROLLUP_MODELS = (SalesDay, BuyersDay, CohortDay, ActivityDay)


def rebuild(merchant: Merchant) -> dict[str, int]:
    """Build ``merchant``'s rollups again from all its facts, in one transaction, and mark
    them ready; the rows of each rollup table."""
    with transaction.atomic():
        _ready_for_update(merchant, exclusive=True)
        if _pg():
            # Sorting every sale by customer is the cost; let it happen in memory.
            _execute("SET LOCAL work_mem = '256MB'")
            _execute("SET LOCAL jit = off")
        for model in ROLLUP_MODELS:
            model.unscoped.filter(merchant_id=merchant.pk).delete()
        m = int(merchant.pk)
        for name, select, builders in (
            (
                CHAIN,
                _sale_chain(f"s.merchant_id = {m}"),
                (_sales_day_sql, _buyers_day_sql, _cohort_day_sql),
            ),
            (CHAIN + "_a", _activity_chain(f"a.merchant_id = {m}"), (_activity_day_sql,)),
        ):
            # Dropped at once, not ON COMMIT: a rebuild may run twice in one transaction.
            _execute(f"DROP TABLE IF EXISTS {name}")
            _execute(f"CREATE TEMPORARY TABLE {name} AS {select}")
            for build in builders:
                sql, params = _bind(build(name, 1), merchant, ())
                _execute(sql, params)
            _execute(f"DROP TABLE {name}")
        RollupState.objects.filter(merchant_id=merchant.pk).update(ready=True, built_at=clock.now())
        return {
            model._meta.model_name or "": model.unscoped.filter(merchant_id=merchant.pk).count()
            for model in ROLLUP_MODELS
        }
