"""The community-uplift estimator (pure numpy, no database): hand-computed cases and synthetic
populations with a known injected effect, or a known absence of one."""

from __future__ import annotations

import math

import numpy as np
import pytest
from django.utils import translation

from siyu.analytics import uplift_verdict
from siyu.analytics.uplift import MonthlyActivity, estimate
from tests.analytics.test_uplift_population import population

Z95 = 1.959963984540054


def _tiny() -> tuple[MonthlyActivity, list[int], list[int]]:
    """Four customers acquired in month 0; A and B join in month 2; window 1.

    pre = month 1, post = month 3. Everyone has 1 order in month 0 (history rate 1.0) and is
    2 months old at the join month, so all four share one cell.
    """
    orders = [
        [1, 1, 1, 2, 0],  # A, member: frequency 1 -> 2, AOV 3000 -> 4000
        [1, 2, 0, 3, 0],  # B, member: frequency 2 -> 3, AOV 2000 -> 3000
        [1, 1, 0, 1, 0],  # C, control: frequency 1 -> 1, AOV 2000 -> 2400
        [1, 2, 0, 3, 0],  # D, control: frequency 2 -> 3, AOV 2500 -> 3000 (3 orders, 9000)
    ]
    spend = [
        [900, 3000, 500, 8000, 0],
        [900, 4000, 0, 9000, 0],
        [900, 2000, 0, 2400, 0],
        [900, 5000, 0, 9000, 0],
    ]
    return MonthlyActivity.from_dense(orders, spend), [0, 0, 0, 0], [2, 2, -1, -1]


def test_hand_computed_example() -> None:
    activity, acquired, joined = _tiny()
    result = estimate(activity, acquired, joined, window=1)
    freq = result.frequency
    # Members change by +1 and +1, controls by 0 and +1 (weight 1 each): 1 - 0.5.
    assert freq.effect == pytest.approx(0.5)
    assert freq.members_pre == pytest.approx(1.5)
    assert freq.relative == pytest.approx(0.5 / 1.5)
    assert freq.naive == pytest.approx(1.0)
    assert (freq.n_members, freq.n_controls, freq.dropped) == (2, 2, 0)
    # Influence: members 0 and 0, controls -(0 - 0.5)/2 and -(1 - 0.5)/2; 4 clusters.
    half = Z95 * math.sqrt((0.25**2 + 0.25**2) * 4 / 3)
    assert freq.interval == pytest.approx((0.5 - half, 0.5 + half))
    assert freq.verdict == uplift_verdict.TOO_THIN
    aov = result.aov
    # Members +1000 and +1000; controls +400 and +500.
    assert aov.effect == pytest.approx(1000 - 450)
    assert aov.members_pre == pytest.approx(2500)
    assert aov.relative == pytest.approx(550 / 2500)
    # The placebo window (one window earlier) starts before month 0: nothing to check.
    assert freq.placebo is not None
    assert freq.placebo.n_members == 0
    assert freq.pre_trend == uplift_verdict.PRE_TREND_UNCHECKED
    curves = result.curves
    assert curves.months == [-1, 0, 1]
    assert curves.members_orders == pytest.approx([1.5, 0.5, 2.5])
    assert curves.controls_orders == pytest.approx([1.5, 0.0, 2.0])
    assert curves.members_spend == pytest.approx([3500, 250, 8500])
    assert curves.controls_spend == pytest.approx([3500, 0, 5700])
    assert (result.members_total, result.ineligible) == (2, 0)


def test_a_member_without_a_control_in_its_cell_is_dropped_and_counted() -> None:
    _, acquired, joined = _tiny()
    dense = np.zeros((5, 5))
    dense[:4] = [[1, 1, 1, 2, 0], [1, 2, 0, 3, 0], [1, 1, 0, 1, 0], [1, 2, 0, 3, 0]]
    dense[4] = [9, 9, 0, 9, 0]  # a member with a history rate of 9 a month: no such control
    result = estimate(
        MonthlyActivity.from_dense(dense, dense * 1000), [*acquired, 0], [*joined, 2], window=1
    )
    assert result.frequency.dropped == 1
    assert result.frequency.n_members == 2
    assert result.frequency.effect == pytest.approx(0.5)


