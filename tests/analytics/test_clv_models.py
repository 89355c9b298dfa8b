"""The BG/NBD and Gamma-Gamma models: likelihoods against the papers' formulas written plainly,
parameter recovery from simulated customers, and the predictions on extreme inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siyu.analytics import clv_bgnbd, clv_gamma
from siyu.analytics.clv_simulate import simulate_bgnbd_summary, simulate_mean_spend

# The CDNOW estimates of the paper (weeks), used here only as a realistic point to simulate at.
CDNOW = (0.243, 4.414, 0.793, 2.426)


def plain_bgnbd_ll(r: float, alpha: float, a: float, b: float, x: int, t_x: float, T: float):
    """Eq. 6 of Fader, Hardie & Lee (2005), term by term with python floats."""
    beta = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)

    def log_beta(p: float, q: float) -> float:
        return math.lgamma(p) + math.lgamma(q) - math.lgamma(p + q)

    gamma_part = math.lgamma(r + x) + r * math.log(alpha) - math.lgamma(r)
    first = math.exp(log_beta(a, b + x) - beta + gamma_part - (r + x) * math.log(alpha + T))
    second = 0.0
    if x > 0:
        second = math.exp(
            log_beta(a + 1, b + x - 1) - beta + gamma_part - (r + x) * math.log(alpha + t_x)
        )
    return math.log(first + second)


positive = st.floats(min_value=0.05, max_value=20.0)


@settings(max_examples=200, deadline=None)
@given(
    r=positive,
    alpha=positive,
    a=positive,
    b=positive,
    x=st.integers(min_value=0, max_value=60),
    T=st.floats(min_value=0.01, max_value=200.0),
    share=st.floats(min_value=0.0, max_value=1.0),
)
def test_bgnbd_log_likelihood_matches_the_formula(r, alpha, a, b, x, T, share):
    t_x = share * T if x > 0 else 0.0
    expected = plain_bgnbd_ll(r, alpha, a, b, x, t_x, T)
    got = clv_bgnbd.log_likelihood_terms(
        (r, alpha, a, b), np.array([float(x)]), np.array([t_x]), np.array([T])
    )[0]
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_bgnbd_log_likelihood_stays_finite_where_the_plain_formula_overflows():
    x = np.array([5000.0, 20000.0, 0.0])
    T = np.array([1e5, 1e6, 1e6])
    ll = clv_bgnbd.log_likelihood_terms((2.0, 0.01, 0.5, 0.5), x, T / 2, T)
    assert np.isfinite(ll).all()
    with pytest.raises((OverflowError, ValueError)):
        plain_bgnbd_ll(2.0, 0.01, 0.5, 0.5, 5000, 5e4, 1e5)


def _numerical_gradient(function, point, step=1e-6):
    grad = np.zeros_like(point)
    for i in range(len(point)):
        shift = np.zeros_like(point)
        shift[i] = step
        grad[i] = (function(point + shift)[0] - function(point - shift)[0]) / (2 * step)
    return grad


def test_analytic_gradients_match_finite_differences():
    rng = np.random.default_rng(3)
    s = simulate_bgnbd_summary(rng, CDNOW, rng.uniform(5, 40, 500))
    w = np.ones(500)

    def bg(theta):
        return clv_bgnbd._negative_ll_and_gradient(theta, s.x, s.t_x, s.T, w, 0.01, 500.0)

    theta = np.log([0.5, 3.0, 1.2, 2.0])
    assert bg(theta)[1] == pytest.approx(_numerical_gradient(bg, theta), rel=1e-5, abs=1e-8)

    repeat = s.x > 0
    m = simulate_mean_spend(rng, (6.0, 4.0, 1.0), s.x)[repeat]

    def gg(theta):
        return clv_gamma._negative_ll_and_gradient(theta, s.x[repeat], m, 0.01)

    theta = np.log([3.0, 2.5, 2.0])
    plain = clv_gamma.log_likelihood((3.0, 2.5, 2.0), s.x[repeat], m)
    penalised = plain - 0.01 * (3.0**2 + 2.5**2 + 2.0**2)
    assert gg(theta)[0] == pytest.approx(-penalised / repeat.sum(), rel=1e-12)
    assert gg(theta)[1] == pytest.approx(_numerical_gradient(gg, theta), rel=1e-5, abs=1e-8)


def _standard_errors(function, theta):
    """Standard errors of the log-parameters from the Hessian of -LL (finite differences of
    the analytic gradient); ``function`` returns -LL/n and its gradient, n folded in below."""
    n = len(theta)
    hessian = np.zeros((n, n))
    for i in range(n):
        shift = np.zeros(n)
        shift[i] = 1e-5
        hessian[i] = (function(theta + shift)[1] - function(theta - shift)[1]) / 2e-5
    return np.sqrt(np.diag(np.linalg.inv((hessian + hessian.T) / 2)))


def test_bgnbd_recovers_the_parameters_it_was_simulated_with():
    """20,000 customers observed 27–39 weeks at the CDNOW parameters. The tolerance is four
    standard errors of each log-parameter, computed from the curvature of the likelihood at
    the estimate: a correct fit lands there with probability ≈ 0.9999 per parameter, and the
    seed makes the draw fixed. a and b are known less precisely than r and α (only customers
    who buy again tell anything about dropout), which the standard errors account for."""
    rng = np.random.default_rng(20051)
    s = simulate_bgnbd_summary(rng, CDNOW, rng.uniform(27, 39, 20_000))
    fit = clv_bgnbd.fit_bgnbd_arrays(s.x, s.t_x, s.T)
    assert fit.converged
    estimate = np.log(fit.params)
    w = np.ones(len(s.x))

    def objective(theta):
        value, grad = clv_bgnbd._negative_ll_and_gradient(theta, s.x, s.t_x, s.T, w, 0.0, 1.0)
        return value, grad

    se = _standard_errors(objective, estimate)
    assert np.all(np.abs(estimate - np.log(CDNOW)) < 4 * se), (fit.params, se)
    assert np.all(se < 0.25)  # the data do pin the parameters down (within ~25 %)
    # the optimum: the likelihood at the estimate is no lower than at the true parameters
    assert fit.log_likelihood >= clv_bgnbd.log_likelihood(CDNOW, s.x, s.t_x, s.T)


def test_bgnbd_fit_is_the_same_on_compressed_rows():
    rng = np.random.default_rng(8)
    s = simulate_bgnbd_summary(rng, CDNOW, np.full(3000, 30.0))
    whole = np.floor(s.t_x)
    fit = clv_bgnbd.fit_bgnbd_arrays(s.x, whole, s.T)
    (ux, ut, _uT), counts, inverse = clv_bgnbd.compress(s.x, whole, s.T)
    assert len(ux) < 3000
    assert counts.sum() == 3000
    assert np.array_equal(ux[inverse], s.x)
    assert np.array_equal(ut[inverse], whole)
    assert fit.log_likelihood == pytest.approx(
        clv_bgnbd.log_likelihood(fit.params, s.x, whole, s.T), rel=1e-12
    )


def test_gamma_gamma_recovers_the_parameters_it_was_simulated_with():
    """Mean spend of 20,000 repeat customers with 1–20 purchases at (p, q, v) = (6, 4, 1500
    fen). Same tolerance rule as BG/NBD: four standard errors of each log-parameter."""
    rng = np.random.default_rng(20052)
    true = (6.0, 4.0, 1500.0)
    x = rng.integers(1, 21, 20_000).astype(float)
    m = simulate_mean_spend(rng, true, x)
    fit = clv_gamma.fit_gamma_gamma_arrays(x, m)
    assert fit.converged
    assert fit.customers == 20_000
    scale = m.mean()

    def objective(theta):
        # the fit's objective on spend / mean, so v is shifted by log(scale)
        value, grad = clv_gamma._negative_ll_and_gradient(theta, x, m / scale, 0.0)
        return value * len(x), grad * len(x)

    estimate = np.log([fit.p, fit.q, fit.v / scale])
    se = _standard_errors(objective, estimate)
    truth = np.log([true[0], true[1], true[2] / scale])
    assert np.all(np.abs(estimate - truth) < 4 * se), (fit.params, se)
    assert fit.population_mean == pytest.approx(6 * 1500 / 3, rel=0.05)


def test_gamma_gamma_log_likelihood_matches_the_formula():
    p, q, v, x, m = 2.5, 3.5, 800.0, 4.0, 350.0
    plain = (
        math.lgamma(p * x + q)
        - math.lgamma(p * x)
        - math.lgamma(q)
        + q * math.log(v)
        + (p * x - 1) * math.log(m)
        + p * x * math.log(x)
        - (p * x + q) * math.log(v + m * x)
    )
    got = clv_gamma.log_likelihood_terms((p, q, v), np.array([x]), np.array([m]))[0]
    assert got == pytest.approx(plain, rel=1e-12)
    # and it is a density in m̄: it integrates to 1 over (0, ∞)
    grid = np.linspace(1e-3, 20_000, 400_001)
    density = np.exp(clv_gamma.log_likelihood_terms((p, q, v), np.full_like(grid, x), grid))
    assert np.trapezoid(density, grid) == pytest.approx(1.0, abs=1e-4)


def test_expected_spend_shrinks_towards_the_population_mean():
    params = (6.0, 4.0, 1500.0)
    x = np.array([0.0, 1.0, 10.0, 1000.0])
    m = np.array([0.0, 9000.0, 9000.0, 9000.0])
    spend = clv_gamma.expected_spend(params, x, m)
    assert spend[0] == pytest.approx(3000.0)  # no repeat purchase: the population mean
    assert 3000 < spend[1] < spend[2] < spend[3] < 9000  # more purchases, more own weight
    assert spend[3] == pytest.approx(9000, rel=0.01)


# -- predictions -----------------------------------------------------------------------------

EXTREME_PARAMS = [
    CDNOW,
    (1.0, 30.0, 0.5, 5.0),
    (0.1, 0.5, 3.0, 0.2),
    (5.0, 200.0, 1.5, 50.0),
    (0.5, 1.0, 1.0 + 1e-9, 2.0),
    (0.3, 2.0, 8.0, 0.5),
    (0.05, 0.05, 0.05, 0.05),
    (20.0, 0.1, 20.0, 20.0),
]


def _grid():
    """(x, t_x, T) customers a summary can produce (x ≤ 7T: at most one purchase a day with
    weeks as the unit), from brand new to years-old heavy buyers."""
    rows = [
        (x, share * T, T)
        for x in (0, 1, 2, 5, 20, 100, 1000)
        for T in (0.0, 0.5, 5.0, 50.0, 500.0, 5000.0)
        for share in (0.0, 0.5, 1.0)
        if x / 7 <= T and (x > 0 or share == 0.0)
    ]
    x, t_x, T = (np.array(column, dtype=float) for column in zip(*rows, strict=True))
    return x, t_x, T


@pytest.mark.parametrize("params", EXTREME_PARAMS)
def test_expected_purchases_are_finite_and_non_negative_everywhere(params):
    x, t_x, T = _grid()
    for t in (0.0, 0.1, 1.0, 52.0, 3650.0):
        e = clv_bgnbd.conditional_expected_purchases(params, x, t_x, T, t)
        assert np.isfinite(e).all()
        assert (e >= 0).all()
    # more time ahead, more purchases expected
    short = clv_bgnbd.conditional_expected_purchases(params, x, t_x, T, 10.0)
    long = clv_bgnbd.conditional_expected_purchases(params, x, t_x, T, 100.0)
    assert (long >= short * (1 - 1e-9)).all()


def _series(params, x, T, t, terms=3_000):
    """E[Y(t) | alive] from the power series of the transformed 2F1, summed term by term
    (numpy, vectorised); returns the value and whether the series has converged."""
    r, alpha, a, b = params
    z = t / (alpha + T + t)
    A, C = a + b - 1 - r, a + b + x - 1
    term, total = A / C * z, np.zeros_like(x)
    for n in range(1, terms):
        total = total + term
        term = term * (A + n) * (a + n - 1) / ((C + n) * (n + 1)) * z
    log1mz = np.log1p(-z)
    value = C * (-np.expm1((a - 1) * log1mz) / (a - 1) - np.exp((a - 1) * log1mz) * total)
    return value, np.abs(term) < 1e-14 * np.abs(total)


@pytest.mark.parametrize("params", EXTREME_PARAMS)
def test_hypergeometric_agrees_with_the_series_and_the_quadrature(params):
    """Three independent evaluations of eq. 10's 'if alive' factor: scipy's hyp2f1 after
    Euler's transformation (what scoring uses), the plain power series where it converges
    within 3,000 terms, and Gauss–Jacobi quadrature of the integral over p."""
    x, _t_x, T = _grid()
    for t in (0.1, 52.0, 365.0):
        fast = clv_bgnbd._expected_if_alive_hyp2f1(params, x, T, t)
        if abs(params[2] - 1) > 1e-6:  # at a = 1 scoring uses the quadrature instead
            slow, converged = _series(params, x, T, t)
            assert converged.mean() > 0.5
            assert fast[converged] == pytest.approx(slow[converged], rel=1e-8)
        quadrature = clv_bgnbd.expected_purchases_quadrature(params, x, T, t)
        # the quadrature converges slowly only where s = t/(α+T) is huge (new customers, long
        # horizons): its integrand then varies on a scale 1/s near p = 0
        smooth = t / (params[1] + T) < 50
        if abs(params[2] - 1) > 1e-6:
            assert quadrature[smooth] == pytest.approx(fast[smooth], rel=1e-6)


def test_quadrature_replaces_hyp2f1_at_a_equal_to_one():
    params = (0.5, 3.0, 1.0, 2.0)
    x, t_x, T = _grid()
    near = clv_bgnbd.conditional_expected_purchases((0.5, 3.0, 1.0 + 1e-4, 2.0), x, t_x, T, 10)
    at = clv_bgnbd.conditional_expected_purchases(params, x, t_x, T, 10)
    assert at == pytest.approx(near, rel=1e-3)


def test_p_alive_is_one_without_repeat_purchases_and_rises_with_recency():
    params = CDNOW
    T = np.full(6, 40.0)
    none = clv_bgnbd.p_alive(params, np.zeros(6), np.zeros(6), T)
    assert (none == 1.0).all()
    recency = np.array([0.0, 5.0, 10.0, 20.0, 30.0, 40.0])
    alive = clv_bgnbd.p_alive(params, np.full(6, 3.0), recency, T)
    assert (np.diff(alive) > 0).all()
    assert (alive > 0).all()
    assert (alive <= 1).all()
    # heavy buyers who stopped long ago are almost surely gone; without underflow to NaN
    gone = clv_bgnbd.p_alive(params, np.array([1e4]), np.array([1.0]), np.array([1e4]))
    assert gone[0] == 0.0 or 0 < gone[0] < 1e-100
