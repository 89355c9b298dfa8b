"""The cut rules, proven for any price, floor, helper count and new-customer weighting."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siyu.bargain.cuts import (
    MAX_HELPERS,
    MAX_WEIGHT,
    CutError,
    draw_cut,
    progress_permille,
    replay,
)

MAX_PRICE = 10_000_000_00  # ¥10,000,000


@st.composite
def bargains(draw: st.DrawFn) -> tuple[int, int, int, int, list[int]]:
    helpers = draw(st.integers(1, MAX_HELPERS))
    original = draw(st.integers(helpers, MAX_PRICE))
    floor = draw(st.integers(0, original - helpers))
    seed = draw(st.integers(-(2**63), 2**63 - 1))
    new_weight = draw(st.integers(1, MAX_WEIGHT))
    # each helper is new (counted new_weight times) or not; more than enough helpers
    new = draw(st.lists(st.booleans(), min_size=helpers, max_size=helpers))
    weights = [new_weight if is_new else 1 for is_new in new]
    return original, floor, helpers, seed, weights


@settings(max_examples=400, deadline=None)
@given(bargains())
def test_cuts_sum_exactly_to_original_minus_floor_when_the_last_needed_helper_cuts(
    case: tuple[int, int, int, int, list[int]],
) -> None:
    original, floor, helpers, seed, weights = case
    cuts = replay(original - floor, helpers, seed, weights)
    assert sum(c.shares for c in cuts) == helpers
    assert sum(c.amount for c in cuts) == original - floor
    assert len(cuts) <= helpers


@settings(max_examples=400, deadline=None)
@given(bargains())
def test_every_cut_is_at_least_one_fen_and_the_price_never_goes_below_the_floor(
    case: tuple[int, int, int, int, list[int]],
) -> None:
    original, floor, helpers, seed, weights = case
    price = original
    for cut in replay(original - floor, helpers, seed, weights):
        assert cut.amount >= 1
        assert cut.amount >= cut.shares
        price -= cut.amount
        assert price >= floor


@settings(max_examples=200, deadline=None)
@given(bargains())
def test_a_cut_is_re_derived_from_the_seed(case: tuple[int, int, int, int, list[int]]) -> None:
    original, floor, helpers, seed, weights = case
    assert replay(original - floor, helpers, seed, weights) == replay(
        original - floor, helpers, seed, weights
    )


@settings(max_examples=200, deadline=None)
@given(st.integers(2, MAX_HELPERS), st.integers(0, 2**32), st.data())
def test_a_new_customer_covers_weight_shares_and_stops_at_the_count(
    helpers: int, seed: int, data: st.DataObject
) -> None:
    weight = data.draw(st.integers(2, MAX_WEIGHT))
    total = data.draw(st.integers(helpers, 10**7))
    cuts = replay(total, helpers, seed, [weight] * helpers)
    assert len(cuts) == -(-helpers // weight)  # ceil: fewer new helpers are needed
    assert cuts[-1].shares == helpers - weight * (len(cuts) - 1)
    assert sum(c.amount for c in cuts) == total


def test_early_helpers_cut_more_on_average() -> None:
    firsts, lasts = 0, 0
    for seed in range(300):
        cuts = replay(100_00, 10, seed, [1] * 10)
        firsts += cuts[0].amount
        lasts += cuts[-2].amount
    assert firsts > 2 * lasts


def test_the_first_cut_of_one_needed_helper_is_everything() -> None:
    assert draw_cut(remaining=5000, shares_left=1, weight=1, seed=7, sequence=1) == 5000


@pytest.mark.parametrize(
    ("remaining", "shares_left", "weight", "sequence"),
    [(2, 3, 1, 1), (-1, 1, 1, 1), (10, 0, 1, 1), (10, 2, 0, 1), (10, 2, 1, 0)],
)
def test_impossible_inputs_are_refused(
    remaining: int, shares_left: int, weight: int, sequence: int
) -> None:
    with pytest.raises(CutError):
        draw_cut(
            remaining=remaining,
            shares_left=shares_left,
            weight=weight,
            seed=1,
            sequence=sequence,
        )


def test_progress_goes_from_the_original_price_to_the_floor() -> None:
    assert progress_permille(10000, 2000, 10000) == 0
    assert progress_permille(10000, 2000, 6000) == 500
    assert progress_permille(10000, 2000, 2000) == 1000
