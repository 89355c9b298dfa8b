"""The pure arithmetic of points and tiers, and the loyalty adjusters inside the pricing module:
whatever the cart, tier discount + coupon + points never take it below zero and every discount
is explained."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from siyu.loyalty import rules
from siyu.loyalty.offers import (
    POINTS_NOTE,
    TIER_NOTE,
    PointsOffer,
    TierDiscount,
    TierFreeShipping,
    usable_points,
)
from siyu.orders import pricing
from siyu.promotions.offers import CouponOffer


def test_earned_on_rounds_down_and_applies_the_multiplier() -> None:
    assert rules.earned_on(12_345, 1) == 123
    assert rules.earned_on(12_345, 1, 15_000) == 185  # 1.5× of 123.45
    assert rules.earned_on(99, 1) == 0
    assert rules.earned_on(-100, 1) == 0
    assert rules.earned_on(10_000, 2, 0) == 0


def test_kept_share_never_exceeds_the_figure() -> None:
    assert rules.kept_share(100, 5_000, 10_000) == 50
    assert rules.kept_share(101, 5_000, 10_000) == 50  # 50.5 kept → 51 go back
    assert rules.kept_share(100, 0, 10_000) == 0
    assert rules.kept_share(100, 12_000, 10_000) == 100
    assert rules.kept_share(0, 1, 1) == 0


def test_points_expire_at_the_end_of_the_following_year_in_the_merchants_zone() -> None:
    # 31 Dec 2025 20:00 UTC is already 1 Jan 2026 in Shanghai: earned in 2026, expires end 2027
    earned = datetime(2025, 12, 31, 20, 0, tzinfo=UTC)
    expires = rules.expiry_of(earned, rules.END_OF_NEXT_YEAR, 0, "Asia/Shanghai")
    assert expires is not None
    assert expires.astimezone(UTC) == datetime(2027, 12, 31, 16, 0, tzinfo=UTC)
    assert rules.expiry_of(earned, rules.NEVER, 0, "Asia/Shanghai") is None
    assert rules.expiry_of(earned, rules.DAYS, 30, "Asia/Shanghai") == earned + timedelta(days=30)


def test_fifo_takes_the_earliest_expiring_lots_first_and_never_expiring_last() -> None:
    soon = datetime(2026, 1, 1, tzinfo=UTC)
    later = datetime(2027, 1, 1, tzinfo=UTC)
    lots = [rules.Lot(1, 50, None), rules.Lot(2, 30, later), rules.Lot(3, 20, soon)]
    assert rules.fifo(lots, 60) == [(3, 20), (2, 30), (1, 10)]
    assert rules.fifo(lots, 500) == [(3, 20), (2, 30), (1, 50)]


def test_tier_for_picks_the_highest_rank_reached_on_its_own_basis() -> None:
    tiers = [
        rules.TierRule(1, 1, "Silver", "spend", 0),
        rules.TierRule(2, 2, "Gold", "spend", 100_000),
        rules.TierRule(3, 3, "Black", "points", 5_000),
    ]
    assert rules.tier_for(tiers, 0, 0) == tiers[0]
    assert rules.tier_for(tiers, 100_000, 0) == tiers[1]
    assert rules.tier_for(tiers, 0, 6_000) == tiers[2]
    progress = rules.next_tier(tiers, tiers[0], 40_000, 0)
    assert progress is not None
    assert (progress.tier.name, progress.need, progress.percent) == ("Gold", 60_000, 40)
    assert rules.next_tier(tiers, tiers[2], 0, 6_000) is None


def test_usable_points_are_whole_and_within_the_share() -> None:
    assert usable_points(1_000, 1_000, 1, 5_000) == 500
    assert usable_points(1_000, 999, 3, 5_000) == 166  # 499 fen allowed → 166 points of 3 fen
    assert usable_points(100, 100_000, 1, 5_000) == 100
    assert usable_points(100, 100_000, 1, 0) == 0


def _line(i: int, price: int, quantity: int) -> pricing.PricingLine:
    return pricing.PricingLine(sku_id=i + 1, quantity=quantity, unit_price=price, product_id=i + 1)


def test_a_tier_then_a_coupon_then_points_are_each_explained() -> None:
    priced = pricing.price_cart(
        [_line(0, 5_000, 2)],
        fulfilment=pricing.DELIVERY,
        shipping=pricing.ShippingRule(flat_fee=800),
        adjustments=[
            PointsOffer(10_000, 1, 5_000),
            CouponOffer("coupon:1", "¥10", "fixed", amount=1_000),
            TierDiscount("Gold", 500),
            TierFreeShipping("Gold"),
        ],
    )
    by_code = {d.code: d for d in priced.discounts}
    assert by_code["tier"].amount == 500  # 5 % of ¥100
    assert by_code["tier"].note.key == TIER_NOTE
    assert by_code["tier"].note.params["tier"] == "Gold"
    assert by_code["coupon:1"].amount == 1_000
    # points: at most half of the ¥85 left
    assert by_code["points"].amount == 4_250
    assert by_code["points"].note.key == POINTS_NOTE
    assert by_code["points"].note.params == {"points": 4_250, "amount": 4_250}
    assert by_code["tier:shipping"].amount == 800
    assert priced.total == 10_000 - 500 - 1_000 - 4_250
    pickup = pricing.price_cart(
        [_line(0, 5_000, 2)],
        fulfilment=pricing.PICKUP,
        shipping=pricing.ShippingRule(flat_fee=800),
        adjustments=[TierFreeShipping("Gold")],
    )
    assert pickup.discounts == ()  # no fee to waive, nothing claimed


lines_strategy = st.lists(
    st.tuples(st.integers(0, 50_000), st.integers(1, 5)), min_size=1, max_size=4
)


@settings(max_examples=300, deadline=None)
@given(
    lines=lines_strategy,
    tier_bp=st.integers(0, 9_000),
    free_shipping=st.booleans(),
    coupon=st.integers(0, 200_000),
    points=st.integers(0, 500_000),
    fen_per_point=st.integers(1, 100),
    share_bp=st.integers(0, 10_000),
    fee=st.integers(0, 2_000),
)
def test_any_cart_with_tier_coupon_and_points_stays_explained_and_never_below_zero(
    lines: list[tuple[int, int]],
    tier_bp: int,
    free_shipping: bool,
    coupon: int,
    points: int,
    fen_per_point: int,
    share_bp: int,
    fee: int,
) -> None:
    adjusters: list[pricing.Adjuster] = [
        TierDiscount("Gold", tier_bp),
        PointsOffer(points, fen_per_point, share_bp),
    ]
    if coupon:
        adjusters.append(CouponOffer("coupon:9", "c", "fixed", amount=coupon))
    if free_shipping:
        adjusters.append(TierFreeShipping("Gold"))
    priced = pricing.price_cart(
        [_line(i, p, q) for i, (p, q) in enumerate(lines)],
        fulfilment=pricing.DELIVERY,
        shipping=pricing.ShippingRule(flat_fee=fee),
        adjustments=adjusters,
    )
    assert priced.total >= 0
    assert all(line.total >= 0 for line in priced.lines)
    assert priced.shipping_total >= 0
    # every fen taken off is an explained discount, and the totals add up
    assert sum(d.amount for d in priced.discounts) == priced.discount_total
    assert priced.total == priced.subtotal - priced.discount_total + priced.shipping_fee
    assert all(d.note.key for d in priced.discounts)
    spent = [d for d in priced.discounts if d.code == "points"]
    assert len(spent) == 1
    used = int(spent[0].note.params["points"])
    assert used <= points
    assert spent[0].amount == used * fen_per_point  # whole points only
    goods_before_points = priced.goods_total + spent[0].amount
    assert spent[0].amount <= goods_before_points * share_bp // 10_000
    # the same inputs price the same (preview == charge)
    again = pricing.price_cart(
        [_line(i, p, q) for i, (p, q) in enumerate(lines)],
        fulfilment=pricing.DELIVERY,
        shipping=pricing.ShippingRule(flat_fee=fee),
        adjustments=list(reversed(adjusters)),
    )
    assert again.explanation() == priced.explanation()
