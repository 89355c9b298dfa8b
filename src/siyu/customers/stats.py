"""Customer statistics and RFM scores, from the analytics sales facts.

The statistics count a customer's whole history — Siyu's own paid orders and history imported
by ``siyu import orders`` — because they are read from the analytics app's sales facts
(``analytics.Sale``, ADR 0007) through :mod:`siyu.analytics.customer_totals`, with the
definitions of ``docs/metrics.md``. Money in fen.

* an **order** is a kept sale: a paid order (or an imported one) not refunded in full; an
  order cancelled before it was paid is never a sale, an order refunded in full does not count;
* ``order_count`` — the customer's orders;
* ``total_spent`` — their net sales: the sum of ``amount - refunded`` (a partial refund takes
  its money off);
* ``average_order_value`` — ``total_spent ÷ order_count`` rounded half up to the fen (as the
  analytics AOV); stored as 0 without orders, and shown "—";
* ``first_order_at`` / ``last_order_at`` — the earliest / latest ``placed_at`` of an order;
* **RFM** scores 1–5, 5 best, among the merchant's customers with orders (0 for the others),
  exactly as ``analytics.rfm`` scores all history: score = 1 + ⌊5 × (customers with a
  strictly worse value) ÷ customers⌋, worse meaning an earlier last order day (in the
  merchant's time zone), fewer orders, less money. Equal values share a score.

When they are refreshed:

* after an order's sale is written — the analytics consumer of ``orders.order.paid`` /
  ``orders.order.refunded`` writes the sale, then calls :func:`sale_recorded` for its
  customer (the statistics must read the sale just written, so it is not a consumer of its
  own), which also runs the customer's auto-tag rules again on the fresh numbers; RFM scores
  wait for the nightly run, except that a customer without orders scores 0;
* after an import of orders — a large one: :func:`recompute_all` once at its end; a small
  one (against the merchant's history): :func:`refresh_customers` for each batch's
  customers; then :func:`score_rfm`, whose quintiles the new sales move for everyone;
* nightly (``crm_tasks.refresh_statistics``), after the demo and on demand —
  :func:`recompute_all` and :func:`score_rfm`, set-based: a few ``UPDATE … FROM`` statements
  per merchant, never one per customer, each writing only the rows whose values change.
"""

# ruff: noqa: S608  (table names come from the models; values are query parameters)

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from siyu.core import clock
from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context
from siyu.customers.models import AutoTagRule, Customer

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
    """``total_spent ÷ order_count`` rounded half up to the fen (0 without orders)."""
    if not order_count:
        return 0
    return (2 * total_spent + order_count) // (2 * order_count)


def compute(customer_id: int) -> CustomerStats:
    """The statistics of one customer, from their sales facts."""
    from siyu.analytics.customer_totals import totals_of

    merchant_id = Customer.unscoped.filter(pk=customer_id).values_list("merchant_id", flat=True)
    found = merchant_id.first()
    if found is None:
        return CustomerStats(None, None, 0, 0)
    totals = totals_of(found, customer_id)
    return CustomerStats(totals.first_at, totals.last_at, totals.orders, totals.net)


def recompute(customer_id: int) -> CustomerStats:
    """Recompute and store one customer's statistics (RFM scores wait for the nightly run,
    except that a customer without orders scores 0)."""
    stats = compute(customer_id)
    changes: dict[str, Any] = {
        "first_order_at": stats.first_order_at,
        "last_order_at": stats.last_order_at,
        "order_count": stats.order_count,
        "total_spent": stats.total_spent,
        "average_order_value": stats.average_order_value,
        "stats_updated_at": clock.now(),
    }
    if not stats.order_count:
        changes.update(rfm_recency=0, rfm_frequency=0, rfm_monetary=0)
    Customer.unscoped.filter(pk=customer_id).update(**changes)
    return stats


# --- set-based: a whole merchant, or a list of its customers -------------------------------


def _customers() -> str:
    return connection.ops.quote_name(Customer._meta.db_table)


def _distinct(old: str, new: str) -> str:
    """``(old…) IS DISTINCT FROM (new…)``: write a row only when a value changes (the nightly
    run over 1.8 M customers then rewrites the few that changed, not all of them)."""
    operator = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    return f"({old}) {operator} ({new})"


