"""Order windows: each customer's paid orders and spend in the kept windows, per category.

A segment clause such as "spent at least ¥100 in the last 180 days" or "bought from
Coffee at least twice in the last 90 days" groups the orders of the window by customer —
millions of orders at a chain's scale, seconds whatever the index. For the windows kept
here (:data:`KEPT_DAYS`, and all time) the answer is stored per customer instead, in
:class:`~siyu.customers.models.OrderWindow`, and a segment reads it with an index range.

The rows hold exactly what :func:`siyu.customers.rules.evaluate` computes from the orders
and the orders imported from an old system (analytics ``Sale`` rows with ``source =
"import"``: paid orders without lines, so in category 0 only):

* ``days`` 0 is all time; ``days`` N is "the last N days" of the merchant's time zone,
  today and the N − 1 whole days before it (:func:`siyu.customers.rules.window_start`);
* ``category_id`` 0: ``orders`` the paid orders not fully refunded, ``spent`` the money
  kept of every paid order (``total − refunded_total``);
* ``category_id`` C: ``orders`` the paid orders not fully refunded with a line not fully
  refunded whose product is in C's subtree today (a product moved to another category
  moves its history with it, as in the query on the orders).

They are kept current three ways, all by recomputing from the orders (never by adding
deltas, so a replayed or late event cannot make them drift):

* the outbox consumer recomputes one customer's rows on their order and refund events
  (:func:`refresh_customer`);
* a job every few minutes moves the merchant's rows to a new local day (:func:`roll`):
  it recomputes the customers who had an order on a day that just left a window;
* the nightly statistics run rebuilds the merchant from scratch (:func:`rebuild`), as
  does a change of the catalogue's tree (a product or category moved or deleted).

:class:`~siyu.customers.models.OrderWindowState` records the local day the rows describe.
Every writer takes its row lock first, so a roll and an event never interleave. A segment
uses the rows only when they describe today (:func:`kept`); otherwise — the worker is
behind, a rebuild is running, the window is not a kept one — it groups the orders as
before, slower and just as right.
"""

# ruff: noqa: S608  (table names come from the models; values are query parameters)

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import connection, transaction

from siyu.core import clock
from siyu.core.models import Merchant
from siyu.core.tenancy import current_merchant
from siyu.customers.models import OrderWindow, OrderWindowState
from siyu.customers.rules import window_start

ALL_TIME = 0
KEPT_DAYS = (7, 30, 90, 180, 365)
CHUNK = 2_000  # customers per statement when a set of them is recomputed
REBUILD_AFTER_DAYS = 45  # a roll over a longer gap rebuilds instead
REBUILD_WORK_MEM = "256MB"  # PostgreSQL, for the statements of a full rebuild only
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def local_today(now: datetime, time_zone: str) -> date:
    return clock.local(now, time_zone).date()


def starts(today: date, time_zone: str) -> list[tuple[int, datetime]]:
    """(days, first moment) of every kept window on the local day ``today``; all time first."""
    noon = datetime(today.year, today.month, today.day, 12, tzinfo=clock.zone(time_zone))
    return [(ALL_TIME, _EPOCH)] + [(d, window_start(noon, d, time_zone)) for d in KEPT_DAYS]


# --- reading ----------------------------------------------------------------------------


def state_day(merchant_id: int) -> date | None:
    """The local day the bound merchant's rows describe (None: not built, or rebuilding)."""
    return (
        OrderWindowState.objects.filter(merchant_id=merchant_id)
        .values_list("as_of", flat=True)
        .first()
    )


def kept(days: int | None, now: datetime, as_of: date | None) -> bool:
    """May a clause over ``days`` (None: all time) read the rows, given their ``as_of``?"""
    if as_of is None:
        return False
    if days is None:
        return True  # all time does not move with the day
    if days not in KEPT_DAYS:
        return False
    return as_of == local_today(now, current_merchant().time_zone)


# --- writing ----------------------------------------------------------------------------


def _timestamp() -> str:
    return "CAST(%s AS TIMESTAMP WITH TIME ZONE)" if connection.vendor == "postgresql" else "%s"


