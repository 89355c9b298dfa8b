"""Coupons as pricing adjusters (pure): examples, then properties over random carts."""

from __future__ import annotations

from dataclasses import replace

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from siyu.orders.pricing import (
    DELIVERY,
    PICKUP,
    FixedDiscount,
    PercentOff,
    PricedCart,
    PricingLine,
    ShippingRule,
    Stage,
    describe,
    price_cart,
)
from siyu.promotions.offers import (
    KINDS,
    THRESHOLD_UNMET,
    CouponOffer,
    NotApplicable,
    OfferError,
    category_subtrees,
    stacking_problem,
    threshold_unmet,
)

SHIP = ShippingRule(flat_fee=800)


def line(sku: int, qty: int, price: int, product: int | None = None) -> PricingLine:
    return PricingLine(sku_id=sku, quantity=qty, unit_price=price, product_id=product or sku)


def priced(lines: list[PricingLine], *offers: object, fulfilment: str = DELIVERY) -> PricedCart:
    return price_cart(lines, fulfilment=fulfilment, shipping=SHIP, adjustments=offers)  # type: ignore[arg-type]


def test_fixed_coupon_takes_its_amount_off_and_explains_it() -> None:
    cart = priced([line(1, 2, 1500)], CouponOffer("coupon:1", "Spring", "fixed", amount=500))
    assert cart.subtotal == 3000
    assert cart.goods_discount_total == 500
    assert cart.total == 3000 - 500 + 800
    (discount,) = cart.discounts
    assert discount.code == "coupon:1"
    assert describe(discount.note) == "Coupon Spring: −¥5.00"


def test_fixed_coupon_never_takes_more_than_the_eligible_goods() -> None:
    offer = CouponOffer("coupon:1", "Big", "fixed", amount=10_000, eligible_products=frozenset({1}))
    cart = priced([line(1, 1, 300), line(2, 1, 700)], offer)
    assert cart.lines[0].total == 0
    assert cart.lines[1].total == 700  # the ineligible line keeps its price
    assert cart.goods_discount_total == 300


def test_percentage_coupon_with_a_cap() -> None:
    offer = CouponOffer("coupon:2", "Member", "percent", percent_bp=2000, cap=1000)
    assert priced([line(1, 1, 3000)], offer).goods_discount_total == 600  # 20 % of ¥30
    cart = priced([line(1, 1, 9000)], offer)
    assert cart.goods_discount_total == 1000  # 20 % of ¥90 is ¥18, capped at ¥10
    assert describe(cart.discounts[0].note) == (
        "Coupon Member: 20% off eligible goods, at most ¥10.00"
    )


def test_percentage_rounds_down_to_the_fen() -> None:
    offer = CouponOffer("coupon:2", "Odd", "percent", percent_bp=1250)
    assert priced([line(1, 1, 999)], offer).goods_discount_total == 124  # 124.875


def test_threshold_counts_only_eligible_goods() -> None:
    offer = CouponOffer(
        "coupon:3",
        "Coffee 满减",
        "threshold",
        amount=1000,
        threshold=5000,
        eligible_products=frozenset({1}),
    )
    # ¥40 of coffee and ¥30 of cups: the cups do not count towards the threshold
    cart = priced([line(1, 2, 2000), line(2, 1, 3000)], offer)
    assert cart.goods_discount_total == 0
    note = threshold_unmet(d.note for d in cart.discounts)
    assert note is not None
    assert note.key == THRESHOLD_UNMET
    assert describe(note) == "Coupon Coffee 满减 needs ¥50.00 of eligible goods: ¥10.00 more"
    cart = priced([line(1, 3, 2000), line(2, 1, 3000)], offer)
    assert cart.goods_discount_total == 1000
    assert cart.lines[0].line_discount == 1000
    assert cart.lines[1].discount == 0
    assert threshold_unmet(d.note for d in cart.discounts) is None


def test_threshold_sees_what_earlier_stages_left() -> None:
    offer = CouponOffer("coupon:3", "满减", "threshold", amount=1000, threshold=5000)
    member = PercentOff(10)  # ¥50 → ¥45: below the threshold
    cart = priced([line(1, 1, 5000)], offer, member)
    assert cart.goods_discount_total == 500
    assert threshold_unmet(d.note for d in cart.discounts) is not None


