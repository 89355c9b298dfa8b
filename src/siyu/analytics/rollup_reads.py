"""Reading the daily rollups (``analytics.rollups``): the unfiltered figures of the overview,
its monthly and weekly buckets, the activity counts and the month cohorts.

Each function answers for the whole merchant, exactly as the statements over the facts in
``metrics_sql`` and ``cohorts`` do (tests hold the two to agreement); the callers use them when
nothing is filtered and :func:`siyu.analytics.rollups.ready` says the rollups are current. A
year's overview then sums about 365 rows of ``SalesDay`` and a few hundred thousand of
``BuyersDay`` instead of reading every sale of the year.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db import connection

from siyu.analytics import metrics_sql as q
from siyu.analytics.models import ActivityDay, BuyersDay, CohortDay, SalesDay
from siyu.analytics.reference import SaleStats
from siyu.analytics.rollups import NONE_DAY
from siyu.core.models import Merchant

SALES_DAY = SalesDay._meta.db_table
BUYERS_DAY = BuyersDay._meta.db_table
COHORT_DAY = CohortDay._meta.db_table
ACTIVITY_DAY = ActivityDay._meta.db_table


def _as_date(expression: str) -> str:
    """A bucket's ISO text as a date (PostgreSQL compares dates with dates only)."""
    return f"CAST({expression} AS DATE)" if connection.vendor == "postgresql" else expression


def sale_buckets(
    merchant: Merchant, boundaries: Sequence[date], dim: str = "", key: str = ""
) -> dict[date, SaleStats]:
    """The sales figures of each bucket ``[boundaries[i], boundaries[i + 1])``, keyed by its
    first day: the sums from ``SalesDay``; buyers, repeat and new buyers from ``BuyersDay``
    (for the whole merchant only: a dimension's key gives the sums, buyers left at 0)."""
    cuts = list(boundaries)
    start, end = q.db_date(cuts[0]), q.db_date(cuts[-1])
    bucket = q.bucket_sql("s.day", cuts)
    sums = q.fetch(
        f"SELECT {bucket}, SUM(s.gmv), SUM(s.refunds), SUM(s.paid_orders),"  # noqa: S608
        " SUM(s.refund_count), SUM(s.full_refunds), SUM(s.orders), SUM(s.first_orders)"
        f" FROM {SALES_DAY} s WHERE s.merchant_id = %s AND s.dim = %s AND s.key = %s"
        f" AND s.day >= %s AND s.day < %s GROUP BY {bucket}",
        [merchant.pk, dim, key, start, end],
    )
    buyers: dict[date, tuple[int, int, int]] = {}
    if not dim:
        for b, first, second, new in q.fetch(
            f"""SELECT t.b,
                       SUM(CASE WHEN t.since < {_as_date("t.b")} THEN t.after_prev ELSE 0 END),
                       SUM(CASE WHEN t.since < {_as_date("t.b")} THEN t.after_prev2 ELSE 0 END),
                       SUM(CASE WHEN t.since = %s THEN t.after_prev ELSE 0 END)
                FROM (SELECT {bucket} AS b, s.since, s.after_prev, s.after_prev2
                      FROM {BUYERS_DAY} s
                      WHERE s.merchant_id = %s AND s.day >= %s AND s.day < %s) t
                GROUP BY t.b""",  # noqa: S608
            [q.db_date(NONE_DAY), merchant.pk, start, end],
        ):
            buyers[q.as_date(b)] = (int(first or 0), int(second or 0), int(new or 0))
    result = {}
    for b, gmv, refunds, paid, refund_n, full_n, kept, _first_orders in sums:
        day = q.as_date(b)
        distinct, two, new = buyers.get(day, (0, 0, 0))
        result[day] = SaleStats(
            gmv=int(gmv or 0),
            refunds=int(refunds or 0),
            paid_orders=int(paid or 0),
            refund_count=int(refund_n or 0),
            full_refund_count=int(full_n or 0),
            orders=int(kept or 0),
            buyers=distinct,
            repeat_buyers=two - distinct,
            new_buyers=new,
        )
    return result