def _pivot(
    today: date, time_zone: str, column: str, value: str, only: Sequence[int]
) -> tuple[str, list[Any]]:
    """``SUM(CASE WHEN column >= start THEN value ELSE 0 END) AS {prefix}{days}`` per window
    of ``only``. ``value`` names the prefix and the summed expression (``"n:1"``); all time
    has no start.
    """
    prefix, expression = value.split(":", 1)
    adapt = connection.ops.adapt_datetimefield_value
    sums, params = [], []
    for days, start in starts(today, time_zone):
        if days not in only:
            continue
        if days == ALL_TIME:
            sums.append(f"SUM({expression}) AS {prefix}{days}")
        else:
            sums.append(
                f"SUM(CASE WHEN {column} >= {_timestamp()} THEN {expression} ELSE 0 END) "
                f"AS {prefix}{days}"
            )
            params.append(adapt(start))
    return ", ".join(sums), params


def _unpivot(prefix: str, only: Sequence[int]) -> str:
    """The window's column of a pivoted row: ``CASE w.days WHEN 7 THEN per.n7 … END``."""
    whens = " ".join(f"WHEN {d} THEN per.{prefix}{d}" for d in only)
    return f"CASE w.days {whens} END"


def _window_rows(only: Sequence[int]) -> str:
    return f"w (days) AS (VALUES {', '.join(f'({d})' for d in only)})"


EVERY_WINDOW = (ALL_TIME, *KEPT_DAYS)


def _tables() -> dict[str, str]:
    from siyu.analytics.models import Sale
    from siyu.catalog.models import Category, Product
    from siyu.orders.models import Order, OrderLine

    qn = connection.ops.quote_name
    return {
        "windows": qn(OrderWindow._meta.db_table),
        "sales": qn(Sale._meta.db_table),
        "orders": qn(Order._meta.db_table),
        "lines": qn(OrderLine._meta.db_table),
        "products": qn(Product._meta.db_table),
        "categories": qn(Category._meta.db_table),
    }


def _compute(
    merchant: Merchant,
    today: date,
    customer_ids: Sequence[int] | None,
    only: Sequence[int] = EVERY_WINDOW,
) -> None:
    """Delete and insert the rows of ``customer_ids`` (None: every customer) for ``today``,
    of the windows ``only`` (all of them by default).

    Each statement reads the orders once, sums every window side by side (one row per
    customer, or customer and category) and unfolds the sums into a row per window that
    holds a paid order."""
    from siyu.orders.models import Order

    t = _tables()
    tz = merchant.time_zone
    subset, subset_params = "", list[Any]()
    if customer_ids is not None:
        subset = f"AND o.customer_id IN ({', '.join(['%s'] * len(customer_ids))})"
        subset_params = list(customer_ids)
    windows_in = f"days IN ({', '.join(str(d) for d in only)})"
    full = Order.RefundState.FULL.value
    kept_money = "o.kept"
    counted = "o.counted"
    orders_sums, orders_params = _pivot(today, tz, "o.placed_at", f"n:{counted}", only)
    spent_sums, spent_params = _pivot(today, tz, "o.placed_at", f"s:{kept_money}", only)
    paid_sums, paid_params = _pivot(today, tz, "o.placed_at", "c:1", only)
    category_sums, category_params = _pivot(today, tz, "counted.placed_at", "n:1", only)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _plan_for(cursor, every_customer=customer_ids is None)
        cursor.execute(
            f"DELETE FROM {t['windows']} WHERE merchant_id = %s AND {windows_in} "
            + subset.replace("o.customer_id", "customer_id"),
            [merchant.pk, *subset_params],
        )
        cursor.execute(
            f"""
            INSERT INTO {t["windows"]} (merchant_id, customer_id, days, category_id, orders, spent)
            WITH {_window_rows(only)},
            per AS (
                SELECT o.customer_id, {orders_sums}, {spent_sums}, {paid_sums}
                FROM (
                    SELECT o.customer_id, o.placed_at, o.total - o.refunded_total AS kept,
                           CASE WHEN o.refund_state <> '{full}' THEN 1 ELSE 0 END AS counted
                    FROM {t["orders"]} o
                    WHERE o.merchant_id = %s AND o.paid_at IS NOT NULL {subset}
                    UNION ALL
                    SELECT o.customer_id, o.placed_at, o.amount - o.refunded,
                           CASE WHEN o.refunded = 0 OR o.refunded < o.amount THEN 1 ELSE 0 END
                    FROM {t["sales"]} o
                    WHERE o.merchant_id = %s AND o.source = 'import' {subset}
                ) o
                GROUP BY o.customer_id
            )
            SELECT %s, per.customer_id, w.days, 0, {_unpivot("n", only)}, {_unpivot("s", only)}
            FROM per CROSS JOIN w
            WHERE {_unpivot("c", only)} > 0
            """,
            [
                *orders_params,
                *spent_params,
                *paid_params,
                merchant.pk,
                *subset_params,
                merchant.pk,
                *subset_params,
                merchant.pk,
            ],
        )
        cursor.execute(
            f"""
            INSERT INTO {t["windows"]} (merchant_id, customer_id, days, category_id, orders, spent)
            WITH RECURSIVE {_window_rows(only)},
            up (product_id, category_id) AS (
                SELECT id, category_id FROM {t["products"]}
                WHERE merchant_id = %s AND category_id IS NOT NULL
                UNION
                SELECT up.product_id, c.parent_id
                FROM up JOIN {t["categories"]} c ON c.id = up.category_id
                WHERE c.parent_id IS NOT NULL
            ),
            counted AS (
                SELECT DISTINCT o.id, o.customer_id, o.placed_at, up.category_id
                FROM {t["orders"]} o
                JOIN {t["lines"]} l ON l.order_id = o.id
                JOIN up ON up.product_id = l.product_id_snapshot
                WHERE o.merchant_id = %s AND o.paid_at IS NOT NULL AND o.refund_state <> %s
                  AND l.refunded_quantity < l.quantity {subset}
            ),
            per AS (
                SELECT counted.customer_id, counted.category_id, {category_sums}
                FROM counted
                GROUP BY counted.customer_id, counted.category_id
            )
            SELECT %s, per.customer_id, w.days, per.category_id, {_unpivot("n", only)}, 0
            FROM per CROSS JOIN w
            WHERE {_unpivot("n", only)} > 0
            """,
            [merchant.pk, merchant.pk, full, *subset_params, *category_params, merchant.pk],
        )
        if connection.vendor == "postgresql":
            _plan_for(cursor, every_customer=None)