def test_discount_spreads_over_eligible_lines_by_what_they_cost() -> None:
    offer = CouponOffer("coupon:1", "C", "fixed", amount=1000, eligible_products=frozenset({1, 3}))
    cart = priced([line(1, 1, 3000), line(2, 1, 5000), line(3, 1, 1000)], offer)
    assert [ln.line_discount for ln in cart.lines] == [750, 0, 250]


def test_free_shipping_coupon_takes_the_fee_and_needs_its_threshold() -> None:
    offer = CouponOffer("coupon:4", "Ship", "free_shipping", threshold=2000)
    cart = priced([line(1, 1, 2500)], offer)
    assert (cart.shipping_fee, cart.shipping_discount, cart.total) == (800, 800, 2500)
    assert describe(cart.discounts[0].note) == "Coupon Ship: free delivery"
    cart = priced([line(1, 1, 1500)], offer)
    assert cart.shipping_discount == 0
    assert cart.total == 2300
    cart = priced([line(1, 1, 2500)], offer, fulfilment=PICKUP)
    assert cart.shipping_discount == 0
    assert cart.total == 2500


def test_no_eligible_line_is_explained() -> None:
    offer = CouponOffer("coupon:1", "Tea", "fixed", amount=100, eligible_products=frozenset({9}))
    cart = priced([line(1, 1, 1000)], offer)
    assert cart.goods_discount_total == 0
    note = threshold_unmet(d.note for d in cart.discounts)
    assert note is not None
    assert describe(note) == "Coupon Tea: no item in this order is eligible"


def test_offers_that_cannot_exist_are_refused() -> None:
    with pytest.raises(OfferError):
        CouponOffer("c", "x", "fixed", amount=0)
    with pytest.raises(OfferError):
        CouponOffer("c", "x", "percent", percent_bp=10_001)
    with pytest.raises(OfferError):
        CouponOffer("c", "x", "bogus", amount=1)  # type: ignore[arg-type]
    with pytest.raises(OfferError):
        CouponOffer("c", "x", "fixed", amount=True)


def test_stacking_rules() -> None:
    a = CouponOffer("coupon:1", "A", "fixed", amount=100)
    b = CouponOffer("coupon:2", "B", "fixed", amount=100)
    ship = CouponOffer("coupon:3", "S", "free_shipping")
    ship2 = CouponOffer("coupon:4", "S2", "free_shipping")
    sa = CouponOffer("coupon:5", "SA", "fixed", amount=100, stackable=True)
    sb = CouponOffer("coupon:6", "SB", "percent", percent_bp=100, stackable=True)
    assert stacking_problem([a]) is None
    assert stacking_problem([a, ship]) is None
    assert stacking_problem([a, b]) is not None
    assert stacking_problem([sa, a]) is not None
    assert stacking_problem([sa, sb, ship]) is None
    assert stacking_problem([ship, ship2]) is not None
    assert stacking_problem([sa, sa]) is not None


def test_category_subtrees() -> None:
    parents = {1: None, 2: 1, 3: 2, 4: None, 5: 4}
    assert category_subtrees(parents, [1]) == {1, 2, 3}
    assert category_subtrees(parents, [2, 5]) == {2, 3, 5}
    assert category_subtrees(parents, [99]) == set()


# -- properties ------------------------------------------------------------------------

lines_st = st.lists(
    st.tuples(st.integers(1, 6), st.integers(1, 5), st.integers(0, 50_000)),
    min_size=1,
    max_size=6,
    unique_by=lambda t: t[0],
).map(lambda rows: [line(sku, qty, price, product=sku) for sku, qty, price in rows])

eligible_st = st.one_of(st.none(), st.frozensets(st.integers(1, 6), max_size=6))


@st.composite
def offers_st(draw: st.DrawFn, code: str) -> CouponOffer:
    kind = draw(st.sampled_from(KINDS))
    return CouponOffer(
        code,
        code,
        kind,
        amount=draw(st.integers(1, 100_000)) if kind in ("fixed", "threshold") else 0,
        percent_bp=draw(st.integers(1, 10_000)) if kind == "percent" else 0,
        cap=draw(st.one_of(st.none(), st.integers(0, 20_000))),
        threshold=draw(st.integers(0, 200_000)),
        eligible_products=draw(eligible_st),
        stackable=True,
    )


