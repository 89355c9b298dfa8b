"""The Gamma-Gamma model of spend per purchase (Fader, Hardie & Lee 2005, "RFM and CLV: Using
Iso-Value Curves for Customer Base Analysis", section 4).

Each purchase of a customer is worth z ~ Gamma(p, ν); across customers ν ~ Gamma(q, γ) (rate
parameters). Spend is assumed independent of the purchase process, so it is fitted on repeat
customers' mean spend m̄ over their x repeat purchases (x ≥ 1) and combined with BG/NBD's
expected purchases. Pure numpy/scipy; no database access.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, special

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class GammaGammaFit:
    """Fitted Gamma-Gamma parameters (spend in the summary's money unit, fen) and the fit."""

    p: float  # shape of the spend of one purchase
    q: float  # shape of the customers' rate ν
    v: float  # scale of ν (the paper's γ), in money units
    log_likelihood: float  # of the mean spends at these parameters
    converged: bool
    iterations: int
    customers: int  # repeat customers the fit used
    message: str = ""

    @property
    def params(self) -> tuple[float, float, float]:
        return (self.p, self.q, self.v)

    @property
    def population_mean(self) -> float:
        """E[M] = p·v/(q-1), the mean spend per purchase across customers (inf if q ≤ 1)."""
        return self.p * self.v / (self.q - 1) if self.q > 1 else float("inf")


def log_likelihood_terms(
    params: tuple[float, float, float], x: FloatArray, m: FloatArray
) -> FloatArray:
    """Each customer's log density of mean spend m̄ given x purchases (the paper's eq. 3):

    Γ(px+q)/(Γ(px)Γ(q)) · v^q · m̄^(px-1) · x^(px) / (v + m̄x)^(px+q).
    """
    p, q, v = params
    px = p * x
    return np.asarray(
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(v + m * x),
        dtype=np.float64,
    )


def log_likelihood(params: tuple[float, float, float], x: FloatArray, m: FloatArray) -> float:
    return float(log_likelihood_terms(params, x, m).sum())


def _prepare(x: FloatArray, m: FloatArray) -> tuple[FloatArray, NDArray[np.intp], FloatArray]:
    """What the objective reuses on every call: the distinct purchase counts and each row's
    index into them, and log m̄ + log x per row."""
    values, index = np.unique(x, return_inverse=True)
    return values, index, np.log(m) + np.log(x)


def _negative_ll_and_gradient(
    log_params: FloatArray,
    x: FloatArray,
    m: FloatArray,
    penalty: float,
    prepared: tuple[FloatArray, NDArray[np.intp], FloatArray] | None = None,
) -> tuple[float, FloatArray]:
    """-LL/n and its gradient in the logs of (p, q, v). The gamma and digamma functions depend
    on x only, so they are evaluated once per distinct x (x is a small purchase count)."""
    p, q, v = np.exp(log_params)
    values, index, log_mx = prepared if prepared is not None else _prepare(x, m)
    px = p * x
    vmx = v + m * x
    log_vmx = np.log(vmx)
    pv = p * values
    gl = (special.gammaln(pv + q) - special.gammaln(pv))[index]
    psi = special.digamma(pv + q)
    psi_pxq = psi[index]
    psi_diff = (psi - special.digamma(pv))[index]
    # eq. 3 in logs: (px-1) log m̄ + px log x = px (log m̄ + log x) - log m̄
    ll = gl - special.gammaln(q) + q * np.log(v) + px * log_mx - (log_mx - np.log(x))
    ll -= (px + q) * log_vmx
    d_p = x * (psi_diff + log_mx - log_vmx)
    d_q = psi_pxq - special.digamma(q) + np.log(v) - log_vmx
    d_v = q / v - (px + q) / vmx
    n = len(x)
    theta = np.array([p, q, v])
    value = float(ll.sum()) - penalty * float(theta @ theta)
    grad = np.array([d_p.sum(), d_q.sum(), d_v.sum()]) - 2 * penalty * theta
    return -value / n, -(grad * theta) / n


def fit_gamma_gamma_arrays(
    x: FloatArray, monetary: FloatArray, *, penalty: float = 0.0
) -> GammaGammaFit:
    """Maximum-likelihood (p, q, v) from repeat customers (x ≥ 1, mean spend > 0; the others
    are ignored). Spend is divided by its mean during the fit (v scales with it, the other
    parameters do not), so the optimiser sees numbers near 1 whatever the currency unit;
    L-BFGS-B over the logs with the analytic gradient, from p = 1, q = 2, v = mean spend."""
    x = np.asarray(x, dtype=np.float64)
    monetary = np.asarray(monetary, dtype=np.float64)
    keep = (x >= 1) & (monetary > 0) & np.isfinite(monetary)
    x, m = x[keep], monetary[keep]
    n = len(x)
    if n == 0:
        nan = float("nan")
        return GammaGammaFit(nan, nan, nan, nan, False, 0, 0, "no repeat customers")
    scale = float(m.mean())
    ms = m / scale
    result = optimize.minimize(
        _negative_ll_and_gradient,
        np.log([1.0, 2.0, 1.0]),
        args=(x, ms, penalty, _prepare(x, ms)),
        jac=True,
        method="L-BFGS-B",
        bounds=[(-20.0, 20.0)] * 3,
        options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-8},
    )
    p, q, v_scaled = (float(value) for value in np.exp(result.x))
    v = v_scaled * scale
    return GammaGammaFit(
        p=p,
        q=q,
        v=v,
        log_likelihood=log_likelihood((p, q, v), x, m),
        converged=bool(result.success),
        iterations=int(result.nit),
        customers=n,
        message=str(result.message),
    )


def expected_spend(
    params: tuple[float, float, float], x: FloatArray, monetary: FloatArray
) -> FloatArray:
    """E[M | p, q, v, m̄, x] (the paper's eq. 5): (v + m̄x)·p / (px + q - 1), a weighted mean of
    the population mean p·v/(q-1) and the customer's own m̄ (weight px/(px+q-1)). Customers
    with no repeat purchase get the population mean. Needs q > 1 (else inf)."""
    p, q, v = params
    x = np.asarray(x, dtype=np.float64)
    m = np.where(x > 0, np.nan_to_num(np.asarray(monetary, dtype=np.float64)), 0.0)
    with np.errstate(divide="ignore"):
        out = (v + m * x) * p / (p * x + q - 1)
    return np.asarray(np.where(p * x + q - 1 > 0, out, np.inf), dtype=np.float64)
