"""Sales and activity metrics of a merchant, in SQL over the fact tables (docs/metrics.md).

Each function takes the merchant, a :class:`Period` ``[start, end)`` of local days, and
optional :class:`Filters` (store, group, guide, join channel, distributor, campaign and a
segment's customer ids); ``by`` groups by one of :data:`DIMENSIONS`. They compute what
``analytics.reference`` defines over plain lists, and tests hold the two to agreement.

Reads only: ``Sale`` and ``ActiveDay`` (and ``Customer.join_channel`` for the channel
dimension). The console shows :data:`DEFINITIONS` next to each number.

Scale: every query is bounded by the period through the ``(merchant, day)`` index; the
first-order probe uses ``(merchant, customer_id, placed_at)``. A year's overview of a chain
still reads every sale of that year, so the overview is the first thing to move to the daily
rollups (see docs/metrics.md, "Scale").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.utils.translation import gettext_lazy as _

from siyu.analytics import metrics_sql as q
from siyu.analytics import rollup_reads, rollups
from siyu.analytics.models import ActiveDay
from siyu.analytics.reference import (
    ACTIVE_MONTH_DAYS,
    ACTIVE_WEEK_DAYS,
    DIMENSIONS,
    NO_FILTERS,
    SOURCES,
    Activity,
    Filters,
    Period,
    SaleStats,
    month_boundaries,
    week_boundaries,
)
from siyu.core.models import Merchant

__all__ = [
    "DEFINITIONS",
    "DIMENSIONS",
    "SOURCES",
    "Activity",
    "Filters",
    "Overview",
    "Period",
    "SaleStats",
    "activity",
    "change",
    "daily",
    "monthly_frequency",
    "overview",
    "sale_stats",
    "source_shares",
    "weekly_repurchases",
]

# One short definition per number the console shows (docs/metrics.md has the long form).
DEFINITIONS = {
    "gmv": _(
        "Paid amount of the period's orders (by the local day they were paid), before refunds."
    ),
    "net_sales": _("GMV minus everything refunded of those orders so far."),
    "paid_orders": _("Orders paid in the period, including those refunded later."),
    "orders": _("Paid orders not refunded in full. Cancelled unpaid orders never count."),
    "buyers": _("Customers with at least one order (not refunded in full) in the period."),
    "aov": _("Average order value: net sales ÷ orders (not refunded in full)."),
    "refunds": _("Amount refunded of the period's orders, counted on the day of the order."),
    "refund_count": _("Orders of the period with any refund; full refunds are shown apart."),
    "frequency": _("Purchase frequency: orders ÷ buyers in the period."),
    "repurchase_rate": _("Share of the period's buyers with two or more orders in it."),
    "cohort_repurchase": _(
        "Of customers whose first order was in the month: share who ordered again within "
        "N months of that first order."
    ),
    "monthly_frequency": _("For each calendar month: orders ÷ buyers of that month."),
    "weekly_repurchases": _(
        "For each week (Monday to Sunday): orders that were not the customer's first order."
    ),
    "new_buyers": _(
        "Buyers whose first order ever (all history, imported included) is in the period."
    ),
    "returning_buyers": _("Buyers who had ordered before the period."),
    "dau": _("Average number of customers active per day (ordered, messaged, visited, joined)."),
    "wau": _("Customers active in the 7 days ending with the period."),
    "mau": _("Customers active in the 30 days ending with the period."),
    "source_share": _(
        "Share of net sales by source; a sale with several goes to the first of: live room, "
        "campaign, distributor, guide, group; none is organic."
    ),
    "change": _("Change against the period of the same length just before; none when it was 0."),
    "retention": _(
        "Share of the cohort's customers who ordered in that month since their first order."
    ),
    "revenue_per_customer": _(
        "Net sales of the cohort in that month ÷ customers of the cohort whose month has begun."
    ),
    "rfm": _(
        "Recency, frequency and monetary value scored 1–5 by quintile among buyers; cells by "
        "recency and the mean of frequency and monetary."
    ),
    "invitations": _("Customers invited in the period (one invitee is invited once)."),
    "invitees_bought": _("Invitees who bought after they were invited."),
    "k_factor": _("Invitees who became customers ÷ customers who invited."),
    "tree_depth": _("Longest chain of invitations: a inviting b inviting c is depth 2."),
    "customers_added": _("Customers who became the guide's (or were bound to the distributor)."),
    "active_customers": _("The guide's or distributor's customers active in the period."),
    "attributed_sales": _("Net sales of the period's orders attributed to them."),
    "commission": _("Commission earned in the period, net of reversals for refunds."),
}


def sale_stats(
    merchant: Merchant,
    period: Period,
    filters: Filters = NO_FILTERS,
    by: str | None = None,
) -> dict[Any, SaleStats]:
    """The sales metrics of ``period``: ``{None: stats}``, or one entry per value of ``by``.

    A period with no sales gives ``{None: SaleStats()}`` (zeros, and None for ratios).
    """
    q.check_dimension(by)
    if by is None and _from_rollups(merchant, filters):
        found = rollup_reads.sale_buckets(merchant, [period.start, period.end])
        return {None: found.get(period.start, SaleStats())}
    group_sql = q.GROUP_SQL[by] if by else "NULL"
    rows = q.sale_stats_rows(merchant, period.start, period.end, filters, group_sql)
    if by is None:
        return {None: rows.get(None, SaleStats())}
    return rows


def source_shares(
    merchant: Merchant, period: Period, filters: Filters = NO_FILTERS
) -> dict[str, tuple[SaleStats, float | None]]:
    """Every source of SOURCES with its sales and its share of the period's net sales (from
    the rollups when nothing is filtered: the sums only, buyers are not split by source)."""
    if _from_rollups(merchant, filters):
        rows: dict[Any, SaleStats] = dict(
            rollup_reads.dimension_sums(merchant, period.start, period.end, "source")
        )
    else:
        rows = sale_stats(merchant, period, filters, by="source")
    total = sum(stats.net_sales for stats in rows.values())
    result = {}
    for source in SOURCES:
        stats = rows.get(source, SaleStats())
        result[source] = (stats, stats.net_sales / total if total else None)
    return result


def monthly_frequency(
    merchant: Merchant, period: Period, filters: Filters = NO_FILTERS
) -> list[tuple[date, SaleStats]]:
    """Per calendar month of the period (cut at its ends): orders, buyers, frequency."""
    return _buckets(merchant, month_boundaries(period), filters)


def weekly_repurchases(
    merchant: Merchant, period: Period, filters: Filters = NO_FILTERS
) -> list[tuple[date, SaleStats]]:
    """Per week from Monday (cut at the period's ends): ``stats.repeat_orders`` is the
    number of orders that were not the customer's first order ever."""
    return _buckets(merchant, week_boundaries(period), filters)


def _from_rollups(merchant: Merchant, filters: Filters) -> bool:
    """Whether to read the daily rollups: nothing filtered and the rollups current."""
    return filters.empty and rollups.ready(merchant)


def _buckets(
    merchant: Merchant, boundaries: list[date], filters: Filters
) -> list[tuple[date, SaleStats]]:
    if _from_rollups(merchant, filters):
        found = rollup_reads.sale_buckets(merchant, boundaries)
        return [(start, found.get(start, SaleStats())) for start in boundaries[:-1]]
    group_sql = q.bucket_sql("s.day", boundaries)
    rows = q.sale_stats_rows(merchant, boundaries[0], boundaries[-1], filters, group_sql)
    by_day = {q.as_date(key): stats for key, stats in rows.items()}
    return [(start, by_day.get(start, SaleStats())) for start in boundaries[:-1]]


def daily(
    merchant: Merchant, period: Period, filters: Filters = NO_FILTERS
) -> list[tuple[date, SaleStats]]:
    """Every day of the period with its GMV, refunds, paid and kept orders and buyers (zeros
    on days without sales); new buyers are not counted per day. From the rollups when
    nothing is filtered; otherwise one scan of the period's sales grouped by day."""
    if _from_rollups(merchant, filters):
        by_day = rollup_reads.daily(merchant, period.start, period.end)
    else:
        by_day = q.daily_rows(merchant, period.start, period.end, filters)
    days = []
    day = period.start
    while day < period.end:
        days.append((day, by_day.get(day, SaleStats())))
        day += timedelta(days=1)
    return days


def activity(merchant: Merchant, period: Period, filters: Filters = NO_FILTERS) -> Activity:
    """DAU (mean per day), WAU and MAU (7 and 30 days ending with the period) and the
    period's active customers.

    Counted from ``ActiveDay``; from sales (a customer who ordered that day) when the
    merchant has no activity facts in the window, or when a filter is on the sale (store,
    group, guide, distributor, campaign), which activity facts do not carry.
    """
    window_start = min(
        period.start,
        period.end - timedelta(days=ACTIVE_MONTH_DAYS),
        period.end - timedelta(days=ACTIVE_WEEK_DAYS),
    )
    week = period.end - timedelta(days=ACTIVE_WEEK_DAYS)
    month = period.end - timedelta(days=ACTIVE_MONTH_DAYS)
    if _from_rollups(merchant, filters) and rollup_reads.has_activity(
        merchant, window_start, period.end
    ):
        active, pairs, wau, mau = rollup_reads.activity_counts(
            merchant, period.start, period.end, week, month
        )
        return Activity(active=active, dau=pairs / period.days, wau=wau, mau=mau, from_sales=False)
    from_sales = filters.on_sale_attributes or not (
        ActiveDay.unscoped.filter(
            merchant_id=merchant.pk, day__gte=window_start, day__lt=period.end
        ).exists()
    )
    if from_sales:
        where = q.sale_where(merchant, window_start, period.end, filters)
        table, day, customer = q.SALE, "s.day", "s.customer_id"
    else:
        where = q.Where()
        where.add("s.merchant_id = %s", merchant.pk)
        where.add("s.day >= %s", q.db_date(window_start))
        where.add("s.day < %s", q.db_date(period.end))
        q.customer_filter(where, filters, "s.customer_id")
        table, day, customer = q.ACTIVE, "s.day", "s.customer_id"
    join = q.customer_join("s", customer) if where.needs_customer else ""
    start = q.db_date(period.start)
    sql = f"""
        SELECT COUNT(DISTINCT CASE WHEN a.day >= %s THEN a.customer_id END),
               SUM(CASE WHEN a.day >= %s THEN 1 ELSE 0 END),
               COUNT(DISTINCT CASE WHEN a.day >= %s THEN a.customer_id END),
               COUNT(DISTINCT CASE WHEN a.day >= %s THEN a.customer_id END)
        FROM (SELECT DISTINCT {day} AS day, {customer} AS customer_id
              FROM {table} s{join} WHERE {where.sql}) a
    """  # noqa: S608
    ((active, pairs, wau, mau),) = q.fetch(
        sql, [start, start, q.db_date(week), q.db_date(month), *where.params]
    )
    return Activity(
        active=int(active or 0),
        dau=int(pairs or 0) / period.days,
        wau=int(wau or 0),
        mau=int(mau or 0),
        from_sales=from_sales,
    )


def change(current: float | None, previous: float | None) -> float | None:
    """Relative change from ``previous`` to ``current``; None when there is nothing to
    compare (previous 0 or unknown)."""
    if current is None or previous is None or previous == 0:
        return None
    return (current - previous) / previous


OVERVIEW_NUMBERS = (
    "gmv",
    "net_sales",
    "paid_orders",
    "orders",
    "buyers",
    "aov",
    "refunds",
    "refund_count",
    "frequency",
    "repurchase_rate",
    "new_buyers",
    "returning_buyers",
)


@dataclass(frozen=True)
class Overview:
    """The overview dashboard: this period and the one before, side by side."""

    period: Period
    current: SaleStats
    previous: SaleStats
    activity: Activity
    previous_activity: Activity
    sources: dict[str, tuple[SaleStats, float | None]]

    def rows(self) -> list[dict[str, Any]]:
        """One row per number: name, definition, value, previous value, change."""
        rows = []
        for name in OVERVIEW_NUMBERS:
            now, before = getattr(self.current, name), getattr(self.previous, name)
            rows.append(_row(name, now, before))
        for name in ("dau", "wau", "mau"):
            now, before = getattr(self.activity, name), getattr(self.previous_activity, name)
            rows.append(_row(name, now, before))
        return rows


def _row(name: str, now: Any, before: Any) -> dict[str, Any]:
    return {
        "name": name,
        "definition": DEFINITIONS[name],
        "value": now,
        "previous": before,
        "change": change(now, before),
    }


def overview(merchant: Merchant, period: Period, filters: Filters = NO_FILTERS) -> Overview:
    """Everything the overview shows, for ``period`` and the period just before it."""
    previous = period.previous()
    return Overview(
        period=period,
        current=sale_stats(merchant, period, filters)[None],
        previous=sale_stats(merchant, previous, filters)[None],
        activity=activity(merchant, period, filters),
        previous_activity=activity(merchant, previous, filters),
        sources=source_shares(merchant, period, filters),
    )
