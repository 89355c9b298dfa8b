"""Reference calculators: every sales metric of docs/metrics.md over plain Python lists.

No database here. These functions are the definitions written as code, as plainly as they
can be, so that the SQL in ``analytics.metrics`` (which has to be fast) can be tested to agree
with them on random small histories, and so that a reader can check a definition without
reading SQL. They are slow (every call walks the whole list) and never run in a request.

Words used throughout (docs/metrics.md says the same for operators):

* a **sale** is one paid order, from Siyu or imported; ``amount`` is what was paid and
  ``refunded`` what has been refunded of it so far, both in minor units (fen);
* a sale is **kept** unless it was refunded in full; kept sales are the orders that count
  for buyers, orders, AOV, frequency, repurchase, first orders, cohorts and RFM;
* a period is ``[start, end)`` of the merchant's local days (``Sale.day``);
* a customer's **first order** is their earliest kept sale ever (by time, then id), in all
  history, Siyu's and imported alike.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.utils.translation import gettext_lazy as _

from siyu.core.errors import InvalidInput

# The precedence that gives a sale with several attributions to one source: the most
# deliberate, time-bound touch first (a live room, then a campaign), then the one that is
# paid for it (a distributor's commission), then the personal relationship (a guide), then
# the ambient community (a group); a sale with none of them is organic.
SOURCES = ("live", "campaign", "distributor", "guide", "group", "organic")

# Dimensions a sales metric can be filtered and grouped by. ``channel`` is the customer's
# join channel (customers.Customer.join_channel), the others are the sale's attribution ids;
# ``source`` (grouping only) is the one source of SOURCES.
DIMENSIONS = ("store", "group", "guide", "channel", "distributor", "campaign", "source")

ACTIVE_WEEK_DAYS = 7
ACTIVE_MONTH_DAYS = 30


@dataclass(frozen=True)
class Period:
    """``[start, end)`` of local days."""

    start: date
    end: date

    @classmethod
    def of(cls, start: date, end: date) -> Period:
        if end <= start:
            raise InvalidInput(
                _("The period must end after it starts."),
                fields={"to": _("must be later than “from”")},
            )
        return cls(start, end)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.start - timedelta(days=self.days), self.start)


@dataclass(frozen=True)
class SaleRow:
    """One sale as the reference calculators see it (a ``Sale`` row, or a generated one)."""

    id: int
    customer_id: int
    placed_at: datetime
    day: date
    amount: int
    refunded: int = 0
    store_id: int | None = None
    group_id: int | None = None
    guide_id: int | None = None
    distributor_id: int | None = None
    campaign_id: int | None = None
    live_room_id: int | None = None


@dataclass(frozen=True)
class Filters:
    """Which sales count. Empty means "all"; several values of one field mean "any of them".

    ``customer_ids`` restricts to a set of customers (a segment's members); the SQL side also
    takes a queryset of ids there, so that a large segment stays in the database.
    """

    store_ids: tuple[int, ...] = ()
    group_ids: tuple[int, ...] = ()
    guide_ids: tuple[int, ...] = ()
    distributor_ids: tuple[int, ...] = ()
    campaign_ids: tuple[int, ...] = ()
    join_channels: tuple[str, ...] = ()
    customer_ids: Any = None

    @property
    def on_sale_attributes(self) -> bool:
        """Whether a filter is on the sale (store, group, ...), not on the customer."""
        return bool(
            self.store_ids
            or self.group_ids
            or self.guide_ids
            or self.distributor_ids
            or self.campaign_ids
        )

    @property
    def empty(self) -> bool:
        """Whether nothing is filtered (every sale of the merchant counts)."""
        return not (self.on_sale_attributes or self.join_channels) and self.customer_ids is None


NO_FILTERS = Filters()


@dataclass(frozen=True)
class SaleStats:
    """The sales metrics of one period (and one group of a dimension, when grouped)."""

    gmv: int = 0  # paid amount of the period's sales, before refunds
    refunds: int = 0  # refunded amount of those sales
    paid_orders: int = 0  # every paid sale, refunded or not
    refund_count: int = 0  # sales with any refund
    full_refund_count: int = 0  # sales refunded in full (not kept)
    orders: int = 0  # kept sales
    buyers: int = 0  # customers with a kept sale
    repeat_buyers: int = 0  # buyers with two or more kept sales in the period
    new_buyers: int = 0  # buyers whose first order ever is in the period

    @property
    def net_sales(self) -> int:
        return self.gmv - self.refunds

    @property
    def aov(self) -> int | None:
        """Net sales per kept order, in fen rounded half up; None without orders."""
        if not self.orders:
            return None
        return round_half_up(self.net_sales, self.orders)

    @property
    def frequency(self) -> float | None:
        return self.orders / self.buyers if self.buyers else None

    @property
    def repurchase_rate(self) -> float | None:
        return self.repeat_buyers / self.buyers if self.buyers else None

    @property
    def returning_buyers(self) -> int:
        return self.buyers - self.new_buyers

    @property
    def repeat_orders(self) -> int:
        """Kept orders that were not a customer's first order ever (the repurchases)."""
        return self.orders - self.new_buyers


@dataclass(frozen=True)
class Activity:
    """Active customers (ordered, messaged, visited or joined) of a period."""

    active: int  # distinct customers active in the period
    dau: float  # mean of the daily counts over the period's days
    wau: int  # distinct customers active in the 7 days ending with the period
    mau: int  # distinct customers active in the 30 days ending with the period
    from_sales: bool = False  # counted from sales (no activity facts, or a sale filter)


@dataclass(frozen=True)
class CohortCell:
    months_since: int
    eligible: int  # cohort customers whose month ``months_since`` has begun
    buyers: int  # of them, customers with a kept sale in that month
    net_sales: int

    @property
    def retention(self) -> float | None:
        return self.buyers / self.eligible if self.eligible else None

    @property
    def revenue_per_customer(self) -> int | None:
        return round_half_up(self.net_sales, self.eligible) if self.eligible else None


@dataclass(frozen=True)
class CohortRow:
    key: str  # "2026-03" for an acquisition month, the join channel otherwise
    size: int
    cells: tuple[CohortCell, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class CohortRepurchase:
    month: date  # first day of the cohort's month
    months: int
    customers: int  # first order in that month
    repurchased: int  # ordered again within ``months`` months of their first order
    complete: bool  # every customer's window has ended before ``as_of``

    @property
    def rate(self) -> float | None:
        return self.repurchased / self.customers if self.customers else None


# --- small helpers shared with the SQL side -------------------------------------------------


def round_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half away from zero, in integers (no float)."""
    sign = -1 if (numerator < 0) != (denominator < 0) else 1
    n, d = abs(numerator), abs(denominator)
    return sign * ((2 * n + d) // (2 * d))


def is_kept(amount: int, refunded: int) -> bool:
    """A sale counts as an order unless it was refunded in full."""
    return refunded == 0 or refunded < amount


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def month_label(index: int) -> str:
    year, month = divmod(index, 12)
    return f"{year:04d}-{month + 1:02d}"


def month_boundaries(period: Period) -> list[date]:
    """The period cut at the first day of each month: [start, 1st, 1st, ..., end]."""
    cuts = [period.start]
    cut = add_months(month_start(period.start), 1)
    while cut < period.end:
        cuts.append(cut)
        cut = add_months(cut, 1)
    return [*cuts, period.end]


def week_boundaries(period: Period) -> list[date]:
    """The period cut at each Monday: [start, Monday, Monday, ..., end]."""
    cuts = [period.start]
    cut = period.start + timedelta(days=7 - period.start.weekday())
    while cut < period.end:
        cuts.append(cut)
        cut += timedelta(days=7)
    return [*cuts, period.end]


def source_of(sale: SaleRow) -> str:
    if sale.live_room_id is not None:
        return "live"
    if sale.campaign_id is not None:
        return "campaign"
    if sale.distributor_id is not None:
        return "distributor"
    if sale.guide_id is not None:
        return "guide"
    if sale.group_id is not None:
        return "group"
    return "organic"


def _key_function(by: str | None, channels: Mapping[int, str]) -> Callable[[SaleRow], Any]:
    keys: dict[str | None, Callable[[SaleRow], Any]] = {
        None: lambda s: None,
        "store": lambda s: s.store_id,
        "group": lambda s: s.group_id,
        "guide": lambda s: s.guide_id,
        "distributor": lambda s: s.distributor_id,
        "campaign": lambda s: s.campaign_id,
        "channel": lambda s: channels.get(s.customer_id, ""),
        "source": source_of,
    }
    return keys[by]


def matches(sale: SaleRow, filters: Filters, channels: Mapping[int, str]) -> bool:
    checks: list[tuple[Collection[Any], Any]] = [
        (filters.store_ids, sale.store_id),
        (filters.group_ids, sale.group_id),
        (filters.guide_ids, sale.guide_id),
        (filters.distributor_ids, sale.distributor_id),
        (filters.campaign_ids, sale.campaign_id),
        (filters.join_channels, channels.get(sale.customer_id, "")),
    ]
    if any(wanted and value not in wanted for wanted, value in checks):
        return False
    return filters.customer_ids is None or sale.customer_id in set(filters.customer_ids)


def first_orders(sales: Iterable[SaleRow]) -> dict[int, SaleRow]:
    """Each customer's first order ever: the earliest kept sale by (time, id)."""
    firsts: dict[int, SaleRow] = {}
    for sale in sales:
        if not is_kept(sale.amount, sale.refunded):
            continue
        best = firsts.get(sale.customer_id)
        if best is None or (sale.placed_at, sale.id) < (best.placed_at, best.id):
            firsts[sale.customer_id] = sale
    return firsts


# --- the metrics ----------------------------------------------------------------------------


def sale_stats(
    sales: Sequence[SaleRow],
    period: Period,
    filters: Filters = NO_FILTERS,
    by: str | None = None,
    channels: Mapping[int, str] | None = None,
) -> dict[Any, SaleStats]:
    """The sales metrics of ``period``, one entry per value of ``by`` (key None without)."""
    return bucket_stats(sales, [period.start, period.end], filters, by, channels, _by_key=True)


def bucket_stats(
    sales: Sequence[SaleRow],
    boundaries: Sequence[date],
    filters: Filters = NO_FILTERS,
    by: str | None = None,
    channels: Mapping[int, str] | None = None,
    *,
    _by_key: bool = False,
) -> dict[Any, SaleStats]:
    """Sales metrics per bucket ``[boundaries[i], boundaries[i+1])``, keyed by its first day.

    A buyer is new in a bucket when their first order ever falls in it.
    """
    channels = channels or {}
    key_of = _key_function(by, channels)
    firsts = first_orders(sales)
    per: dict[Any, dict[int, list[SaleRow]]] = defaultdict(lambda: defaultdict(list))
    for sale in sales:
        if not boundaries[0] <= sale.day < boundaries[-1]:
            continue
        if not matches(sale, filters, channels):
            continue
        bucket = max(b for b in boundaries[:-1] if b <= sale.day)
        key = key_of(sale) if _by_key else bucket
        per[key][sale.customer_id].append(sale)
    result: dict[Any, SaleStats] = {}
    for key, customers in per.items():
        totals = dict.fromkeys(SaleStats.__dataclass_fields__, 0)
        for customer_id, rows in customers.items():
            kept = [s for s in rows if is_kept(s.amount, s.refunded)]
            totals["gmv"] += sum(s.amount for s in rows)
            totals["refunds"] += sum(s.refunded for s in rows)
            totals["paid_orders"] += len(rows)
            totals["refund_count"] += sum(1 for s in rows if s.refunded > 0)
            totals["full_refund_count"] += len(rows) - len(kept)
            totals["orders"] += len(kept)
            if kept:
                totals["buyers"] += 1
                totals["repeat_buyers"] += len(kept) >= 2
                first = firsts[customer_id]
                totals["new_buyers"] += any(s.placed_at == first.placed_at for s in kept)
        result[key] = SaleStats(**totals)
    return result


def activity(pairs: Iterable[tuple[date, int]], period: Period) -> Activity:
    """MAU/WAU/DAU from (day, customer) pairs of activity (ActiveDay rows, or sales)."""
    pairs = set(pairs)
    in_period = {(d, c) for d, c in pairs if period.start <= d < period.end}
    week_from = period.end - timedelta(days=ACTIVE_WEEK_DAYS)
    month_from = period.end - timedelta(days=ACTIVE_MONTH_DAYS)
    return Activity(
        active=len({c for _, c in in_period}),
        dau=len(in_period) / period.days,
        wau=len({c for d, c in pairs if week_from <= d < period.end}),
        mau=len({c for d, c in pairs if month_from <= d < period.end}),
    )


def cohort_repurchase(
    sales: Sequence[SaleRow], month: date, months: int, as_of: date
) -> CohortRepurchase:
    """Of the customers whose first order was in ``month``: who ordered again within
    ``months`` months of it (a second kept sale on or before the same day ``months`` later),
    counting sales before ``as_of`` only."""
    month = month_start(month)
    known = [s for s in sales if s.day < as_of and is_kept(s.amount, s.refunded)]
    firsts = first_orders(known)
    cohort = {c: f for c, f in firsts.items() if month_start(f.day) == month}
    repurchased = 0
    for customer_id, first in cohort.items():
        limit = add_months(first.day, months)
        if any(s.customer_id == customer_id and s.id != first.id and s.day <= limit for s in known):
            repurchased += 1
    last_day = add_months(month, 1) - timedelta(days=1)
    return CohortRepurchase(
        month=month,
        months=months,
        customers=len(cohort),
        repurchased=repurchased,
        complete=add_months(last_day, months) < as_of,
    )


def cohort_matrix(
    sales: Sequence[SaleRow],
    period: Period,
    as_of: date,
    by: str = "month",
    channels: Mapping[int, str] | None = None,
) -> list[CohortRow]:
    """Customers whose first order fell in ``period``, grouped by acquisition month (or join
    channel) × months since their first order's month: buyers and net sales per cell, over
    kept sales before ``as_of``. A cell counts only customers whose month has begun."""
    channels = channels or {}
    known = [s for s in sales if s.day < as_of and is_kept(s.amount, s.refunded)]
    firsts = {c: f for c, f in first_orders(known).items() if period.start <= f.day < period.end}
    last_month = month_index(as_of - timedelta(days=1))

    def key_of(customer_id: int) -> str:
        if by == "month":
            return month_label(month_index(firsts[customer_id].day))
        return channels.get(customer_id, "")

    members: dict[str, list[int]] = defaultdict(list)
    for customer_id in firsts:
        members[key_of(customer_id)].append(customer_id)
    rows = []
    for key in sorted(members):
        customers = members[key]
        buyers: dict[int, set[int]] = defaultdict(set)
        net: dict[int, int] = defaultdict(int)
        for s in known:
            if s.customer_id in firsts and key_of(s.customer_id) == key:
                k = month_index(s.day) - month_index(firsts[s.customer_id].day)
                buyers[k].add(s.customer_id)
                net[k] += s.amount - s.refunded
        top = last_month - min(month_index(firsts[c].day) for c in customers)
        cells = tuple(
            CohortCell(
                months_since=k,
                eligible=sum(1 for c in customers if month_index(firsts[c].day) + k <= last_month),
                buyers=len(buyers[k]),
                net_sales=net[k],
            )
            for k in range(top + 1)
        )
        rows.append(CohortRow(key=key, size=len(customers), cells=cells))
    return rows


@dataclass(frozen=True)
class RfmInput:
    recency_days: int  # days from the last order's day to ``as_of``
    frequency: int  # kept orders
    monetary: int  # net sales, fen


def rfm_inputs(sales: Sequence[SaleRow], as_of: date) -> dict[int, RfmInput]:
    """Recency, frequency and monetary value of every customer with a kept sale before
    ``as_of``."""
    last: dict[int, date] = {}
    count: dict[int, int] = defaultdict(int)
    money: dict[int, int] = defaultdict(int)
    for s in sales:
        if s.day >= as_of or not is_kept(s.amount, s.refunded):
            continue
        last[s.customer_id] = max(last.get(s.customer_id, s.day), s.day)
        count[s.customer_id] += 1
        money[s.customer_id] += s.amount - s.refunded
    return {c: RfmInput((as_of - last[c]).days, count[c], money[c]) for c in sorted(last)}