_PLANNER = ("work_mem", "enable_hashagg", "enable_hashjoin", "enable_mergejoin", "jit")


def _plan_for(cursor: Any, *, every_customer: bool | None) -> None:
    """PostgreSQL's plan for the statements that follow, in this transaction only.

    Every customer: sort rather than hash the orders, with room to sort (the hashed plan
    spilled 17 GB at Luckin's scale). A set of customers: nested loops through the
    customer and order-line indexes — a skewed ``customer_id`` makes PostgreSQL guess ten
    times too many orders per customer and scan every order line (22 s for 2,000 customers
    instead of 2), and without JIT, whose compiling cost more than the plan's run. ``None`` puts the settings back for the rest of the
    transaction (an outbox batch goes on after a consumer)."""
    if every_customer is None:
        for name in _PLANNER:
            cursor.execute(f"SET LOCAL {name} TO DEFAULT")
    elif every_customer:
        cursor.execute(f"SET LOCAL work_mem = '{REBUILD_WORK_MEM}'")
        cursor.execute("SET LOCAL enable_hashagg = off")
    else:
        cursor.execute("SET LOCAL enable_hashjoin = off")
        cursor.execute("SET LOCAL enable_mergejoin = off")
        cursor.execute("SET LOCAL jit = off")  # compiling took 0.8 s of a 3 s statement


def _locked_state(merchant: Merchant) -> OrderWindowState:
    OrderWindowState.objects.get_or_create(merchant=merchant)
    return OrderWindowState.objects.select_for_update().get(merchant=merchant)


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    batch: list[int] = []
    for customer_id in ids:
        batch.append(customer_id)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def rebuild(merchant: Merchant, *, now: datetime | None = None) -> date:
    """Recompute every row of ``merchant`` for today; the day they now describe."""
    today = local_today(now or clock.now(), merchant.time_zone)
    with transaction.atomic():
        state = _locked_state(merchant)
        _compute(merchant, today, None)
        state.as_of = today
        state.rebuilt_at = clock.now()
        state.save(update_fields=["as_of", "rebuilt_at"])
    _vacuum()
    return today


def invalidate(merchant: Merchant) -> None:
    """Stop segments reading the rows (until the next :func:`rebuild`)."""
    with transaction.atomic():
        state = _locked_state(merchant)
        if state.as_of is not None:
            state.as_of = None
            state.save(update_fields=["as_of"])


def refresh_customers(merchant: Merchant, customer_ids: Iterable[int]) -> bool:
    """Recompute the rows of ``customer_ids`` (after an import of their orders), in chunks,
    for the day the others describe; nothing to do (False) while the rows are not built."""
    with transaction.atomic():
        state = _locked_state(merchant)
        if state.as_of is None:
            return False
        for chunk in _chunks(customer_ids):
            _compute(merchant, state.as_of, chunk)
    return True