def test_aov_counts_only_customers_with_orders_in_both_windows() -> None:
    _, acquired, joined = _tiny()
    dense = np.zeros((5, 5))
    dense[:4] = [[1, 1, 1, 2, 0], [1, 2, 0, 3, 0], [1, 1, 0, 1, 0], [1, 2, 0, 3, 0]]
    spend = np.zeros((5, 5))
    spend[:4] = [
        [900, 3000, 500, 8000, 0],
        [900, 4000, 0, 9000, 0],
        [900, 2000, 0, 2400, 0],
        [900, 5000, 0, 9000, 0],
    ]
    dense[4], spend[4] = [1, 1, 0, 0, 0], [900, 7000, 0, 0, 0]  # E, member: nothing after
    result = estimate(
        MonthlyActivity.from_dense(dense, spend), [*acquired, 0], [*joined, 2], window=1
    )
    # E's frequency change (-1) counts; E has no AOV after joining, so AOV is unchanged.
    assert result.frequency.n_members == 3
    assert result.frequency.effect == pytest.approx((1 + 1 - 1) / 3 - 0.5)
    assert result.aov.n_members == 2
    assert result.aov.effect == pytest.approx(550)


def test_the_order_of_customers_does_not_matter() -> None:
    pop = population(3_000, seed=18, effect=0.3)
    order = np.random.default_rng(4).permutation(3_000)
    first = estimate(pop.activity, pop.acquired, pop.joined)
    again = estimate(
        MonthlyActivity.from_dense(pop.orders[order], pop.spend[order]),
        pop.acquired[order],
        pop.joined[order],
    )
    assert again.frequency.effect == pytest.approx(first.frequency.effect)
    assert again.frequency.interval == pytest.approx(first.frequency.interval)
    assert again.aov.effect == pytest.approx(first.aov.effect)
    assert (again.frequency.n_members, again.frequency.n_controls) == (
        first.frequency.n_members,
        first.frequency.n_controls,
    )


def test_members_without_a_full_window_are_ineligible() -> None:
    activity, _, _ = _tiny()
    # B now joins in month 4 (no post window), A was acquired too late for a clean pre window.
    result = estimate(activity, [1, 0, 0, 0], [2, 4, -1, -1], window=1)
    assert result.members_total == 2
    assert result.ineligible == 2
    assert result.frequency.n_members == 0
    assert result.frequency.effect is None
    assert result.frequency.verdict == uplift_verdict.TOO_THIN


def test_entries_in_any_order_and_nan_for_never_give_the_same_estimate() -> None:
    activity, acquired, joined = _tiny()
    shuffled = np.random.default_rng(3).permutation(len(activity.month))
    again = MonthlyActivity.from_entries(
        activity.customer[shuffled],
        activity.month[shuffled],
        activity.orders[shuffled],
        activity.spend[shuffled],
        n_customers=4,
        n_months=5,
    )
    first = estimate(activity, acquired, joined, window=1)
    second = estimate(again, acquired, [2.0, 2.0, math.nan, math.nan], window=1)
    assert second == first


def test_recovers_an_injected_30_percent_rise_in_frequency() -> None:
    # Luckin's reported figure: members buy 30 % more often after joining; AOV +10 %.
    pop = population(20_000, seed=11, effect=0.30, aov_effect=0.10)
    result = estimate(pop.activity, pop.acquired, pop.joined)
    freq = result.frequency
    assert freq.relative_interval is not None
    low, high = freq.relative_interval
    assert low <= 0.30 <= high
    assert high - low < 0.1
    assert freq.verdict == uplift_verdict.INCREASE
    assert freq.pre_trend == uplift_verdict.PRE_TREND_OK
    assert freq.n_members > 3000
    assert freq.n_controls > 10_000
    aov_low, aov_high = result.aov.relative_interval or (math.nan, math.nan)
    assert aov_low <= 0.10 <= aov_high
    assert result.aov.verdict == uplift_verdict.INCREASE
    # The chart: before joining the weighted controls buy like the members, after it less.
    curves = result.curves
    assert curves.members_orders[0] == pytest.approx(curves.controls_orders[0], rel=0.1)
    assert curves.members_orders[-1] > 1.2 * curves.controls_orders[-1]


def test_no_effect_reported_when_none_was_injected() -> None:
    pop = population(20_000, seed=12)
    freq = estimate(pop.activity, pop.acquired, pop.joined).frequency
    assert freq.interval is not None
    assert freq.interval[0] <= 0 <= freq.interval[1]
    assert freq.verdict == uplift_verdict.NO_CLEAR_EFFECT


