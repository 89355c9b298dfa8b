"""Community uplift: how joining a group changes a customer's monthly purchase frequency and AOV.

A pure calculator (no database access, plain numpy arrays in, a dataclass out), estimated by
difference in differences against matched customers who had not joined at the same time. The
method, its assumptions and its limits are written down in ``docs/uplift.md``; in short:

* every member who joined in month ``m`` and has ``window`` months of history before and after
  is compared over ``pre = m-k .. m-1`` and ``post = m+1 .. m+k`` (the join month left out,
  because a customer usually joins while buying);
* the controls of that join month are customers acquired before ``m-k`` who had not joined by
  ``m+k``, matched in exact strata (pre-window order count, order rate before the pre window,
  months since acquisition) and weighted so that each member's stratum counts as much as its
  members do;
* the effect is the members' mean change minus the weighted mean change of their controls, with
  a 95 % interval from the customer-clustered influence function (or, on request, a seeded
  cluster bootstrap over customers, see ``uplift_bootstrap``);
* the same comparison one window earlier (a placebo, no one joined then) checks the
  parallel-trends assumption.

The input is sparse: one entry per customer and calendar month in which the customer bought
(``MonthlyActivity``), because 1.8 M customers x 36 months held densely would need about
0.4 GB even in narrow integer types, and most customer-months are empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from siyu.analytics.uplift_bootstrap import bootstrap_intervals
from siyu.analytics.uplift_cells import (
    AOV,
    FREQUENCY,
    CohortCells,
    CohortWindows,
    OrdersBefore,
    Tally,
    matched_cells,
)
from siyu.analytics.uplift_verdict import (
    INTERVALS,
    Effect,
    build_effect,
)

__all__ = [
    "INTERVALS",
    "Curves",
    "Effect",
    "MonthlyActivity",
    "UpliftResult",
    "estimate",
]


@dataclass(frozen=True)
class MonthlyActivity:
    """Paid orders and net spend per customer and calendar month, as sparse entries.

    ``customer[i]`` is a customer's position ``0 .. n_customers-1`` (the caller keeps the map to
    its own ids), ``month[i]`` a month index ``0 .. n_months-1``, ``orders[i]`` the number of paid
    orders in that month and ``spend[i]`` their net amount in fen (minor units, refunds taken
    off). Months without orders are simply absent; two entries of one customer and month add up.
    Pass the entries ordered by month (``ORDER BY month`` in SQL) and no copy is made.
    """

    customer: NDArray[np.int32]
    month: NDArray[np.int16]
    orders: NDArray[np.int32]
    spend: NDArray[np.int64]
    n_customers: int
    n_months: int
    _month_starts: NDArray[np.int64] = field(repr=False, compare=False)

    @classmethod
    def from_entries(
        cls,
        customer: ArrayLike,
        month: ArrayLike,
        orders: ArrayLike,
        spend: ArrayLike,
        *,
        n_customers: int,
        n_months: int,
    ) -> MonthlyActivity:
        """Check the entries and order them by month (a stable sort, only if they are not)."""
        raw_cust, raw_mon = np.asarray(customer).ravel(), np.asarray(month).ravel()
        cnt = np.asarray(orders, dtype=np.int32).ravel()
        amt = np.asarray(spend, dtype=np.int64).ravel()
        if not (len(raw_cust) == len(raw_mon) == len(cnt) == len(amt)):
            raise ValueError("customer, month, orders and spend must have the same length")
        if n_customers < 0 or n_months < 0:
            raise ValueError("n_customers and n_months must not be negative")
        if n_months > np.iinfo(np.int16).max or n_customers > np.iinfo(np.int32).max:
            raise ValueError("n_months must fit 16 bits and n_customers 32 bits")
        if len(raw_cust):
            if raw_cust.min() < 0 or raw_cust.max() >= n_customers:
                raise ValueError("customer positions must lie in 0 .. n_customers-1")
            if raw_mon.min() < 0 or raw_mon.max() >= n_months:
                raise ValueError("months must lie in 0 .. n_months-1")
            if cnt.min() < 0:
                raise ValueError("order counts must not be negative")
        # Narrow types: 18 bytes an entry, so 15 M customer-months take about 270 MB.
        cust = raw_cust.astype(np.int32, copy=False)
        mon = raw_mon.astype(np.int16, copy=False)
        if len(mon) > 1 and np.any(mon[1:] < mon[:-1]):
            by_month = np.argsort(mon, kind="stable")
            cust, mon, cnt, amt = cust[by_month], mon[by_month], cnt[by_month], amt[by_month]
        starts = np.searchsorted(mon, np.arange(n_months + 1), side="left").astype(np.int64)
        return cls(cust, mon, cnt, amt, n_customers, n_months, starts)

    @classmethod
    def from_dense(cls, orders: ArrayLike, spend: ArrayLike) -> MonthlyActivity:
        """Build from dense customers x months matrices (small data and tests)."""
        cnt = np.asarray(orders, dtype=np.int64)
        amt = np.asarray(spend, dtype=np.int64)
        if cnt.ndim != 2 or cnt.shape != amt.shape:
            raise ValueError("orders and spend must be matrices of the same shape")
        mon, cust = np.nonzero(cnt.T)  # month-major, so already ordered by month
        return cls.from_entries(
            cust,
            mon,
            cnt[cust, mon],
            amt[cust, mon],
            n_customers=cnt.shape[0],
            n_months=cnt.shape[1],
        )

    def entries_of(
        self, month: int
    ) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.int64]]:
        """The customer, orders and spend of one month's entries (views, not copies)."""
        lo, hi = self._month_starts[month], self._month_starts[month + 1]
        return self.customer[lo:hi], self.orders[lo:hi], self.spend[lo:hi]

    def window(self, start: int, stop: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Orders and spend of every customer summed over months ``start .. stop-1``."""
        start, stop = max(start, 0), min(stop, self.n_months)
        if stop <= start:
            empty = np.zeros(self.n_customers)
            return empty, empty.copy()
        lo, hi = self._month_starts[start], self._month_starts[stop]
        cust = self.customer[lo:hi]
        return (
            np.bincount(cust, weights=self.orders[lo:hi], minlength=self.n_customers),
            np.bincount(cust, weights=self.spend[lo:hi], minlength=self.n_customers),
        )


@dataclass(frozen=True)
class Curves:
    """Mean orders and spend (fen) per customer in each month since joining, for a chart.

    ``months`` runs ``-k .. +k`` (0 is the join month, left out of the estimate). The controls'
    values are weighted like the estimate, so before joining the two lines should run together.
    """

    months: list[int]
    members_orders: list[float]
    controls_orders: list[float]
    members_spend: list[float]
    controls_spend: list[float]


@dataclass(frozen=True)
class UpliftResult:
    """The estimate for monthly purchase frequency and for AOV, with the chart's curves.

    ``ineligible`` counts members whose join month has no full window inside the data or who
    were acquired too recently to have a clean pre window; they are not part of any sample.
    """

    window: int
    frequency: Effect
    aov: Effect
    curves: Curves
    members_total: int
    ineligible: int
    interval_method: str


def _joined_months(joined: ArrayLike, n_customers: int) -> NDArray[np.int64]:
    """Join months as integers, -1 for never (NaN and negative values both mean never)."""
    raw = np.asarray(joined, dtype=np.float64).ravel()
    if len(raw) != n_customers:
        raise ValueError("joined must have one entry per customer")
    out = np.full(n_customers, -1, dtype=np.int64)
    known = np.isfinite(raw) & (raw >= 0)
    out[known] = raw[known].astype(np.int64)
    return out


def estimate(
    activity: MonthlyActivity,
    acquired: ArrayLike,
    joined: ArrayLike,
    *,
    window: int = 3,
    interval: str = "analytic",
    seed: int = 0,
    n_boot: int = 400,
) -> UpliftResult:
    """Estimate the uplift of joining a group on monthly frequency and AOV (see module doc).

    ``acquired[c]`` is customer ``c``'s first-order month (negative: never bought),
    ``joined[c]`` the month the customer joined a group (-1 or NaN: never). ``interval`` is
    ``"analytic"`` (default, scales to millions of customers) or ``"bootstrap"`` (a seeded
    Poisson cluster bootstrap over customers with ``n_boot`` replicates, for checking).
    """
    if window < 1:
        raise ValueError("window must be at least 1 month")
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {', '.join(INTERVALS)}")
    n = activity.n_customers
    acq = np.asarray(acquired, dtype=np.float64).ravel()
    if len(acq) != n:
        raise ValueError("acquired must have one entry per customer")
    acq_month = np.where(np.isfinite(acq) & (acq >= 0), acq, -1).astype(np.int64)
    join = _joined_months(joined, n)
    k = window
    keep_rows = interval == "bootstrap"
    main = Tally(n, keep_rows=keep_rows)
    placebo = Tally(n, keep_rows=keep_rows)
    span = 2 * k + 1
    member_curve = np.zeros((2, span))
    control_curve = np.zeros((2, span))

    join_months = np.unique(join[join >= 0])
    members_total = int(np.count_nonzero(join >= 0))
    eligible_members = 0
    main_history, placebo_history = OrdersBefore(activity), OrdersBefore(activity)
    for m in join_months.tolist():
        if m - k - 1 < 0 or m + k >= activity.n_months:
            continue
        joiners = join == m
        not_joined = (join < 0) | (join > m + k)
        # One join month at a time, each step's arrays freed before the next (memory, see doc).
        cohort = CohortWindows.measure(activity, acq_month, main_history, pseudo_join=m, window=k)
        eligible_members += int(np.count_nonzero(joiners & cohort.eligible))
        cells = matched_cells(cohort, joiners, not_joined, cohort_key=m)
        del cohort
        main.add(cells)
        _add_curves(activity, m, k, cells, member_curve, control_curve)
        del cells
        earlier = CohortWindows.measure(
            activity, acq_month, placebo_history, pseudo_join=m - k - 1, window=k
        )
        placebo.add(matched_cells(earlier, joiners, not_joined, cohort_key=m))
        del earlier

    main_freq = main.result(FREQUENCY)
    main_aov = main.result(AOV)
    placebo_freq = placebo.result(FREQUENCY)
    placebo_aov = placebo.result(AOV)
    if interval == "bootstrap":
        boot = bootstrap_intervals(
            [main, main, placebo, placebo],
            [FREQUENCY, AOV, FREQUENCY, AOV],
            n_customers=n,
            n_boot=n_boot,
            seed=seed,
        )
        main_freq, main_aov, placebo_freq, placebo_aov = (
            r.with_interval(iv)
            for r, iv in zip((main_freq, main_aov, placebo_freq, placebo_aov), boot, strict=True)
        )
    n_matched = main_freq.n_members
    return UpliftResult(
        window=k,
        frequency=build_effect(main_freq, placebo_freq),
        aov=build_effect(main_aov, placebo_aov),
        curves=_curves(k, n_matched, member_curve, control_curve),
        members_total=members_total,
        ineligible=members_total - eligible_members,
        interval_method=interval,
    )


def _add_curves(
    activity: MonthlyActivity,
    m: int,
    k: int,
    cells: CohortCells,
    member_curve: NDArray[np.float64],
    control_curve: NDArray[np.float64],
) -> None:
    """Add one join month's members and weighted controls to the per-month curves."""
    freq = cells.metrics[FREQUENCY]
    if len(freq.members) == 0:
        return
    # Weights per customer, then only the entries of each month are gathered: no
    # full-length bincount per month. Plain sums, not dot products: BLAS threads gain nothing
    # here and fight over the cores of a busy machine.
    member_w = np.zeros(activity.n_customers)
    member_w[freq.members] = 1.0
    control_w = np.zeros(activity.n_customers)
    control_w[freq.controls] = freq.control_weight
    for pos, month in enumerate(range(m - k, m + k + 1)):
        customer, orders, spend = activity.entries_of(month)
        on_member, on_control = member_w[customer], control_w[customer]
        member_curve[0, pos] += float(np.sum(on_member * orders))
        member_curve[1, pos] += float(np.sum(on_member * spend))
        control_curve[0, pos] += float(np.sum(on_control * orders))
        control_curve[1, pos] += float(np.sum(on_control * spend))


def _curves(
    k: int,
    n_matched: int,
    member_curve: NDArray[np.float64],
    control_curve: NDArray[np.float64],
) -> Curves:
    """Turn the summed curves into means per matched member (empty lists when none matched)."""
    months = list(range(-k, k + 1))
    if n_matched == 0:
        return Curves(months, [], [], [], [])
    mc, cc = member_curve / n_matched, control_curve / n_matched
    return Curves(
        months=months,
        members_orders=[float(v) for v in mc[0]],
        controls_orders=[float(v) for v in cc[0]],
        members_spend=[float(v) for v in mc[1]],
        controls_spend=[float(v) for v in cc[1]],
    )