others_st = st.lists(
    st.one_of(
        st.builds(
            FixedDiscount,
            amount=st.integers(0, 50_000),
            code=st.just("promo"),
            stage=st.sampled_from([Stage.PRICE, Stage.PROMOTION, Stage.POINTS]),
        ),
        st.builds(PercentOff, percent=st.integers(0, 100)),
    ),
    max_size=2,
).map(lambda found: [replace(o, code=f"{o.code}{i}") for i, o in enumerate(found)])


@settings(max_examples=300, deadline=None)
@given(
    lines=lines_st,
    coupons=st.lists(st.integers(0, 10**6), max_size=3, unique=True).flatmap(
        lambda ids: st.tuples(*[offers_st(f"coupon:{i}") for i in ids])
    ),
    others=others_st,
    fulfilment=st.sampled_from([DELIVERY, PICKUP]),
    shipping=st.builds(
        ShippingRule,
        flat_fee=st.integers(0, 2000),
        free_over=st.one_of(st.none(), st.integers(0, 100_000)),
    ),
)
def test_priced_carts_with_coupons_add_up_and_explain_every_discount(
    lines: list[PricingLine],
    coupons: tuple[CouponOffer, ...],
    others: list[object],
    fulfilment: str,
    shipping: ShippingRule,
) -> None:
    cart = price_cart(
        lines,
        fulfilment=fulfilment,
        shipping=shipping,
        adjustments=[*coupons, *others],  # type: ignore[list-item]
    )
    # never below zero, anywhere
    assert cart.total >= 0
    assert cart.goods_total >= 0
    assert cart.shipping_total >= 0
    assert all(ln.total >= 0 for ln in cart.lines)
    # totals equal their parts
    assert cart.total == cart.subtotal - cart.goods_discount_total + cart.shipping_total
    assert cart.goods_total == sum(ln.total for ln in cart.lines)
    assert all(
        ln.total == ln.gross - ln.line_discount - ln.order_discount_share for ln in cart.lines
    )
    # every discount is explained, and explanations are exactly the discounts given
    assert sum(d.amount for d in cart.discounts) == cart.discount_total
    assert all(d.note.key and describe(d.note) for d in cart.discounts)
    assert all(0 <= d.amount <= d.requested for d in cart.discounts)
    for coupon in coupons:
        given_here = [d for d in cart.discounts if d.code == coupon.code]
        assert given_here, "a coupon always leaves a note, even when it gives nothing"
        goods = [d for d in given_here if d.target == "goods"]
        # a goods coupon only touches eligible lines, never more than they cost
        for d in goods:
            assert d.line is not None or d.amount == 0
            if d.line is not None and d.amount:
                assert coupon.eligible_products is None or (
                    lines[d.line].product_id in coupon.eligible_products
                )
        eligible_gross = sum(
            ln.gross
            for ln in cart.lines
            if coupon.eligible_products is None or ln.product_id in coupon.eligible_products
        )
        assert sum(d.amount for d in goods) <= eligible_gross
        if coupon.kind == "percent" and coupon.cap is not None:
            assert sum(d.amount for d in goods) <= coupon.cap
        if coupon.kind in ("fixed", "threshold"):
            assert sum(d.amount for d in goods) <= coupon.amount
    # the same inputs give the same result (preview and charge agree)
    again = price_cart(
        lines,
        fulfilment=fulfilment,
        shipping=shipping,
        adjustments=list(reversed([*coupons, *others])),  # type: ignore[list-item]
    )
    assert again.explanation() == cart.explanation()


def test_a_strict_coupon_refuses_a_cart_below_its_threshold() -> None:
    offer = CouponOffer("coupon:3", "满减", "threshold", amount=1000, threshold=5000, strict=True)
    with pytest.raises(NotApplicable) as refused:
        priced([line(1, 1, 4000)], offer)
    assert describe(refused.value.note) == "Coupon 满减 needs ¥50.00 of eligible goods: ¥10.00 more"
    assert priced([line(1, 1, 5000)], offer).goods_discount_total == 1000


def test_explanations_read_in_chinese() -> None:
    offer = CouponOffer("coupon:3", "满100减10", "threshold", amount=1000, threshold=10000)
    cart = priced([line(1, 1, 12000)], offer)
    with translation.override("zh-hans"):
        assert describe(cart.discounts[0].note) == "优惠券 满100减10：满 ¥100.00 减 ¥10.00"
