"""Cohorts: customers grouped by the month of their first order (or their join channel),
followed month by month since; and the N-month repurchase rate of one month's cohort.

Definitions in docs/metrics.md and ``analytics.reference`` (``cohort_matrix``,
``cohort_repurchase``), which these SQL versions are tested to agree with. Only kept sales
(not refunded in full) before ``as_of`` count. Filters here are the customer's: a segment's
ids and join channels (a cohort is a set of customers, not of sales).

Scale: finding each customer's first order groups every kept sale of the merchant by
customer; at a chain's size this wants the per-customer first-order rollup the lead builds
next (docs/metrics.md, "Scale").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.utils.translation import gettext_lazy as _

from siyu.analytics import metrics_sql as q
from siyu.analytics import rollup_reads, rollups
from siyu.analytics.reference import (
    NO_FILTERS,
    CohortCell,
    CohortRepurchase,
    CohortRow,
    Filters,
    Period,
    add_months,
    month_index,
    month_label,
    month_start,
)
from siyu.core.errors import InvalidInput
from siyu.core.models import Merchant

COHORT_KEYS = ("month", "channel")


@dataclass(frozen=True)
class CohortMatrix:
    """A heatmap's data: one row per cohort, one column per month since the first order."""

    by: str
    rows: list[CohortRow]

    @property
    def width(self) -> int:
        return max((len(row.cells) for row in self.rows), default=0)

    def heatmap(self, value: str = "retention") -> list[list[Any]]:
        """``[[column, row, value], ...]`` as ECharts' heatmap series takes it."""
        points = []
        for y, row in enumerate(self.rows):
            for cell in row.cells:
                points.append([cell.months_since, y, getattr(cell, value)])
        return points


def _kept_sales_sql(
    merchant: Merchant, as_of: date, filters: Filters, by: str
) -> tuple[str, list[Any]]:
    """Every kept sale (before ``as_of``) of the filtered customers with its customer's first
    kept sale day beside it (a window over the customer's sales: one pass, no self-join) and,
    by channel, the customer's join channel."""
    where = q.Where()
    where.add("s.merchant_id = %s", merchant.pk)
    where.add("s.day < %s", q.db_date(as_of))
    where.add(q.KEPT)
    q.customer_filter(where, filters, "s.customer_id")
    need_customer = where.needs_customer or by == "channel"
    join = q.customer_join("s", "s.customer_id") if need_customer else ""
    channel = ", COALESCE(c.join_channel, '') AS channel" if by == "channel" else ""
    sql = (
        "SELECT s.customer_id AS customer_id, s.day AS day, s.amount - s.refunded AS net,"  # noqa: S608
        f" MIN(s.day) OVER (PARTITION BY s.customer_id) AS first_day{channel}"
        f" FROM {q.SALE} s{join} WHERE {where.sql}"
    )
    return sql, where.params


