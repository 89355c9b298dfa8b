"""The pricing module: pure arithmetic in fen, explained, the same on every call."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from siyu.orders import pricing
from siyu.orders.pricing import (
    Adjustment,
    FixedDiscount,
    Note,
    PercentOff,
    PricingError,
    PricingLine,
    ShippingRule,
    Stage,
    allocate,
    describe,
    price_cart,
)

FREE = ShippingRule()


def lines(*pairs: tuple[int, int]) -> list[PricingLine]:
    return [PricingLine(sku_id=i + 1, quantity=q, unit_price=p) for i, (q, p) in enumerate(pairs)]


def test_lines_subtotal_and_total_without_promotions():
    priced = price_cart(lines((2, 1800), (1, 2600)), fulfilment="pickup", shipping=FREE)
    assert [line.gross for line in priced.lines] == [3600, 2600]
    assert [line.total for line in priced.lines] == [3600, 2600]
    assert priced.subtotal == 6200
    assert priced.discount_total == 0
    assert priced.shipping_fee == 0
    assert priced.total == 6200


def test_flat_shipping_fee_and_free_over_a_threshold_on_the_discounted_goods():
    rule = ShippingRule(flat_fee=800, free_over=5000)
    cheap = price_cart(lines((1, 3000)), fulfilment="delivery", shipping=rule)
    assert cheap.shipping_fee == 800
    assert cheap.total == 3800
    dear = price_cart(lines((2, 3000)), fulfilment="delivery", shipping=rule)
    assert dear.shipping_fee == 0
    assert dear.total == 6000
    # ¥60 of goods but ¥20 off: ¥40 is below the threshold, so the fee applies
    discounted = price_cart(
        lines((2, 3000)), fulfilment="delivery", shipping=rule, adjustments=[FixedDiscount(2000)]
    )
    assert discounted.shipping_fee == 800
    assert discounted.total == 4000 + 800


def test_pickup_never_pays_shipping():
    rule = ShippingRule(flat_fee=800)
    assert price_cart(lines((1, 100)), fulfilment="pickup", shipping=rule).shipping_fee == 0


def test_a_discount_larger_than_the_goods_is_capped_at_zero_and_says_so():
    priced = price_cart(
        lines((1, 1000)), fulfilment="pickup", shipping=FREE, adjustments=[FixedDiscount(5000)]
    )
    assert priced.total == 0
    (discount,) = priced.discounts
    assert discount.requested == 5000
    assert discount.amount == 1000


def test_a_line_discount_never_takes_the_line_below_zero():
    priced = price_cart(
        lines((1, 1000), (1, 500)),
        fulfilment="pickup",
        shipping=FREE,
        adjustments=[FixedDiscount(800, code="x", line=1)],
    )
    assert [line.total for line in priced.lines] == [1000, 0]
    assert priced.total == 1000


def test_order_discounts_are_spread_over_lines_exactly():
    priced = price_cart(
        lines((1, 1000), (1, 1000), (1, 1000)),
        fulfilment="pickup",
        shipping=FREE,
        adjustments=[FixedDiscount(100)],
    )
    assert [line.order_discount_share for line in priced.lines] == [34, 33, 33]
    assert sum(line.total for line in priced.lines) == priced.total == 2900


def test_stacking_order_is_by_stage_not_by_list_order():
    # 10 % off first (member stage), then ¥10 off (promotion): 100 → 90 → 80
    a = price_cart(
        lines((1, 10000)),
        fulfilment="pickup",
        shipping=FREE,
        adjustments=[FixedDiscount(1000, stage=Stage.PROMOTION), PercentOff(10)],
    )
    b = price_cart(
        lines((1, 10000)),
        fulfilment="pickup",
        shipping=FREE,
        adjustments=[PercentOff(10), FixedDiscount(1000, stage=Stage.PROMOTION)],
    )
    assert a == b
    assert a.total == 8000
    assert [d.code for d in a.discounts] == ["percent", "discount"]


def test_later_adjusters_see_what_earlier_ones_left():
    seen: list[int] = []

    @dataclass(frozen=True)
    class Spy:
        code: str = "spy"
        stage: int = Stage.COUPON

        def adjustments(self, state):
            seen.append(state.goods_remaining)
            return []

    price_cart(
        lines((1, 5000)),
        fulfilment="pickup",
        shipping=FREE,
        adjustments=[Spy(), FixedDiscount(700, stage=Stage.PRICE)],
    )
    assert seen == [4300]


def test_free_shipping_offer_is_capped_at_the_fee():
    priced = price_cart(
        lines((1, 1000)),
        fulfilment="delivery",
        shipping=ShippingRule(flat_fee=600),
        adjustments=[FixedDiscount(1000, code="freeship", stage=Stage.SHIPPING, target="shipping")],
    )
    assert priced.shipping_fee == 600
    assert priced.shipping_discount == 600
    assert priced.total == 1000
    assert priced.discount_total == 600


def test_explanation_is_json_safe_and_translates():
    import json

    priced = price_cart(
        lines((2, 1800)),
        fulfilment="delivery",
        shipping=ShippingRule(flat_fee=800, free_over=9900),
        adjustments=[FixedDiscount(300, code="C1")],
    )
    data = json.loads(json.dumps(priced.explanation()))
    assert data["total"]["amount"] == priced.total == 3600 - 300 + 800
    assert data["lines"][0]["gross"] == 3600
    with translation.override("en"):
        assert describe(data["lines"][0]["note"]) == "2 × ¥18.00 = ¥36.00"
        assert describe(data["shipping"]["note"]) == "Delivery fee ¥8.00 (free from ¥99.00)"
        assert describe(data["discounts"][0]["note"]) == "Discount C1: −¥3.00"
    with translation.override("zh-hans"):
        assert "¥8.00" in describe(data["shipping"]["note"])
        assert describe(data["shipping"]["note"]) != "Delivery fee ¥8.00 (free from ¥99.00)"


def test_describe_survives_a_note_with_missing_parameters():
    assert describe(Note("Delivery fee %(fee)s")) == "Delivery fee %(fee)s"


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (PricingLine(1, 0, 100), "quantity"),
        (PricingLine(1, 100, 100), "quantity"),
        (PricingLine(1, 1, -1), "unit_price"),
        (PricingLine(1, True, 100), "quantity"),  # type: ignore[arg-type]
    ],
)
def test_bad_lines_are_refused(line, problem):
    with pytest.raises(PricingError, match=problem):
        price_cart([line], fulfilment="pickup", shipping=FREE)


def test_bad_fulfilment_and_bad_adjustments_are_refused():
    with pytest.raises(PricingError):
        price_cart(lines((1, 1)), fulfilment="drone", shipping=FREE)
    with pytest.raises(PricingError):
        price_cart(
            lines((1, 1)), fulfilment="pickup", shipping=FREE, adjustments=[FixedDiscount(-1)]
        )
    with pytest.raises(PricingError):
        price_cart(
            lines((1, 1)),
            fulfilment="pickup",
            shipping=FREE,
            adjustments=[FixedDiscount(1, line=5)],
        )
    with pytest.raises(PricingError):
        ShippingRule(flat_fee=-5)


# --- properties ----------------------------------------------------------------------

line_strategy = st.builds(
    PricingLine,
    sku_id=st.integers(1, 10_000),
    quantity=st.integers(1, pricing.MAX_QUANTITY),
    unit_price=st.integers(0, 1_000_000),
)


@dataclass(frozen=True)
class RandomAdjuster:
    code: str
    stage: int
    asks: tuple[tuple[int, int | None, str], ...]  # (amount, line, target)

    def adjustments(self, state):
        return [
            Adjustment(
                amount,
                Note("x"),
                line=line % len(state.lines) if line is not None else None,
                target=target,
            )  # type: ignore[arg-type]
            for amount, line, target in self.asks
        ]


adjuster_strategy = st.builds(
    RandomAdjuster,
    code=st.text(alphabet="abc", min_size=1, max_size=3),
    stage=st.sampled_from(list(Stage)),
    asks=st.lists(
        st.tuples(
            st.integers(0, 50_000_000),
            st.one_of(st.none(), st.integers(0, 60)),
            st.sampled_from(["goods", "shipping"]),
        ),
        max_size=4,
    ).map(tuple),
)
rule_strategy = st.builds(
    ShippingRule,
    flat_fee=st.integers(0, 5000),
    free_over=st.one_of(st.none(), st.integers(0, 100_000)),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(line_strategy, min_size=1, max_size=50),
    st.sampled_from(["delivery", "pickup"]),
    rule_strategy,
    st.lists(adjuster_strategy, max_size=5),
)
def test_totals_are_the_sum_of_their_parts_never_negative_and_repeatable(
    priced_lines, fulfilment, rule, adjusters
):
    priced = price_cart(priced_lines, fulfilment=fulfilment, shipping=rule, adjustments=adjusters)
    again = price_cart(priced_lines, fulfilment=fulfilment, shipping=rule, adjustments=adjusters)
    assert priced == again
    assert priced.explanation() == again.explanation()
    assert priced.subtotal == sum(line.gross for line in priced.lines)
    assert priced.total == priced.subtotal - priced.discount_total + priced.shipping_fee
    assert priced.total == sum(line.total for line in priced.lines) + priced.shipping_total
    assert priced.discount_total == sum(d.amount for d in priced.discounts)
    assert priced.total >= 0
    assert priced.shipping_total >= 0
    for line in priced.lines:
        assert line.gross == line.unit_price * line.quantity
        assert line.total == line.gross - line.discount
        assert 0 <= line.total <= line.gross
        assert line.line_discount >= 0
        assert line.order_discount_share >= 0
    for discount in priced.discounts:
        assert 0 <= discount.amount <= discount.requested
    if fulfilment == "pickup":
        assert priced.shipping_fee == 0


@given(st.integers(0, 10**9), st.lists(st.integers(0, 10**7), min_size=1, max_size=60))
def test_allocation_is_exact_and_never_exceeds_a_weight(amount, weights):
    amount = min(amount, sum(weights))
    shares = allocate(amount, weights)
    assert sum(shares) == (amount if sum(weights) else 0)
    assert all(0 <= s <= w for s, w in zip(shares, weights, strict=True))
