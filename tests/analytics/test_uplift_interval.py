"""The uplift estimate's interval: the analytic (influence-function) interval against a seeded
cluster bootstrap over customers, and how often the interval covers the injected truth."""

from __future__ import annotations

import pytest

from siyu.analytics.uplift import estimate
from tests.analytics.test_uplift_population import population


def test_analytic_interval_agrees_with_the_cluster_bootstrap() -> None:
    pop = population(6_000, seed=21, effect=0.3, aov_effect=0.1)
    analytic = estimate(pop.activity, pop.acquired, pop.joined)
    boot = estimate(pop.activity, pop.acquired, pop.joined, interval="bootstrap", seed=5)
    assert boot.interval_method == "bootstrap"
    for a, b in (
        (analytic.frequency, boot.frequency),
        (analytic.aov, boot.aov),
        (analytic.frequency.placebo, boot.frequency.placebo),
    ):
        assert a is not None
        assert b is not None
        assert a.effect == pytest.approx(b.effect)  # same point estimate
        assert a.interval is not None
        assert b.interval is not None
        width_a = a.interval[1] - a.interval[0]
        width_b = b.interval[1] - b.interval[0]
        assert width_b == pytest.approx(width_a, rel=0.2)
        assert b.effect is not None
        assert b.interval[0] < b.effect < b.interval[1]


def test_bootstrap_is_reproducible_with_its_seed() -> None:
    pop = population(1_500, seed=22, effect=0.3)
    first = estimate(pop.activity, pop.acquired, pop.joined, interval="bootstrap", seed=9)
    again = estimate(pop.activity, pop.acquired, pop.joined, interval="bootstrap", seed=9)
    other = estimate(pop.activity, pop.acquired, pop.joined, interval="bootstrap", seed=10)
    assert first.frequency.interval == again.frequency.interval
    assert first.frequency.interval != other.frequency.interval


def test_the_interval_covers_the_injected_effect_in_most_populations() -> None:
    # 20 independent populations with +30 %: a 95 % interval should miss about once.
    covered = 0
    for seed in range(100, 120):
        pop = population(3_000, seed=seed, effect=0.3)
        low, high = estimate(
            pop.activity, pop.acquired, pop.joined
        ).frequency.relative_interval or (
            0.0,
            0.0,
        )
        covered += low <= 0.3 <= high
    assert covered >= 17
