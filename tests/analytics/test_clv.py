"""The lifetime-value API: the summary of a transaction log, scoring, and the holdout check."""

from __future__ import annotations

import numpy as np
import pytest

from siyu.analytics import clv
from siyu.analytics.clv_bgnbd import BgNbdFit, conditional_expected_purchases
from siyu.analytics.clv_gamma import GammaGammaFit, expected_spend
from siyu.analytics.clv_simulate import simulate_transactions
from siyu.core.errors import InvalidInput

DAY = np.timedelta64(1, "D")


def _log():
    """Three customers, times in float days; customer 7 buys twice on day 10."""
    customer = np.array([7, 7, 7, 7, 3, 3, 9, 7])
    t = np.array([10.2, 10.9, 12.5, 20.0, 15.0, 40.0, 29.5, 35.0])
    amount = np.array([100, 50, 200, 400, 900, 700, 300, 1000])
    return customer, t, amount


def test_summary_counts_purchase_days_and_leaves_the_first_out_of_monetary():
    customer, t, amount = _log()
    s = clv.summarise(customer, t, amount, cutoff=30.0, unit="days")
    assert s.customer.tolist() == [3, 7, 9]
    # 7: days 10 (two orders), 12, 20 → x = 2; first day 10; last 20; T = 30 - 10
    # 3: day 15 only before the cutoff; 9: day 29 only
    assert s.x.tolist() == [0, 2, 0]
    assert s.t_x.tolist() == [0, 10, 0]
    assert s.T.tolist() == [15, 20, 1]
    assert s.monetary.tolist() == [0, (200 + 400) / 2, 0]


def test_summary_in_weeks_and_from_datetimes_matches_float_days():
    customer, t, amount = _log()
    start = np.datetime64("2026-01-01T00:00:00", "s")
    stamps = start + (t * 86400).astype("timedelta64[s]")
    by_days = clv.summarise(
        customer,
        t + (start - np.datetime64(0, "s")) / DAY,
        amount,
        cutoff=(start - np.datetime64(0, "s")) / DAY + 30,
        unit="weeks",
    )
    by_time = clv.summarise(customer, stamps, amount, cutoff=start + 30 * DAY, unit="weeks")
    for name in ("customer", "x", "t_x", "T", "monetary"):
        assert np.array_equal(getattr(by_days, name), getattr(by_time, name)), name
    assert by_time.t_x.tolist() == [0, 10 / 7, 0]


def test_summary_takes_any_integer_ids():
    customer, t, amount = _log()
    odd = np.where(customer == 7, -5, customer * 10**17)
    s = clv.summarise(odd, t, amount, cutoff=30.0)
    assert s.customer.tolist() == [-5, 3 * 10**17, 9 * 10**17]
    assert s.x.tolist() == [2, 0, 0]


def test_summary_of_nothing_before_the_cutoff_is_empty_and_fitting_it_is_refused():
    customer, t, amount = _log()
    s = clv.summarise(customer, t, amount, cutoff=1.0)
    assert len(s) == 0
    with pytest.raises(InvalidInput) as error:
        clv.fit_bgnbd(s)
    assert "cutoff" in error.value.fields


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"unit": "months"}, "unit"),
        ({"amount": np.array([1, -2, 3, 4, 5, 6, 7, 8])}, "amount"),
        ({"t": np.array([1.0, 2.0])}, "t"),
        ({"t": np.array(["a"] * 8)}, "t"),
        ({"customer": np.array([1.5] * 8)}, "customer"),
    ],
)
def test_bad_input_names_the_field(change, field):
    customer, t, amount = _log()
    arguments = {"customer": customer, "t": t, "amount": amount, "cutoff": 30.0, "unit": "days"}
    arguments.update(change)
    with pytest.raises(InvalidInput) as error:
        clv.summarise(**arguments)
    assert field in error.value.fields


def _synthetic(seed: int, customers: int = 6000):
    """A CDNOW-like cohort in days: first purchases over 12 weeks, about one purchase every
    two months while alive, watched for 78 weeks."""
    rng = np.random.default_rng(seed)
    births = rng.uniform(0, 84, customers)
    return simulate_transactions(rng, (0.5, 30.0, 0.8, 3.0), births, end=546.0)


