"""Customer statistics, kept current from order events, and RFM scores.

Definitions (money in fen):

* a **paid order** is an order with ``paid_at`` set — an order cancelled before
  it was paid never counts; a paid order refunded later still counts, with the
  refunded money taken off;
* ``order_count`` — the customer's paid orders;
* ``total_spent`` — the sum over paid orders of ``total - refunded_total``;
* ``average_order_value`` — ``total_spent // order_count`` (0 without orders);
* ``first_order_at`` / ``last_order_at`` — the earliest / latest ``placed_at``
  of a paid order;
* **RFM** scores 1–5, 5 best, ranked across the merchant's customers who have
  paid orders (0 for the others): R by ``last_order_at`` (more recent is
  better, i.e. fewer days since the last order), F by ``order_count``, M by
  ``total_spent``. A score is the quintile of the customer's percent rank
  (``PERCENT_RANK()``: the share of customers strictly below them), so equal
  values always share a score: score = 1 + ⌊5 × rank⌋, at most 5.

:func:`recompute` (one customer) runs from the outbox consumer on order and
refund events (:mod:`siyu.customers.consumers`), which also writes the
``ordered`` / ``paid`` / ``refunded`` timeline entries. :func:`recompute_all`
and :func:`score_rfm` are set-based (a few ``UPDATE … FROM`` statements) and run
nightly, after the demo and on demand.
"""

# ruff: noqa: S608  (table names come from the models; values are query parameters)

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Count, Max, Min, Sum
from django.db.models import F as Field

from siyu.core import clock
from siyu.core.models import Merchant
from siyu.customers.models import Customer

RFM_FIELDS = ("rfm_recency", "rfm_frequency", "rfm_monetary")


@dataclass(frozen=True)
class CustomerStats:
    first_order_at: datetime | None
    last_order_at: datetime | None
    order_count: int
    total_spent: int

    @property
    def average_order_value(self) -> int:
        return average(self.total_spent, self.order_count)


def average(total_spent: int, order_count: int) -> int:
    return total_spent // order_count if order_count else 0


def quintile(percent_rank: float) -> int:
    """The 1–5 score of a percent rank in [0, 1] (pure; the SQL below computes the same)."""
    return min(5, 1 + int(percent_rank * 5))


def compute(customer_id: int) -> CustomerStats:
    """The statistics of one customer of the bound merchant, from their orders."""
    from siyu.orders.models import Order

    row = Order.objects.filter(customer_id=customer_id, paid_at__isnull=False).aggregate(
        first=Min("placed_at"),
        last=Max("placed_at"),
        count=Count("id"),
        spent=Sum(Field("total") - Field("refunded_total")),
    )
    return CustomerStats(row["first"], row["last"], row["count"] or 0, int(row["spent"] or 0))


def recompute(customer_id: int) -> CustomerStats:
    """Recompute and store one customer's statistics (RFM scores wait for the nightly run,
    except that a customer without paid orders scores 0)."""
    stats = compute(customer_id)
    changes = {
        "first_order_at": stats.first_order_at,
        "last_order_at": stats.last_order_at,
        "order_count": stats.order_count,
        "total_spent": stats.total_spent,
        "average_order_value": stats.average_order_value,
        "stats_updated_at": clock.now(),
    }
    if not stats.order_count:
        changes.update(rfm_recency=0, rfm_frequency=0, rfm_monetary=0)
    Customer.objects.filter(pk=customer_id).update(**changes)
    return stats


# --- set-based, the whole merchant --------------------------------------------------------


def _tables() -> tuple[str, str]:
    from siyu.orders.models import Order

    qn = connection.ops.quote_name
    return qn(Customer._meta.db_table), qn(Order._meta.db_table)


def recompute_all(merchant: Merchant) -> int:
    """Recompute every customer's statistics of ``merchant`` in three statements; the number of
    customers with paid orders."""
    customers, orders = _tables()
    now = connection.ops.adapt_datetimefield_value(clock.now())
    with transaction.atomic(), connection.cursor() as cursor:
        # 1. customers with paid orders: one aggregate joined in
        cursor.execute(
            f"""
            UPDATE {customers} SET
                first_order_at = agg.first_at,
                last_order_at = agg.last_at,
                order_count = agg.n,
                total_spent = agg.spent,
                average_order_value = agg.spent / agg.n,
                stats_updated_at = %s
            FROM (
                SELECT customer_id, MIN(placed_at) AS first_at, MAX(placed_at) AS last_at,
                       COUNT(*) AS n, CAST(SUM(total - refunded_total) AS BIGINT) AS spent
                FROM {orders}
                WHERE merchant_id = %s AND paid_at IS NOT NULL
                GROUP BY customer_id
            ) AS agg
            WHERE {customers}.id = agg.customer_id AND {customers}.merchant_id = %s
            """,
            [now, merchant.pk, merchant.pk],
        )
        with_orders = cursor.rowcount
        # 2. everyone else back to zero (only rows that are not zero already)
        cursor.execute(
            f"""
            UPDATE {customers} SET
                first_order_at = NULL, last_order_at = NULL, order_count = 0,
                total_spent = 0, average_order_value = 0,
                rfm_recency = 0, rfm_frequency = 0, rfm_monetary = 0,
                stats_updated_at = %s
            WHERE merchant_id = %s
              AND (order_count <> 0 OR total_spent <> 0 OR last_order_at IS NOT NULL
                   OR rfm_recency <> 0 OR rfm_frequency <> 0 OR rfm_monetary <> 0)
              AND NOT EXISTS (
                SELECT 1 FROM {orders} o
                WHERE o.customer_id = {customers}.id AND o.paid_at IS NOT NULL
              )
            """,
            [now, merchant.pk],
        )
    return max(with_orders, 0)


def _score(column: str) -> str:
    rank = f"PERCENT_RANK() OVER (ORDER BY {column})"
    return (
        f"CASE WHEN {rank} < 0.2 THEN 1 WHEN {rank} < 0.4 THEN 2 "
        f"WHEN {rank} < 0.6 THEN 3 WHEN {rank} < 0.8 THEN 4 ELSE 5 END"
    )


def score_rfm(merchant: Merchant) -> int:
    """Quintile RFM scores of ``merchant``'s customers with orders (others 0); the number scored.

    Reads the stored statistics: run :func:`recompute_all` first when they may be stale."""
    customers, _orders = _tables()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {customers} SET
                rfm_recency = s.r, rfm_frequency = s.f, rfm_monetary = s.m
            FROM (
                SELECT id,
                       {_score("last_order_at")} AS r,
                       {_score("order_count")} AS f,
                       {_score("total_spent")} AS m
                FROM {customers}
                WHERE merchant_id = %s AND order_count > 0
            ) AS s
            WHERE {customers}.id = s.id
            """,
            [merchant.pk],
        )
        scored = cursor.rowcount
        cursor.execute(
            f"""
            UPDATE {customers} SET rfm_recency = 0, rfm_frequency = 0, rfm_monetary = 0
            WHERE merchant_id = %s AND order_count = 0
              AND (rfm_recency <> 0 OR rfm_frequency <> 0 OR rfm_monetary <> 0)
            """,
            [merchant.pk],
        )
    return max(scored, 0)


def refresh_merchant(merchant: Merchant) -> tuple[int, int]:
    """The nightly run for one merchant: statistics, then RFM scores."""
    return recompute_all(merchant), score_rfm(merchant)


def refresh_all_merchants() -> int:
    """The nightly job: every active merchant; the number of merchants refreshed."""
    done = 0
    for merchant in Merchant.objects.order_by("pk"):
        refresh_merchant(merchant)
        done += 1
    return done