def daily(merchant: Merchant, start: date, end: date) -> dict[date, SaleStats]:
    """The figures of each day of ``[start, end)`` with a sale: the sums, and the day's
    buyers (its kept sales whose previous one was on an earlier day); new buyers not."""
    params = [merchant.pk, q.db_date(start), q.db_date(end)]
    buyers = {
        q.as_date(day): int(n or 0)
        for day, n in q.fetch(
            f"SELECT s.day, SUM(CASE WHEN s.since < s.day THEN s.after_prev ELSE 0 END)"  # noqa: S608
            f" FROM {BUYERS_DAY} s WHERE s.merchant_id = %s AND s.day >= %s AND s.day < %s"
            " GROUP BY s.day",
            params,
        )
    }
    rows = q.fetch(
        f"SELECT s.day, SUM(s.gmv), SUM(s.refunds), SUM(s.paid_orders), SUM(s.refund_count),"  # noqa: S608
        f" SUM(s.full_refunds), SUM(s.orders) FROM {SALES_DAY} s"
        " WHERE s.merchant_id = %s AND s.dim = '' AND s.key = '' AND s.day >= %s AND s.day < %s"
        " GROUP BY s.day",
        params,
    )
    result = {}
    for day, gmv, refunds, paid, refund_n, full_n, kept in rows:
        at = q.as_date(day)
        result[at] = SaleStats(
            gmv=int(gmv or 0),
            refunds=int(refunds or 0),
            paid_orders=int(paid or 0),
            refund_count=int(refund_n or 0),
            full_refund_count=int(full_n or 0),
            orders=int(kept or 0),
            buyers=buyers.get(at, 0),
        )
    return result


def dimension_sums(merchant: Merchant, start: date, end: date, dim: str) -> dict[str, SaleStats]:
    """The additive figures of ``[start, end)`` per key of a rolled-up dimension (no buyers)."""
    rows = q.fetch(
        f"SELECT s.key, SUM(s.gmv), SUM(s.refunds), SUM(s.paid_orders), SUM(s.refund_count),"  # noqa: S608
        f" SUM(s.full_refunds), SUM(s.orders) FROM {SALES_DAY} s"
        " WHERE s.merchant_id = %s AND s.dim = %s AND s.day >= %s AND s.day < %s GROUP BY s.key",
        [merchant.pk, dim, q.db_date(start), q.db_date(end)],
    )
    return {key: SaleStats(*(int(n or 0) for n in numbers)) for key, *numbers in rows}


def activity_counts(
    merchant: Merchant, start: date, end: date, week: date, month: date
) -> tuple[int, int, int, int]:
    """Active customers of ``[start, end)``, active customer-days in it, and the active
    customers of ``[week, end)`` and ``[month, end)``."""
    first = min(start, week, month)
    params: list[Any] = []
    parts = []
    for since in (start, None, week, month):
        if since is None:
            parts.append("SUM(CASE WHEN a.day >= %s THEN a.customers ELSE 0 END)")
            params.append(q.db_date(start))
        else:
            parts.append("SUM(CASE WHEN a.day >= %s AND a.since < %s THEN a.customers ELSE 0 END)")
            params.extend([q.db_date(since), q.db_date(since)])
    ((active, pairs, wau, mau),) = q.fetch(
        f"SELECT {', '.join(parts)} FROM {ACTIVITY_DAY} a"  # noqa: S608
        " WHERE a.merchant_id = %s AND a.day >= %s AND a.day < %s",
        [*params, merchant.pk, q.db_date(first), q.db_date(end)],
    )
    return int(active or 0), int(pairs or 0), int(wau or 0), int(mau or 0)


def has_activity(merchant: Merchant, start: date, end: date) -> bool:
    return ActivityDay.unscoped.filter(
        merchant_id=merchant.pk, day__gte=start, day__lt=end, customers__gt=0
    ).exists()


def cohort_cells(
    merchant: Merchant, first: date, end: date, as_of: date
) -> list[tuple[int, int, int, int, int]]:
    """``(cohort month number, cohort month number, months since, customers, net)`` of the
    cohorts whose month starts in ``[first, end)``, counting kept sales before ``as_of``."""
    cohort = q.month_number_sql("s.cohort")
    since = f"{q.month_number_sql('s.day')} - {cohort}"
    rows = q.fetch(
        f"SELECT {cohort}, {cohort}, {since}, SUM(s.customers), SUM(s.net)"  # noqa: S608
        f" FROM {COHORT_DAY} s WHERE s.merchant_id = %s AND s.day < %s"
        " AND s.cohort >= %s AND s.cohort < %s"
        f" GROUP BY {cohort}, {since}",
        [merchant.pk, q.db_date(as_of), q.db_date(first), q.db_date(end)],
    )
    return [
        (int(a), int(b), int(k), int(n or 0), int(net or 0))
        for a, b, k, n, net in rows
        if int(n or 0) or int(net or 0)
    ]
