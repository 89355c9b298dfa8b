"""Matching cells of the uplift estimator: windows of one join month, strata, sums, influence.

Part of the pure community-uplift calculator (``siyu.analytics.uplift``); nothing here touches
the database. One *cell* is a stratum of one join month. The estimate is a function of the
cells' member and control sums only, so it is accumulated join month by join month in memory
proportional to the number of customers, never to customers x join months.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from siyu.analytics.uplift import MonthlyActivity

FREQUENCY = "frequency"
AOV = "aov"
METRICS = (FREQUENCY, AOV)

# Strata are built from behaviour *before* the pre window, never from the pre window itself:
# matching on the pre-window orders makes regression to the mean look like an effect when
# members are more active customers to begin with (docs/uplift.md shows the simulation).
# Orders per month from acquisition to the month before the pre window, in 14 buckets.
HISTORY_RATE_EDGES = np.array([0.1, 0.25, 0.4, 0.55, 0.7, 0.85, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 6.0])
# Months from acquisition to the join month: <6, 6-11, 12-23, 24+.
AGE_EDGES = np.array([6, 12, 24])
CELLS_PER_COHORT = (len(HISTORY_RATE_EDGES) + 1) * (len(AGE_EDGES) + 1)


class OrdersBefore:
    """Each customer's orders before a month, kept as a running sum for increasing months.

    Join months are visited in increasing order, so the history before each pre window grows by
    a month or so at a time; summing it afresh each time would reread all earlier entries.
    """

    def __init__(self, activity: MonthlyActivity) -> None:
        self._activity = activity
        self._month = 0
        self._orders = np.zeros(activity.n_customers)

    def before(self, month: int) -> NDArray[np.float64]:
        """Orders in months ``0 .. month-1`` (a view; do not change it)."""
        month = max(month, 0)
        if month < self._month:
            self._month, self._orders = 0, np.zeros(self._activity.n_customers)
        if month > self._month:
            self._orders += self._activity.window(self._month, month)[0]
            self._month = month
        return self._orders


@dataclass(frozen=True)
class CohortWindows:
    """Every customer's behaviour around one (real or placebo) join month ``pseudo_join``."""

    window: int
    eligible: NDArray[np.bool_]
    pre_orders: NDArray[np.float64]
    pre_spend: NDArray[np.float64]
    post_orders: NDArray[np.float64]
    post_spend: NDArray[np.float64]
    stratum: NDArray[np.int16]  # meaningful for eligible customers only

    @classmethod
    def measure(
        cls,
        activity: MonthlyActivity,
        acquired: NDArray[np.int64],
        orders_before: OrdersBefore,
        *,
        pseudo_join: int,
        window: int,
    ) -> CohortWindows:
        """Window sums and strata; eligible = acquired before the pre window starts."""
        p, k = pseudo_join, window
        start = p - k
        eligible = (acquired >= 0) & (acquired < start)
        pre_o, pre_s = activity.window(start, p)
        post_o, post_s = activity.window(p + 1, p + k + 1)
        # Strata only where they are used, in narrow types: at 1.8 M customers every full-length
        # temporary costs 14 MB and the join-month loop runs dozens of times.
        who = np.flatnonzero(eligible)
        since = acquired[who]
        rate = orders_before.before(start)[who] / (start - since)
        bucket = np.searchsorted(HISTORY_RATE_EDGES, rate, side="right").astype(np.int16)
        age = np.searchsorted(AGE_EDGES, p - since, side="right").astype(np.int16)
        stratum = np.zeros(activity.n_customers, dtype=np.int16)
        stratum[who] = bucket * (len(AGE_EDGES) + 1) + age
        return cls(k, eligible, pre_o, pre_s, post_o, post_s, stratum)

    def sample(
        self, metric: str
    ) -> tuple[NDArray[np.bool_], NDArray[np.float64], NDArray[np.float64]]:
        """Who is in the metric's sample, their pre level and their change (post - pre).

        Frequency: orders per month, every eligible customer. AOV: spend per order in fen, only
        customers with orders in both windows (AOV is undefined in a window without orders).
        """
        if metric == FREQUENCY:
            return (
                self.eligible,
                self.pre_orders / self.window,
                (self.post_orders - self.pre_orders) / self.window,
            )
        both = self.eligible & (self.pre_orders > 0) & (self.post_orders > 0)
        pre = np.divide(
            self.pre_spend, self.pre_orders, out=np.zeros_like(self.pre_spend), where=both
        )
        post = np.divide(
            self.post_spend, self.post_orders, out=np.zeros_like(self.post_spend), where=both
        )
        return both, pre, post - pre


