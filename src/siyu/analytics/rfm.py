"""RFM: recency, frequency and monetary value scored 1–5 by quintile, and the named cells.

* Inputs per customer with a kept sale before ``as_of`` (``reference.rfm_inputs`` defines
  them): recency = days from their last order's local day to ``as_of``; frequency = kept
  orders; monetary = net sales in fen.
* Score of a value = 1 + ⌊5 × (customers with a strictly worse value) ÷ customers⌋, so equal
  values always get the same score (all one-order customers share the lowest F score) and
  scores run 1–5. Worse is a longer recency, fewer orders, less money.
* The cell comes from R and FM = the mean of F and M rounded half up (the common 11-segment
  map; :data:`CELL_MAP` is the whole grid, written out).

:func:`scores` is pure (tested in isolation); :func:`rfm_cells` reads the sales facts and
is what a segment field needs; :func:`rfm_cell` is one customer's cell.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_lazy as _

from siyu.analytics import metrics_sql as q
from siyu.analytics.reference import RfmInput
from siyu.core import clock
from siyu.core.models import Merchant
from siyu.customers.models import Customer

CELLS = {
    "champions": _("Champions"),
    "loyal": _("Loyal"),
    "potential_loyalists": _("Potential loyalists"),
    "new": _("New customers"),
    "promising": _("Promising"),
    "need_attention": _("Need attention"),
    "about_to_sleep": _("About to sleep"),
    "at_risk": _("At risk"),
    "cant_lose": _("Can't lose them"),
    "hibernating": _("Hibernating"),
    "lost": _("Lost"),
}

# CELL_MAP[r][fm]: the row is the recency score R, the column the mean of F and M.
#          FM=1              2                      3                      4            5
CELL_MAP: dict[int, dict[int, str]] = {
    5: {
        1: "new",
        2: "potential_loyalists",
        3: "potential_loyalists",
        4: "champions",
        5: "champions",
    },
    4: {1: "promising", 2: "potential_loyalists", 3: "potential_loyalists", 4: "loyal", 5: "loyal"},
    3: {1: "about_to_sleep", 2: "about_to_sleep", 3: "need_attention", 4: "loyal", 5: "loyal"},
    2: {1: "hibernating", 2: "hibernating", 3: "at_risk", 4: "at_risk", 5: "cant_lose"},
    1: {1: "lost", 2: "hibernating", 3: "at_risk", 4: "at_risk", 5: "cant_lose"},
}


@dataclass(frozen=True)
class RfmScore:
    recency: int
    frequency: int
    monetary: int
    inputs: RfmInput

    @property
    def fm(self) -> int:
        return (self.frequency + self.monetary + 1) // 2

    @property
    def cell(self) -> str:
        return CELL_MAP[self.recency][self.fm]

    @property
    def cell_label(self) -> str:
        return str(CELLS[self.cell])


def quintile_scores(values: Mapping[int, int], higher_is_better: bool) -> dict[int, int]:
    """1–5 per key: 1 + ⌊5 × (keys with a strictly worse value) ÷ keys⌋."""
    n = len(values)
    if not n:
        return {}
    ordered = sorted(values.values() if higher_is_better else (-v for v in values.values()))
    result = {}
    for key, value in values.items():
        worse = bisect.bisect_left(ordered, value if higher_is_better else -value)
        result[key] = 1 + (5 * worse) // n
    return result


def scores(inputs: Mapping[int, RfmInput]) -> dict[int, RfmScore]:
    """Pure: every customer's R, F and M scores among ``inputs``."""
    r = quintile_scores({c: i.recency_days for c, i in inputs.items()}, higher_is_better=False)
    f = quintile_scores({c: i.frequency for c, i in inputs.items()}, higher_is_better=True)
    m = quintile_scores({c: i.monetary for c, i in inputs.items()}, higher_is_better=True)
    return {c: RfmScore(r[c], f[c], m[c], inputs[c]) for c in inputs}


def rfm_inputs(merchant: Merchant, as_of: date, since: date | None = None) -> dict[int, RfmInput]:
    """Recency, frequency and monetary value per customer from the sales facts (kept sales
    on days ``[since, as_of)``; all history without ``since``)."""
    where = q.Where()
    where.add("s.merchant_id = %s", merchant.pk)
    where.add("s.day < %s", q.db_date(as_of))
    if since is not None:
        where.add("s.day >= %s", q.db_date(since))
    where.add(q.KEPT)
    rows = q.fetch(
        f"SELECT s.customer_id, MAX(s.day), COUNT(*), SUM(s.amount - s.refunded)"  # noqa: S608
        f" FROM {q.SALE} s WHERE {where.sql} GROUP BY s.customer_id ORDER BY s.customer_id",
        where.params,
    )
    return {
        int(customer): RfmInput((as_of - q.as_date(last)).days, int(count), int(money or 0))
        for customer, last, count, money in rows
    }


def rfm_cells(merchant: Merchant, as_of: date, since: date | None = None) -> dict[int, RfmScore]:
    """Every buying customer's RFM score and cell as of ``as_of`` (bulk, for segment fields
    and the RFM grid; a customer without a kept sale has none)."""
    return scores(rfm_inputs(merchant, as_of, since))


def rfm_cell(customer: Customer, as_of: date | None = None) -> str | None:
    """One customer's cell as of ``as_of`` (today in the merchant's time zone by default);
    None without an order. Quintiles need everyone, so this scores all buyers: for many
    customers (a segment field) call :func:`rfm_cells` once."""
    merchant = customer.merchant
    if as_of is None:
        as_of = clock.now().astimezone(ZoneInfo(merchant.time_zone)).date() + timedelta(days=1)
    found = rfm_cells(merchant, as_of).get(customer.pk)
    return found.cell if found else None


def grid(cells: Mapping[int, RfmScore]) -> dict[tuple[int, int], int]:
    """Customers per (R, FM) square of the grid, for the console's RFM chart."""
    counts: dict[tuple[int, int], int] = {}
    for score in cells.values():
        key = (score.recency, score.fm)
        counts[key] = counts.get(key, 0) + 1
    return counts