def _update_stats(merchant: Merchant, customer_ids: list[int] | None) -> int:
    """Statistics of the merchant's customers (those of ``customer_ids``, or all) in two
    statements; the number of customers whose statistics changed (``stats_updated_at`` is
    when they last changed)."""
    from siyu.analytics import customer_totals

    customers = _customers()
    now = connection.ops.adapt_datetimefield_value(clock.now())
    totals, totals_params = customer_totals.totals_select(merchant.pk, customer_ids)
    kept, kept_params = customer_totals.kept_sale_exists(merchant.pk, f"{customers}.id")
    only, only_params = _only(customer_ids)
    aov = "(2 * agg.net + agg.orders) / (2 * agg.orders)"
    changed = _distinct(
        f"{customers}.order_count, {customers}.total_spent, {customers}.average_order_value,"
        f" {customers}.first_order_at, {customers}.last_order_at",
        f"agg.orders, agg.net, {aov}, agg.first_at, agg.last_at",
    )
    with transaction.atomic(), connection.cursor() as cursor:
        # 1. customers with orders: one aggregate of the facts joined in
        cursor.execute(
            f"""
            UPDATE {customers} SET
                first_order_at = agg.first_at,
                last_order_at = agg.last_at,
                order_count = agg.orders,
                total_spent = agg.net,
                average_order_value = {aov},
                stats_updated_at = %s
            FROM ({totals}) AS agg
            WHERE {customers}.id = agg.customer_id AND {customers}.merchant_id = %s
              AND {changed}
            """,
            [now, *totals_params, merchant.pk],
        )
        written = max(cursor.rowcount, 0)
        # 2. everyone else back to zero (only rows that are not zero already)
        cursor.execute(
            f"""
            UPDATE {customers} SET
                first_order_at = NULL, last_order_at = NULL, order_count = 0,
                total_spent = 0, average_order_value = 0,
                rfm_recency = 0, rfm_frequency = 0, rfm_monetary = 0,
                stats_updated_at = %s
            WHERE merchant_id = %s {only}
              AND (order_count <> 0 OR total_spent <> 0 OR last_order_at IS NOT NULL
                   OR rfm_recency <> 0 OR rfm_frequency <> 0 OR rfm_monetary <> 0)
              AND NOT {kept}
            """,
            [now, merchant.pk, *only_params, *kept_params],
        )
        written += max(cursor.rowcount, 0)
    return written


def _only(customer_ids: list[int] | None) -> tuple[str, list[Any]]:
    """``AND id IN (…)`` for a list of customers (one parameter for a long list)."""
    if customer_ids is None:
        return "", []
    from siyu.analytics import metrics_sql
    from siyu.analytics.reference import Filters

    where = metrics_sql.Where()
    metrics_sql.customer_filter(where, Filters(customer_ids=customer_ids), "id")
    return f"AND {where.sql}", list(where.params)


def recompute_all(merchant: Merchant) -> int:
    """Recompute every customer's statistics of ``merchant`` in two statements; the number of
    customers whose statistics changed."""
    return _update_stats(merchant, None)


def refresh_customers(merchant: Merchant, customer_ids: Iterable[int]) -> int:
    """Recompute the statistics of ``merchant``'s customers of ``customer_ids`` (set-based,
    however many); the number of them whose statistics changed. RFM scores wait for :func:`score_rfm`,
    except that a customer without orders scores 0. Call it after sales facts of these
    customers were written (an order's sale, an import)."""
    ids = sorted({int(i) for i in customer_ids})
    if not ids:
        return 0
    return _update_stats(merchant, ids)


def sale_recorded(merchant: Merchant, customer_id: int) -> None:
    """A sale of ``customer_id`` was just written (the analytics consumer of an order's payment
    or refund calls this): their statistics again, then their auto-tag rules, which read the
    statistics (the rules' own consumer ran on the same event before the sale existed)."""
    from siyu.customers.autotag import apply_rules_to_customer

    refresh_customers(merchant, [customer_id])
    if AutoTagRule.unscoped.filter(merchant_id=merchant.pk, is_active=True).exists():
        with merchant_context(merchant):
            apply_rules_to_customer(customer_id)


def score_rfm(merchant: Merchant) -> int:
    """Quintile RFM scores of ``merchant``'s customers with orders (others 0), from the sales
    facts; the number of customers whose scores changed."""
    from siyu.analytics import customer_totals

    customers = _customers()
    scores, score_params = customer_totals.rfm_select(merchant.pk)
    kept, kept_params = customer_totals.kept_sale_exists(merchant.pk, f"{customers}.id")
    changed = _distinct(
        f"{customers}.rfm_recency, {customers}.rfm_frequency, {customers}.rfm_monetary",
        "s.r, s.f, s.m",
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {customers} SET
                rfm_recency = s.r, rfm_frequency = s.f, rfm_monetary = s.m
            FROM ({scores}) AS s
            WHERE {customers}.id = s.customer_id AND {customers}.merchant_id = %s
              AND {changed}
            """,
            [*score_params, merchant.pk],
        )
        written = max(cursor.rowcount, 0)
        cursor.execute(
            f"""
            UPDATE {customers} SET rfm_recency = 0, rfm_frequency = 0, rfm_monetary = 0
            WHERE merchant_id = %s
              AND (rfm_recency <> 0 OR rfm_frequency <> 0 OR rfm_monetary <> 0)
              AND NOT {kept}
            """,
            [merchant.pk, *kept_params],
        )
        written += max(cursor.rowcount, 0)
    return written


def refresh_merchant(merchant: Merchant) -> tuple[int, int]:
    """Statistics, then RFM scores, of the whole merchant: the nightly run, and what to call
    after an import of orders."""
    return recompute_all(merchant), score_rfm(merchant)


def refresh_all_merchants() -> int:
    """The nightly job: every active merchant; the number of merchants refreshed."""
    done = 0
    for merchant in Merchant.objects.order_by("pk"):
        refresh_merchant(merchant)
        done += 1
    return done
