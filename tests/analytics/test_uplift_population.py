"""A seeded synthetic customer population with known group-joining effects, for uplift tests.

Not a test module of its own (no tests here); the uplift tests import ``population`` so every
scenario is generated the same way and the injected truth is explicit in each test.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from siyu.analytics.uplift import MonthlyActivity


@dataclass(frozen=True)
class Population:
    """Dense monthly orders and spend (fen) with each customer's acquisition and join month."""

    orders: NDArray[np.int64]
    spend: NDArray[np.float64]
    acquired: NDArray[np.int64]
    joined: NDArray[np.int64]

    @property
    def activity(self) -> MonthlyActivity:
        return MonthlyActivity.from_dense(self.orders, self.spend)


def population(
    n: int,
    *,
    seed: int,
    months: int = 24,
    effect: float = 0.0,
    aov_effect: float = 0.0,
    selection: float = 0.0,
    shift: float = 0.0,
    growth: float = 0.0,
    join_share: float = 0.3,
    pre_join_rise: float = 0.0,
) -> Population:
    """Customers with a lasting purchase rate (Gamma, mean 0.8 orders a month) and Poisson orders.

    * ``effect``: members buy ``1 + effect`` times as often from their join month on;
      ``aov_effect`` the same for their spend per order.
    * ``selection``: the chance to join grows as ``rate ** selection`` (more active customers
      join more often); 0 means members are a random draw.
    * ``shift``: every customer's rate rises by this many orders a month each month (a market
      trend common to all); ``growth`` the same as a monthly factor.
    * ``pre_join_rise``: members already buy ``1 + pre_join_rise`` times as often in the
      4 months before joining (a violated parallel trend the placebo must see).

    Customers are acquired in the first half of the months and join, if at all, in a month after
    acquisition; the acquisition month always carries at least one order.
    """
    rng = np.random.default_rng(seed)
    acquired = rng.integers(0, months // 2, n)
    rate = rng.gamma(2.0, 0.4, n)
    chance = np.minimum(join_share * (rate / rate.mean()) ** selection, 0.95)
    joins = rng.random(n) < chance
    later = months - acquired - 1
    joined = np.where(joins, acquired + 1 + (rng.random(n) * later).astype(np.int64), -1)
    month = np.arange(months)[None, :]
    monthly = (rate[:, None] + shift * month) * (1 + growth) ** month
    member = joined[:, None] >= 0
    after = member & (month >= joined[:, None])
    before = member & (month < joined[:, None]) & (month >= joined[:, None] - 4)
    monthly = monthly * np.where(after, 1 + effect, 1.0) * np.where(before, 1 + pre_join_rise, 1.0)
    orders = rng.poisson(monthly)
    orders[month < acquired[:, None]] = 0
    orders[month == acquired[:, None]] += 1
    unit = np.exp(rng.normal(np.log(3000), 0.3, n))
    noise = np.exp(rng.normal(0, 0.1, orders.shape))
    spend = np.rint(orders * unit[:, None] * noise * np.where(after, 1 + aov_effect, 1.0))
    return Population(orders, spend, acquired, joined)
