"""Per-customer totals of the sales facts, for the CRM's customer statistics (ADR 0007).

The customer page, the customer list and the segment rules read statistics stored on
``customers.Customer``; they come from here, so imported history counts and the numbers agree
with the analytics definitions (``docs/metrics.md``):

* over a customer's **kept** sales (not refunded in full; Siyu's and imported alike):
  ``orders`` = their count, ``net`` = the sum of ``amount - refunded``, ``first_at`` /
  ``last_at`` = the earliest / latest ``placed_at``;
* RFM scores exactly as :mod:`siyu.analytics.rfm` scores them over all history: among the
  customers with a kept sale, score = 1 + ⌊5 × (customers with a strictly worse value) ÷
  customers⌋, worse meaning an earlier last order day (local ``day``), fewer orders, less
  net money.

The set-based functions return a ``SELECT`` (SQL and parameters) that the customers app joins
into its own ``UPDATE … FROM``: the facts are read by this app's SQL, the customer rows are
written by the customers app, and one statement covers a whole merchant (1.8 M customers) or
a list of customers. :func:`totals_of` is one customer's totals.
"""

# ruff: noqa: S608  (table names come from the models; values are query parameters)

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Max, Min, Q, Sum
from django.db.models import F as Field

from siyu.analytics import metrics_sql as q
from siyu.analytics.models import Sale
from siyu.analytics.reference import Filters

__all__ = [
    "CustomerTotals",
    "kept_sale_exists",
    "rfm_select",
    "totals_of",
    "totals_select",
]

# A kept sale, as an ORM filter (the SQL form is metrics_sql.KEPT).
KEPT_Q = Q(refunded=0) | Q(refunded__lt=Field("amount"))


@dataclass(frozen=True)
class CustomerTotals:
    first_at: datetime | None
    last_at: datetime | None
    orders: int
    net: int


def _where(merchant_id: int, customer_ids: Sequence[int] | None) -> q.Where:
    where = q.Where()
    where.add("s.merchant_id = %s", merchant_id)
    where.add(q.KEPT)
    if customer_ids is not None:
        q.customer_filter(where, Filters(customer_ids=list(customer_ids)), "s.customer_id")
    return where


def totals_select(
    merchant_id: int, customer_ids: Sequence[int] | None = None
) -> tuple[str, list[Any]]:
    """``SELECT customer_id, first_at, last_at, orders, net`` — one row per customer of the
    merchant with a kept sale (only those of ``customer_ids`` when given)."""
    where = _where(merchant_id, customer_ids)
    sql = (
        "SELECT s.customer_id AS customer_id, MIN(s.placed_at) AS first_at,"
        " MAX(s.placed_at) AS last_at, COUNT(*) AS orders,"
        " CAST(SUM(s.amount - s.refunded) AS BIGINT) AS net"
        f" FROM {q.SALE} s WHERE {where.sql} GROUP BY s.customer_id"
    )
    return sql, list(where.params)


def _score(column: str) -> str:
    """1 + ⌊5 × (rows with a strictly smaller ``column``) ÷ rows⌋, in integers."""
    return f"1 + (5 * (RANK() OVER (ORDER BY {column}) - 1)) / COUNT(*) OVER ()"


def rfm_select(merchant_id: int) -> tuple[str, list[Any]]:
    """``SELECT customer_id, r, f, m`` — the RFM scores of every customer of the merchant with
    a kept sale (quintiles need them all, so there is no per-customer form)."""
    where = _where(merchant_id, None)
    sql = (
        f"SELECT t.customer_id AS customer_id, {_score('t.last_day')} AS r,"
        f" {_score('t.orders')} AS f, {_score('t.net')} AS m FROM ("
        "SELECT s.customer_id AS customer_id, MAX(s.day) AS last_day, COUNT(*) AS orders,"
        " SUM(s.amount - s.refunded) AS net"
        f" FROM {q.SALE} s WHERE {where.sql} GROUP BY s.customer_id) t"
    )
    return sql, list(where.params)


def kept_sale_exists(merchant_id: int, customer_column: str) -> tuple[str, list[Any]]:
    """``EXISTS (…)``: the customer named by ``customer_column`` (a column of the caller's
    statement) has a kept sale (one probe on the ``(merchant, customer_id, placed_at)``
    index)."""
    sql = (
        f"EXISTS (SELECT 1 FROM {q.SALE} s WHERE s.merchant_id = %s"
        f" AND s.customer_id = {customer_column} AND {q.KEPT})"
    )
    return sql, [merchant_id]


def totals_of(merchant_id: int, customer_id: int) -> CustomerTotals:
    """One customer's totals over their kept sales."""
    row = (
        Sale.unscoped.filter(KEPT_Q, merchant_id=merchant_id, customer_id=customer_id)
        .order_by()
        .aggregate(
            first=Min("placed_at"),
            last=Max("placed_at"),
            orders=Count("id"),
            net=Sum(Field("amount") - Field("refunded")),
        )
    )
    return CustomerTotals(row["first"], row["last"], row["orders"] or 0, int(row["net"] or 0))
