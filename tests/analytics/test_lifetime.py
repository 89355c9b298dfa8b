"""Lifetime value stored per customer: the refresh fits on the sales facts (imported history
included), scores every buyer as the pure models do, writes the segment fields, resets
customers without sales, records the run and the holdout check, and refuses bad arguments."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pytest
from django.utils import translation

from siyu.analytics import clv, clv_simulate, lifetime
from siyu.analytics.models import LifetimeRun, Sale
from siyu.analytics.testing import make_sale
from siyu.core.errors import InvalidInput
from siyu.core.models import Merchant
from siyu.customers.models import Customer
from siyu.customers.testing import make_customer

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 6, 30)
START = date(2025, 7, 1)


def _history(merchant: Merchant, customers: int = 120, seed: int = 7) -> list[Customer]:
    """A year of simulated BG/NBD buying (a third of the sales imported)."""
    rng = np.random.default_rng(seed)
    people = [make_customer(merchant) for _ in range(customers)]
    births = rng.uniform(0, 300, customers)
    log = clv_simulate.simulate_transactions(rng, (0.8, 20.0, 0.6, 3.0), births, 365.0)
    rows = []
    for i, (who, t, amount) in enumerate(zip(log.customer, log.t, log.amount, strict=True)):
        at = datetime.combine(START, datetime.min.time()) + timedelta(days=float(t))
        rows.append((people[int(who)].pk, at, int(amount) + 500, i % 3 == 0))
    for customer_id, at, amount, imported in rows:
        make_sale(merchant, customer_id, at, amount, imported=imported)
    return people


def test_refresh_scores_every_buyer_as_the_models_do(merchant: Merchant) -> None:
    people = _history(merchant)
    idle = make_customer(merchant)
    Customer.unscoped.filter(pk=idle.pk).update(clv_alive=77, clv_segment="active")
    run = lifetime.refresh(merchant, as_of=AS_OF, unit="weeks")
    assert run.status == "done"
    buyers = set(Sale.unscoped.values_list("customer_id", flat=True))
    assert run.customers == len(buyers)
    assert run.params["bgnbd"]["r"] > 0
    assert run.log_likelihood is not None
    assert run.log_likelihood < 0
    # the same arrays through the pure models give the same numbers
    arrays = lifetime.load_sales(merchant, until=AS_OF + timedelta(days=1))
    summary = clv.summarise(
        arrays.customer, arrays.day, arrays.amount, lifetime.day_number(AS_OF) + 1, "weeks"
    )
    bg = clv.fit_bgnbd(summary)
    gg = clv.fit_gamma_gamma(summary)
    scores = clv.score(summary, bg, gg, 365 / 7, monthly_discount=lifetime.MONTHLY_DISCOUNT)
    expected = {
        int(c): (round(float(a) * 100), round(float(v)))
        for c, a, v in zip(scores.customer, scores.p_alive, scores.clv, strict=True)
    }
    stored = {
        c.pk: (c.clv_alive, c.clv_value)
        for c in Customer.unscoped.filter(
            pk__in=[p.pk for p in people], clv_scored_at__isnull=False
        )
    }
    assert stored == expected
    segments = set(Customer.unscoped.exclude(clv_segment="").values_list("clv_segment", flat=True))
    assert segments <= {"high_value_active", "high_value_leaving", "active", "leaving"}
    assert {"high_value_active", "leaving"} & segments
    assert Customer.unscoped.exclude(rfm_cell="").count() == len(buyers)
    idle.refresh_from_db()
    assert (idle.clv_alive, idle.clv_segment, idle.clv_scored_at) == (0, "", None)


def test_segments_split_by_spend_and_by_leaving() -> None:
    alive = np.array([0.9, 0.2, 0.9, 0.3, 0.95])
    purchases = np.array([3.0, 0.1, 2.0, 0.5, 0.2])
    spent = np.array([100.0, 200.0, 10.0, 5.0, 300.0])
    assert lifetime.segments(alive, purchases, spent) == [
        "active",
        "leaving",  # 200 is below the top fifth (above 220 here)
        "active",
        "leaving",
        "high_value_leaving",  # alive, but not expected to buy within a year
    ]


def test_holdout_is_stored_and_the_backtest_uses_only_the_past(merchant: Merchant) -> None:
    _history(merchant, customers=150, seed=11)
    run = lifetime.refresh(merchant, as_of=AS_OF, holdout_days=91)
    rows = run.holdout["rows"]
    assert [r["x"] for r in rows] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert sum(r["customers"] for r in rows) == run.holdout["customers"]
    check = lifetime.backtest(merchant, as_of=date(2026, 4, 1), end=date(2026, 7, 1))
    assert check["calibration_end"] == "2026-04-01"
    assert check["predicted_total"] > 0
    assert LifetimeRun.unscoped.count() == 1  # the backtest stores nothing


def test_no_sales_and_bad_arguments(merchant: Merchant) -> None:
    run = lifetime.refresh(merchant, as_of=AS_OF)
    assert (run.status, run.customers) == ("no_data", 0)
    with pytest.raises(InvalidInput) as bad_unit:
        lifetime.refresh(merchant, unit="months")
    assert "unit" in bad_unit.value.fields
    with pytest.raises(InvalidInput) as bad_horizon:
        lifetime.refresh(merchant, horizon_days=0)
    assert "horizon_days" in bad_horizon.value.fields
    with pytest.raises(InvalidInput) as empty:
        lifetime.backtest(merchant, as_of=AS_OF)
    assert "as_of" in empty.value.fields


def test_the_command_scores_and_backtests(merchant: Merchant) -> None:
    import json
    from io import StringIO

    from django.core.management import CommandError, call_command

    _history(merchant, customers=60, seed=3)
    out = StringIO()
    call_command(
        "analytics", "lifetime", "--merchant", merchant.slug, "--as-of", "2026-06-30", stdout=out
    )
    assert "buyers scored" in out.getvalue()
    assert "log-likelihood" in out.getvalue()
    out = StringIO()
    call_command(
        "analytics",
        "backtest",
        "--merchant",
        merchant.slug,
        "--as-of",
        "2026-04-01",
        "--end",
        "2026-07-01",
        "--json",
        stdout=out,
    )
    check = json.loads(out.getvalue())
    assert check["calibration_end"] == "2026-04-01"
    assert len(check["rows"]) == 8
    with pytest.raises(CommandError, match="--as-of"):
        call_command("analytics", "backtest", "--merchant", merchant.slug, "--as-of", "2020-01-01")


def _run(**fields: object) -> LifetimeRun:
    sound = {
        "status": LifetimeRun.Status.DONE,
        "converged": True,
        "repeat_customers": 500,
        "params": {
            "bgnbd": {"r": 0.8, "alpha": 20.0, "a": 0.6, "b": 3.0},
            "gamma_gamma": {"p": 6.0, "q": 4.0, "v": 15.0},
        },
    }
    return LifetimeRun(**{**sound, **fields})


def test_cautions_say_why_a_fit_deserves_less_trust() -> None:
    assert lifetime.cautions(_run()) == []
    assert lifetime.cautions(_run(status=LifetimeRun.Status.NO_DATA)) == []
    codes = [c for c, _s in lifetime.cautions(_run(converged=False, repeat_customers=29))]
    assert codes == ["not_converged", "few_repeaters"]
    assert [c for c, _s in lifetime.cautions(_run(repeat_customers=30))] == []
    thin = _run(
        params={"bgnbd": {"r": 0.8, "alpha": 20.0, "a": 1e-7, "b": 3.0}, "gamma_gamma": None}
    )
    assert [c for c, _s in lifetime.cautions(thin)] == ["no_spend_model", "edge_parameters"]
    huge = _run(
        params={"bgnbd": {"r": 0.8, "alpha": 20.0, "a": 0.6, "b": 2e5}, "gamma_gamma": None}
    )
    assert "edge_parameters" in [c for c, _s in lifetime.cautions(huge)]
    with translation.override("en"):
        sentence = dict(lifetime.cautions(_run(repeat_customers=4)))["few_repeaters"]
    assert "Only 4 customers bought more than once" in sentence


def test_a_tiny_history_is_fitted_with_its_cautions(merchant: Merchant) -> None:
    """Three customers, one of whom bought twice: scored, and the run says why not to trust
    it (the API document carries the same)."""
    from siyu.analytics import documents

    people = [make_customer(merchant) for _ in range(3)]
    for n, person in enumerate(people):
        make_sale(merchant, person.pk, datetime(2026, 3, 1 + n, 12), 2000)
    make_sale(merchant, people[0].pk, datetime(2026, 5, 2, 12), 2500)
    run = lifetime.refresh(merchant, as_of=AS_OF, unit="weeks")
    assert run.status == "done"
    codes = [c["code"] for c in documents.lifetime_document(run)["cautions"]]
    assert "few_repeaters" in codes
    assert "no_spend_model" in codes