def cohort_matrix(
    merchant: Merchant,
    period: Period,
    as_of: date,
    by: str = "month",
    filters: Filters = NO_FILTERS,
) -> CohortMatrix:
    """Customers whose first order fell in ``period``, by acquisition month (or join
    channel) × months since: buyers, net sales, retention and revenue per customer.

    One scan of the merchant's kept sales: a window gives each sale its customer's first day,
    and one GROUP BY counts the cohort's sizes (month 0 of each first month) and every cell.
    """
    if by not in COHORT_KEYS:
        raise InvalidInput(
            _("Unknown cohort key."), fields={"by": _("must be “month” or “channel”")}
        )
    # Rollups hold cohorts by month: exact when the period starts a month and ends one, or
    # ends no earlier than ``as_of`` (no later first sale has a sale before ``as_of``).
    aligned = period.start == month_start(period.start) and (
        period.end == month_start(period.end) or as_of <= period.end
    )
    if by == "month" and aligned and filters.empty and rollups.ready(merchant):
        rows_found: list[Any] = rollup_reads.cohort_cells(merchant, period.start, period.end, as_of)
    else:
        sales, params = _kept_sales_sql(merchant, as_of, filters, by)
        first_month = q.month_number_sql("f.first_day")
        key_sql = first_month if by == "month" else "f.channel"
        since = f"{q.month_number_sql('f.day')} - {first_month}"
        rows_found = q.fetch(
            f"SELECT {key_sql}, {first_month}, {since},"  # noqa: S608
            " COUNT(DISTINCT f.customer_id), SUM(f.net)"
            f" FROM ({sales}) f WHERE f.first_day >= %s AND f.first_day < %s"
            f" GROUP BY {key_sql}, {first_month}, {since}",
            [*params, q.db_date(period.start), q.db_date(period.end)],
        )
    sizes = [(key, first, n) for key, first, k, n, _net in rows_found if int(k) == 0]
    merged: dict[tuple[Any, int], tuple[int, int]] = {}
    for key, _first, k, n, net in rows_found:
        buyers, money = merged.get((key, int(k)), (0, 0))
        merged[(key, int(k))] = (buyers + int(n), money + int(net or 0))
    cells = [(key, k, n, net) for (key, k), (n, net) in merged.items()]
    last_month = month_index(as_of - timedelta(days=1))

    def label(key: Any) -> str:
        return month_label(int(key)) if by == "month" else str(key)

    starts: dict[str, dict[int, int]] = defaultdict(dict)
    for key, first, count in sizes:
        starts[label(key)][int(first)] = int(count)
    found: dict[tuple[str, int], tuple[int, int]] = {
        (label(key), int(k)): (int(n), int(net or 0)) for key, k, n, net in cells
    }
    rows = []
    for key in sorted(starts):
        months = starts[key]
        top = last_month - min(months)
        row_cells = tuple(
            CohortCell(
                months_since=k,
                eligible=sum(n for first, n in months.items() if first + k <= last_month),
                buyers=found.get((key, k), (0, 0))[0],
                net_sales=found.get((key, k), (0, 0))[1],
            )
            for k in range(top + 1)
        )
        rows.append(CohortRow(key=key, size=sum(months.values()), cells=row_cells))
    return CohortMatrix(by=by, rows=rows)


def cohort_repurchase(
    merchant: Merchant,
    month: date,
    months: int,
    as_of: date,
    filters: Filters = NO_FILTERS,
) -> CohortRepurchase:
    """The N-month repurchase rate of the customers whose first order was in ``month``:
    the share with a second kept sale on or before the same day ``months`` later."""
    if months < 1:
        raise InvalidInput(_("N must be at least 1."), fields={"months": _("at least 1")})
    month = month_start(month)
    next_month = add_months(month, 1)
    where = q.Where()
    where.add("s.merchant_id = %s", merchant.pk)
    where.add("s.day >= %s", q.db_date(month))
    where.add("s.day < %s", q.db_date(min(next_month, as_of)))
    where.add(q.KEPT)
    q.customer_filter(where, filters, "s.customer_id")
    join = q.customer_join("s", "s.customer_id") if where.needs_customer else ""
    # Customers with a kept sale in the month; their first two kept sales ever, in order.
    sql = f"""
        SELECT r.customer_id,
               MAX(CASE WHEN r.n = 1 THEN r.day END), MAX(CASE WHEN r.n = 2 THEN r.day END)
        FROM (
            SELECT s.customer_id, s.day,
                   ROW_NUMBER() OVER (PARTITION BY s.customer_id ORDER BY s.placed_at, s.id) AS n
            FROM {q.SALE} s
            WHERE s.merchant_id = %s AND s.day < %s AND {q.KEPT}
              AND s.customer_id IN (SELECT DISTINCT s.customer_id FROM {q.SALE} s{join}
                                    WHERE {where.sql})
        ) r
        WHERE r.n <= 2
        GROUP BY r.customer_id
    """  # noqa: S608
    rows = q.fetch(sql, [merchant.pk, q.db_date(as_of), *where.params])
    customers = repurchased = 0
    for _customer, first, second in rows:
        first_day = q.as_date(first)
        if not month <= first_day < next_month:
            continue  # their first order was earlier
        customers += 1
        if second is not None and q.as_date(second) <= add_months(first_day, months):
            repurchased += 1
    last_day = next_month - timedelta(days=1)
    return CohortRepurchase(
        month=month,
        months=months,
        customers=customers,
        repurchased=repurchased,
        complete=add_months(last_day, months) < as_of,
    )
