"""Synthetic customers drawn from known BG/NBD and Gamma-Gamma parameters.

The tests check that fitting recovers the parameters the data were drawn from, and the
benchmark builds Luckin-sized histories, so the simulator follows the models' story literally:
each customer buys at a Poisson rate λ ~ Gamma(r, α) (rate α), drops out after each repeat
purchase with probability p ~ Beta(a, b), and spends Gamma(p_s, ν) per purchase with
ν ~ Gamma(q, v). Vectorised with numpy; no database access.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class SimulatedSummary:
    x: FloatArray
    t_x: FloatArray
    T: FloatArray


def simulate_bgnbd_summary(
    rng: np.random.Generator,
    params: tuple[float, float, float, float],
    T: FloatArray,
) -> SimulatedSummary:
    """(x, t_x, T) of customers observed for T time units each, in continuous time.

    With N(T) ~ Poisson(λT) purchases had the customer stayed, and K ~ Geometric(p) the repeat
    purchase after which the customer leaves, x = min(N, K); given N = n the purchase times are
    n uniform order statistics on (0, T), so the x-th is T · Beta(x, n - x + 1).
    """
    r, alpha, a, b = params
    T = np.asarray(T, dtype=np.float64)
    n = len(T)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    stays = rng.poisson(lam * T)
    leaves_after = rng.geometric(np.clip(p, 1e-12, 1.0))
    x = np.minimum(stays, leaves_after)
    t_x = np.zeros(n)
    repeat = x > 0
    t_x[repeat] = T[repeat] * rng.beta(x[repeat], stays[repeat] - x[repeat] + 1)
    return SimulatedSummary(x=x.astype(np.float64), t_x=t_x, T=T)


@dataclass(frozen=True)
class SimulatedTransactions:
    """A transaction log: customer index, time (float days since day 0) and amount (fen)."""

    customer: IntArray
    t: FloatArray
    amount: IntArray
    rate: FloatArray  # each customer's λ (purchases per day), to check against
    dropout: FloatArray  # each customer's p


def simulate_transactions(
    rng: np.random.Generator,
    params: tuple[float, float, float, float],
    births: FloatArray,
    end: float,
    spend: tuple[float, float, float] = (6.0, 4.0, 1500.0),
) -> SimulatedTransactions:
    """A transaction log of customers whose first purchase is at ``births`` (days), observed
    until ``end``; ``params`` are BG/NBD parameters with time in days, ``spend`` Gamma-Gamma's
    (p, q, v) in fen. Times are continuous (several purchases can fall on one day, as in real
    logs; the summary counts such a day once).

    Purchases after birth arrive at rate λ until the K-th repeat purchase (K ~ Geometric(p)):
    given n arrivals in the window, they are n sorted uniforms, of which the first min(n, K)
    happen.
    """
    r, alpha, a, b = params
    births = np.asarray(births, dtype=np.float64)
    n = len(births)
    span = np.maximum(end - births, 0.0)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    stays = rng.poisson(lam * span)
    leaves_after = rng.geometric(np.clip(p, 1e-12, 1.0))
    repeats = np.minimum(stays, leaves_after)
    # the first min(n, K) of n sorted uniforms: draw all n, sort within the customer, keep ranks
    owner = np.repeat(np.arange(n, dtype=np.int64), stays)
    u = rng.random(len(owner))
    order = np.lexsort((u, owner))
    u = u[order]
    starts = np.cumsum(stays) - stays
    rank = np.arange(len(owner)) - np.repeat(starts, stays)
    kept = rank < np.repeat(repeats, stays)
    owner, u = owner[kept], u[kept]
    customer = np.concatenate([np.arange(n, dtype=np.int64), owner])
    t = np.concatenate([births, births[owner] + u * span[owner]])
    p_s, q_s, v_s = spend
    nu = rng.gamma(q_s, 1.0 / v_s, n)
    amount = np.maximum(np.rint(rng.gamma(p_s, 1.0 / nu[customer])), 1).astype(np.int64)
    return SimulatedTransactions(customer=customer, t=t, amount=amount, rate=lam, dropout=p)


def simulate_mean_spend(
    rng: np.random.Generator, params: tuple[float, float, float], x: FloatArray
) -> FloatArray:
    """Mean spend over x purchases of customers with ν ~ Gamma(q, v): the sum of x
    Gamma(p, ν) purchases is Gamma(px, ν). NaN where x = 0."""
    p, q, v = params
    x = np.asarray(x, dtype=np.float64)
    nu = rng.gamma(q, 1.0 / v, len(x))
    out = np.full(len(x), np.nan)
    repeat = x > 0
    out[repeat] = rng.gamma(p * x[repeat], 1.0 / nu[repeat]) / x[repeat]
    return out