@dataclass(frozen=True)
class MetricCells:
    """One join month's matched cells for one metric."""

    members: NDArray[np.int64]  # customer positions of members in a matched cell
    member_cell: NDArray[np.int64]
    member_change: NDArray[np.float64]
    member_pre: NDArray[np.float64]
    controls: NDArray[np.int64]  # customer positions of controls in a matched cell
    control_cell: NDArray[np.int64]
    control_change: NDArray[np.float64]
    control_weight: NDArray[np.float64]  # n_members / n_controls of the control's cell
    cell_control_mean: NDArray[np.float64]  # per local cell (0 where unmatched)
    dropped: int


@dataclass(frozen=True)
class CohortCells:
    """The matched cells of one join month, per metric."""

    cohort_key: int
    metrics: dict[str, MetricCells]


def _metric_cells(
    cohort: CohortWindows, joiners: NDArray[np.bool_], not_joined: NDArray[np.bool_], metric: str
) -> MetricCells:
    """Count members and controls per cell, keep the cells that have both, weigh controls.

    A control weighs n_members / n_controls of its cell, so the weighted controls have the
    members' mix of cells; members of cells without controls are dropped and counted.
    """
    in_sample, pre, change = cohort.sample(metric)
    members = np.flatnonzero(in_sample & joiners)
    controls = np.flatnonzero(in_sample & not_joined)
    m_cell = cohort.stratum[members].astype(np.intp)
    c_cell = cohort.stratum[controls].astype(np.intp)
    n_m = np.bincount(m_cell, minlength=CELLS_PER_COHORT)
    n_c = np.bincount(c_cell, minlength=CELLS_PER_COHORT)
    sum_c = np.bincount(c_cell, weights=change[controls], minlength=CELLS_PER_COHORT)
    matched = (n_m > 0) & (n_c > 0)
    mean_c = np.divide(sum_c, n_c, out=np.zeros(CELLS_PER_COHORT), where=matched)
    ratio = np.divide(n_m, n_c, out=np.zeros(CELLS_PER_COHORT), where=matched)
    keep_m = matched[m_cell]
    keep_c = matched[c_cell]
    members, m_cell = members[keep_m], m_cell[keep_m]
    controls, c_cell = controls[keep_c], c_cell[keep_c]
    return MetricCells(
        members=members,
        member_cell=m_cell,
        member_change=change[members],
        member_pre=pre[members],
        controls=controls,
        control_cell=c_cell,
        control_change=change[controls],
        control_weight=ratio[c_cell],
        cell_control_mean=mean_c,
        dropped=int(np.count_nonzero(~keep_m)),
    )


def matched_cells(
    cohort: CohortWindows,
    joiners: NDArray[np.bool_],
    not_joined: NDArray[np.bool_],
    *,
    cohort_key: int,
) -> CohortCells:
    """Members of this join month and their controls, kept only in cells that have both."""
    return CohortCells(
        cohort_key,
        {metric: _metric_cells(cohort, joiners, not_joined, metric) for metric in METRICS},
    )


@dataclass(frozen=True)
class MetricSummary:
    """The point estimate of one metric over all join months, before any verdict."""

    effect: float | None
    low: float | None
    high: float | None
    members_pre: float | None  # the matched members' mean pre level
    naive: float | None  # the members' mean change, without controls
    n_members: int
    n_controls: int  # distinct customers used as a control at least once
    dropped: int

    def with_interval(self, interval: tuple[float, float] | None) -> MetricSummary:
        """The same summary with another interval (the bootstrap's)."""
        if interval is None:
            return replace(self, low=None, high=None)
        return replace(self, low=interval[0], high=interval[1])


