"""The community-uplift estimator's inputs, read from the facts (``analytics.uplift`` is pure).

Kept sales (not refunded in full) per customer and calendar month, each customer's first-order
month, and the month of their first group join (``GroupSpan``), months counted in the
merchant's time zone, as the arrays :func:`siyu.analytics.uplift.estimate` takes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.db.models import Min

from siyu.analytics import metrics_sql as q
from siyu.analytics import uplift
from siyu.analytics.models import GroupSpan
from siyu.core import clock
from siyu.core.models import Merchant


@dataclass(frozen=True)
class UpliftInputs:
    activity: uplift.MonthlyActivity
    acquired: np.ndarray
    joined: np.ndarray
    first_month: int  # the month number (year * 12 + month - 1) of position 0


def uplift_inputs(merchant: Merchant) -> UpliftInputs | None:
    """The estimator's arrays from the sales facts and group spans; None without sales."""
    month = q.month_number_sql("s.day")
    rows = q.fetch(
        f"SELECT s.customer_id, {month}, COUNT(*), SUM(s.amount - s.refunded) FROM {q.SALE} s"  # noqa: S608
        f" WHERE s.merchant_id = %s AND {q.KEPT} GROUP BY s.customer_id, {month}",
        [merchant.pk],
    )
    if not rows:
        return None
    zone = clock.zone(merchant.time_zone)
    joins = {
        int(r["customer_id"]): r["first"].astimezone(zone)
        for r in GroupSpan.unscoped.filter(merchant_id=merchant.pk)
        .values("customer_id")
        .annotate(first=Min("joined_at"))
        .order_by()
    }
    join_month = {c: at.year * 12 + at.month - 1 for c, at in joins.items()}
    customers = sorted({int(r[0]) for r in rows} | set(join_month))
    position = {c: i for i, c in enumerate(customers)}
    months = [int(r[1]) for r in rows]
    first = min(min(months), min(join_month.values(), default=months[0]))
    last = max(max(months), max(join_month.values(), default=months[0]))
    cust = np.array([position[int(r[0])] for r in rows], dtype=np.int64)
    mon = np.array(months, dtype=np.int64) - first
    activity = uplift.MonthlyActivity.from_entries(
        cust,
        mon,
        np.array([int(r[2]) for r in rows]),
        np.array([int(r[3] or 0) for r in rows]),
        n_customers=len(customers),
        n_months=last - first + 1,
    )
    acquired = np.full(len(customers), -1, dtype=np.int64)
    order = np.argsort(mon, kind="stable")
    for c, m in zip(cust[order][::-1], mon[order][::-1], strict=True):
        acquired[c] = m  # walking from the last month back, the first month wins
    joined = np.full(len(customers), -1, dtype=np.int64)
    for c, m in join_month.items():
        joined[position[c]] = m - first
    return UpliftInputs(activity, acquired, joined, first)