def test_selection_of_active_customers_fools_the_naive_comparison_but_not_the_estimate() -> None:
    # No effect of joining. The most active customers join far more often, and the whole market
    # buys a little more every month: members' own before/after shows a rise.
    pop = population(20_000, seed=13, selection=2.0, shift=0.03)
    freq = estimate(pop.activity, pop.acquired, pop.joined).frequency
    assert freq.members_pre is not None
    assert freq.naive is not None
    assert freq.interval is not None
    assert freq.naive / freq.members_pre > 0.05
    assert freq.naive > freq.interval[1]
    assert freq.interval[0] <= 0 <= freq.interval[1]
    assert freq.verdict == uplift_verdict.NO_CLEAR_EFFECT


def test_matching_leaves_no_regression_to_the_mean_when_members_are_more_active() -> None:
    # Strong selection on activity, no trend, no effect: matching on the pre window itself
    # would report about +15 % here (docs/uplift.md); matching on the history before it not.
    pop = population(20_000, seed=14, selection=2.0)
    freq = estimate(pop.activity, pop.acquired, pop.joined).frequency
    assert freq.interval is not None
    assert freq.interval[0] <= 0 <= freq.interval[1]


def test_placebo_flags_members_who_were_already_rising_before_joining() -> None:
    # Members buy 40 % more in the 4 months before joining: the pre-trend is not parallel.
    pop = population(20_000, seed=15, pre_join_rise=0.4)
    freq = estimate(pop.activity, pop.acquired, pop.joined).frequency
    assert freq.placebo is not None
    assert freq.placebo.relative is not None
    assert freq.placebo.relative > uplift_verdict.PLACEBO_TOLERANCE
    assert freq.pre_trend == uplift_verdict.PRE_TREND_DOUBTFUL


def test_tiny_samples_are_too_thin_to_tell() -> None:
    pop = population(150, seed=16, effect=0.3)
    result = estimate(pop.activity, pop.acquired, pop.joined)
    assert 0 < result.frequency.n_members < uplift_verdict.MIN_MEMBERS
    assert result.frequency.verdict == uplift_verdict.TOO_THIN
    assert result.aov.verdict == uplift_verdict.TOO_THIN
    with translation.override("en"):
        assert result.frequency.verdict_label == "Too thin to tell"


def test_a_wide_interval_is_too_thin_even_with_enough_customers() -> None:
    # About 130 members compared over one month each side: the interval spans -37 % .. +23 %.
    pop = population(1_500, seed=17, join_share=0.1)
    freq = estimate(pop.activity, pop.acquired, pop.joined, window=1).frequency
    assert freq.n_members >= uplift_verdict.MIN_MEMBERS
    assert freq.n_controls >= uplift_verdict.MIN_CONTROLS
    assert freq.relative_interval is not None
    low, high = freq.relative_interval
    assert (high - low) / 2 > uplift_verdict.MAX_RELATIVE_HALF_WIDTH
    assert freq.verdict == uplift_verdict.TOO_THIN


@pytest.mark.parametrize("n_customers", [0, 5])
def test_empty_input_does_not_crash(n_customers: int) -> None:
    activity = MonthlyActivity.from_entries([], [], [], [], n_customers=n_customers, n_months=12)
    result = estimate(activity, [-1] * n_customers, [-1] * n_customers)
    for effect in (result.frequency, result.aov):
        assert effect.effect is None
        assert effect.interval is None
        assert effect.n_members == 0
        assert effect.verdict == uplift_verdict.TOO_THIN
        assert effect.pre_trend == uplift_verdict.PRE_TREND_UNCHECKED
    assert result.curves.members_orders == []
    assert result.members_total == 0


def test_bad_input_names_what_is_wrong() -> None:
    activity, acquired, joined = _tiny()
    with pytest.raises(ValueError, match="acquired"):
        estimate(activity, [0, 0], joined)
    with pytest.raises(ValueError, match="joined"):
        estimate(activity, acquired, [2])
    with pytest.raises(ValueError, match="window"):
        estimate(activity, acquired, joined, window=0)
    with pytest.raises(ValueError, match="interval"):
        estimate(activity, acquired, joined, interval="guess")
    with pytest.raises(ValueError, match="months"):
        MonthlyActivity.from_entries([0], [7], [1], [100], n_customers=1, n_months=5)
    with pytest.raises(ValueError, match="customer"):
        MonthlyActivity.from_entries([3], [0], [1], [100], n_customers=1, n_months=5)