@dataclass
class BootstrapRows:
    """Every (customer, cell, change, member?) row of one metric, kept for the bootstrap."""

    customer: list[NDArray[np.int64]]
    cell: list[NDArray[np.int64]]
    change: list[NDArray[np.float64]]
    is_member: list[NDArray[np.bool_]]
    n_cells: int = 0


class Tally:
    """Running sums over join months for both metrics, and each customer's influence."""

    Z95 = 1.959963984540054

    def __init__(self, n_customers: int, *, keep_rows: bool = False) -> None:
        self.n = n_customers
        self.keep_rows = keep_rows
        self._numerator = dict.fromkeys(METRICS, 0.0)
        self._members = dict.fromkeys(METRICS, 0)
        self._pre = dict.fromkeys(METRICS, 0.0)
        self._naive = dict.fromkeys(METRICS, 0.0)
        self._dropped = dict.fromkeys(METRICS, 0)
        self._influence = {m: np.zeros(n_customers) for m in METRICS}
        self._is_member = {m: np.zeros(n_customers, dtype=bool) for m in METRICS}
        self._is_control = {m: np.zeros(n_customers, dtype=bool) for m in METRICS}
        self.rows = {m: BootstrapRows([], [], [], []) for m in METRICS}

    def add(self, cohort: CohortCells) -> None:
        """Add one join month's matched cells."""
        for metric, cells in cohort.metrics.items():
            mu_m = cells.cell_control_mean[cells.member_cell]
            mu_c = cells.cell_control_mean[cells.control_cell]
            self._numerator[metric] += float(np.sum(cells.member_change - mu_m))
            self._members[metric] += len(cells.members)
            self._pre[metric] += float(np.sum(cells.member_pre))
            self._naive[metric] += float(np.sum(cells.member_change))
            self._dropped[metric] += cells.dropped
            influence = self._influence[metric]
            influence[cells.members] += cells.member_change - mu_m
            # A customer is in at most one cell of a join month, so positions do not repeat.
            influence[cells.controls] -= cells.control_weight * (cells.control_change - mu_c)
            self._is_member[metric][cells.members] = True
            self._is_control[metric][cells.controls] = True
            if self.keep_rows:
                self._keep(metric, cells)

    def _keep(self, metric: str, cells: MetricCells) -> None:
        rows = self.rows[metric]
        offset = rows.n_cells
        rows.customer += [cells.members, cells.controls]
        rows.cell += [cells.member_cell + offset, cells.control_cell + offset]
        rows.change += [cells.member_change, cells.control_change]
        rows.is_member += [
            np.ones(len(cells.members), dtype=bool),
            np.zeros(len(cells.controls), dtype=bool),
        ]
        rows.n_cells += CELLS_PER_COHORT

    def result(self, metric: str) -> MetricSummary:
        """The estimate and its analytic 95 % interval (customer-clustered influence function).

        The estimate is (sum over matched cells of member change minus n_members x control
        mean) / N. Its first-order influence is, per customer, the sum over every cell the
        customer appears in (once as a member, possibly many times as a control): for a member
        (change - control mean - estimate) / N, for a control -(n_m / n_c)(change - control
        mean) / N. Summing within a customer before squaring makes the variance robust to the
        same customer being a control in many join months.
        """
        n = self._members[metric]
        n_controls = int(np.count_nonzero(self._is_control[metric]))
        if n == 0:
            return MetricSummary(None, None, None, None, None, 0, n_controls, self._dropped[metric])
        effect = self._numerator[metric] / n
        psi = (self._influence[metric] - self._is_member[metric] * effect) / n
        clusters = int(np.count_nonzero(self._is_member[metric] | self._is_control[metric]))
        low = high = None
        if clusters > 1:
            se = float(np.sqrt(np.sum(psi * psi) * clusters / (clusters - 1)))
            low, high = effect - self.Z95 * se, effect + self.Z95 * se
        return MetricSummary(
            effect=effect,
            low=low,
            high=high,
            members_pre=self._pre[metric] / n,
            naive=self._naive[metric] / n,
            n_members=n,
            n_controls=n_controls,
            dropped=self._dropped[metric],
        )