def refresh_customer(customer_id: int) -> bool:
    """Recompute one customer's rows of the bound merchant, for the day the others describe.

    Nothing to do (False) while the merchant's rows are not built: the rebuild will."""
    merchant = current_merchant()
    with transaction.atomic():
        state = _locked_state(merchant)
        if state.as_of is None:
            return False
        _compute(merchant, state.as_of, [customer_id])
    return True


def _left_window(merchant: Merchant, days: int, since: date, today: date) -> list[int]:
    """Customers with a paid order on a day that was in window ``days`` on ``since`` and is
    not today (a range of the ``order_paid_window`` index)."""
    t = _tables()
    adapt = connection.ops.adapt_datetimefield_value
    before = dict(starts(since, merchant.time_zone))[days]
    after = dict(starts(today, merchant.time_zone))[days]
    days_adapt = connection.ops.adapt_datefield_value
    # imported sales are found by their local day (the (merchant, day) index), a day wider
    # on each side than the instants, then cut by the instants
    first, last = before.date() - timedelta(days=1), after.date() + timedelta(days=1)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT customer_id FROM {t['orders']} WHERE merchant_id = %s "
            f"AND paid_at IS NOT NULL AND placed_at >= {_timestamp()} "
            f"AND placed_at < {_timestamp()} "
            f"UNION SELECT customer_id FROM {t['sales']} WHERE merchant_id = %s "
            f"AND source = 'import' AND day >= %s AND day <= %s "
            f"AND placed_at >= {_timestamp()} AND placed_at < {_timestamp()}",
            [
                merchant.pk,
                adapt(before),
                adapt(after),
                merchant.pk,
                days_adapt(first),
                days_adapt(last),
                adapt(before),
                adapt(after),
            ],
        )
        return [row[0] for row in cursor.fetchall()]


def roll(merchant: Merchant, *, now: datetime | None = None) -> int | None:
    """Move ``merchant``'s rows to today: the (customer, window) rows recomputed (None:
    rebuilt in full). Only the windows an order has left are recomputed, per window."""
    today = local_today(now or clock.now(), merchant.time_zone)
    with transaction.atomic():
        state = _locked_state(merchant)
        since = state.as_of
        if since == today:
            return 0
        if since is None or since > today or (today - since).days > REBUILD_AFTER_DAYS:
            _compute(merchant, today, None)
            state.rebuilt_at = clock.now()
            recomputed = None
        else:
            recomputed = 0
            for days in KEPT_DAYS:
                customers = _left_window(merchant, days, since, today)
                for batch in _chunks(customers):
                    _compute(merchant, today, batch, only=(days,))
                recomputed += len(customers)
        state.as_of = today
        state.save(update_fields=["as_of", "rebuilt_at"])
    _vacuum()
    return recomputed


def _vacuum() -> None:
    """Mark the rewritten pages all-visible again (PostgreSQL, outside a transaction).

    Segments read the rows by index-only scans; pages a roll or rebuild rewrote are not
    all-visible until a vacuum, so every row read would fetch its page (530,000 heap fetches
    and 3.5 s instead of 0.5 s for a count at Luckin's scale). Autovacuum would wait for a
    fifth of the table to change. A vacuum reads only the pages not marked."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {_tables()['windows']}")


def roll_all_merchants(*, now: datetime | None = None) -> int:
    """Roll every merchant whose day has changed; how many were rolled or built."""
    from siyu.core.tenancy import merchant_context

    moment = now or clock.now()
    done = 0
    for merchant in Merchant.objects.order_by("pk"):
        as_of = state_day(merchant.pk)
        if as_of == local_today(moment, merchant.time_zone):
            continue
        with merchant_context(merchant):
            roll(merchant, now=moment)
        done += 1
    return done


def window_of(customer_id: int, days: int, category_id: int = 0) -> tuple[int, int]:
    """(orders, spent) stored for one customer (0, 0 without a row); for the console and tests."""
    row = (
        OrderWindow.objects.filter(customer_id=customer_id, days=days, category_id=category_id)
        .values_list("orders", "spent")
        .first()
    )
    return (row[0], row[1]) if row else (0, 0)


__all__ = [
    "ALL_TIME",
    "KEPT_DAYS",
    "invalidate",
    "kept",
    "local_today",
    "rebuild",
    "refresh_customer",
    "refresh_customers",
    "roll",
    "roll_all_merchants",
    "starts",
    "state_day",
]
