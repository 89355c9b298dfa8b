"""Priced carts per second through the pure pricing module, with five active promotions.

Carts of 1–8 lines (SKUs ¥5–¥60, quantities 1–3) are priced for delivery with a flat fee,
first with no promotion, then with five at once, one per stage: an activity price off one
line (PRICE), a 5 % member discount (MEMBER), ¥10 off from ¥80 (PROMOTION), a 15 %
coupon capped at ¥20 on half the products (COUPON) and a free-delivery coupon from ¥50
(SHIPPING). The figure is carts per second on one core (the median of three rounds), each
cart fully explained (``PricedCart.explanation()``) as checkout stores it.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from harness import Result, median_seconds, rate
from siyu.orders.pricing import (
    DELIVERY,
    Adjuster,
    FixedDiscount,
    PercentOff,
    PricingLine,
    ShippingRule,
    Stage,
    price_cart,
)
from siyu.promotions.offers import CouponOffer

CARTS = 20_000
SHIPPING = ShippingRule(flat_fee=800, free_over=9900)


def _carts(rng: random.Random) -> list[list[PricingLine]]:
    carts = []
    for _ in range(CARTS):
        skus = rng.sample(range(1, 200), rng.randint(1, 8))
        carts.append(
            [
                PricingLine(
                    sku_id=sku,
                    quantity=rng.randint(1, 3),
                    unit_price=rng.randrange(500, 6000, 100),
                    product_id=sku,
                )
                for sku in skus
            ]
        )
    return carts


PROMOTIONS: tuple[Adjuster, ...] = (
    FixedDiscount(300, code="activity:1", stage=Stage.PRICE, line=0),
    PercentOff(5, code="member:gold"),
    FixedDiscount(1000, code="promotion:80-10", stage=Stage.PROMOTION),
    CouponOffer(
        "coupon:1",
        "15% off coffee",
        "percent",
        percent_bp=1500,
        cap=2000,
        eligible_products=frozenset(range(1, 200, 2)),
    ),
    CouponOffer("coupon:2", "Free delivery", "free_shipping", threshold=5000),
)


def run() -> list[Result]:
    carts = _carts(random.Random(11))
    results = []
    for label, adjusters in (("no promotion", ()), ("five promotions", PROMOTIONS)):

        def price_all(adjusters: Sequence[Adjuster] = adjusters) -> None:
            for lines in carts:
                price_cart(
                    lines, fulfilment=DELIVERY, shipping=SHIPPING, adjustments=adjusters
                ).explanation()

        seconds = median_seconds(price_all)
        results.append(
            Result(
                f"priced carts, {label}",
                "carts/s",
                rate(len(carts), seconds),
                len(carts),
                "1–8 lines, explained; one core, pure Python",
            )
        )
    return results