def test_score_multiplies_expected_purchases_by_expected_spend():
    log = _synthetic(1)
    s = clv.summarise(log.customer, log.t, log.amount, cutoff=273.0, unit="weeks")
    bg = clv.fit_bgnbd(s)
    gg = clv.fit_gamma_gamma(s)
    scores = clv.score(s, bg, gg, horizon=26)
    e = conditional_expected_purchases(bg.params, s.x, s.t_x, s.T, 26)
    m = expected_spend(gg.params, s.x, s.monetary)
    assert scores.expected_purchases == pytest.approx(e, rel=1e-12)
    assert scores.clv == pytest.approx(e * m, rel=1e-9)
    assert (scores.p_alive[s.x == 0] == 1).all()
    discounted = clv.score(s, bg, gg, horizon=26, monthly_discount=0.02)
    assert (discounted.clv < scores.clv).all()
    assert (discounted.clv > scores.clv / 1.02**7).all()  # 26 weeks ≈ 6.07 months
    nothing = clv.score(s, bg, gg, horizon=0)
    assert (nothing.clv == 0).all()
    assert (nothing.expected_purchases == 0).all()


def test_score_discounts_each_month_by_its_own_purchases():
    s = clv.Summary(
        customer=np.array([1]),
        x=np.array([2.0]),
        t_x=np.array([20.0]),
        T=np.array([30.0]),
        monetary=np.array([500.0]),
        unit="days",
        cutoff_day=0.0,
    )
    bg = BgNbdFit(0.5, 20.0, 0.8, 3.0, 0.0, True, 0, 1)
    gg = GammaGammaFit(6.0, 4.0, 1500.0, 0.0, True, 0, 1)
    scores = clv.score(s, bg, gg, horizon=75, monthly_discount=0.1)
    e = [conditional_expected_purchases(bg.params, s.x, s.t_x, s.T, h)[0] for h in (30, 60, 75)]
    spend = expected_spend(gg.params, s.x, s.monetary)[0]
    manual = spend * (e[0] / 1.1 + (e[1] - e[0]) / 1.1**2 + (e[2] - e[1]) / 1.1**3)
    assert scores.clv[0] == pytest.approx(manual, rel=1e-12)


@pytest.mark.parametrize("unit", ["days", "weeks"])
def test_holdout_predicts_the_purchases_that_happened(unit):
    """Simulated customers follow BG/NBD, so the prediction fitted on the first 39 weeks must
    match the purchase days of the next 39 weeks. 12,000 customers make about 6,000 holdout
    purchase days; the Poisson-like noise of that total is ~1.5 %, the uncertainty of the
    fitted parameters adds a few percent, and daily grouping (the simulation is in continuous
    time) removes about 1 %: 8 % is well outside all of them together."""
    log = _synthetic(7, customers=12_000)
    check = clv.holdout(log.customer, log.t, log.amount, cutoff=273.0, end=546.0, unit=unit)
    assert check.fit.converged
    assert check.calibration_customers == 12_000
    assert sum(row.customers for row in check.rows) == 12_000
    assert [row.label for row in check.rows] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert check.actual_total > 3000
    assert abs(check.relative_error) < 0.08, check.as_dict()
    assert check.holdout_length == pytest.approx(273.0 / clv.UNIT_DAYS[unit])
    # the groups: more past purchases, more future ones, on both sides
    rows = [row for row in check.rows if row.customers >= 200]
    assert np.all(np.diff([row.actual_mean for row in rows]) > 0)
    assert np.all(np.diff([row.predicted_mean for row in rows]) > 0)
    for row in rows:
        assert row.predicted_mean == pytest.approx(row.actual_mean, rel=0.25, abs=0.05)


def test_holdout_leaves_out_customers_who_first_bought_after_the_cutoff():
    customer = np.array([1, 1, 2, 1, 2])
    t = np.array([0.0, 5.0, 20.0, 12.0, 25.0])
    s = clv.summarise(customer, t, np.ones(5, dtype=int), cutoff=10.0)
    counts = clv.holdout_counts(s, customer, t, 10.0, 30.0)
    assert s.customer.tolist() == [1]
    assert counts.tolist() == [1.0]
    with pytest.raises(InvalidInput) as error:
        clv.holdout(customer, t, np.ones(5, dtype=int), 10.0, 10.0)
    assert "end" in error.value.fields
