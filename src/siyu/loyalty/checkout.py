"""Loyalty's part of an order's offers, for :func:`siyu.promotions.checkout.offers_for`.

:func:`offers` gives ``(adjuster, field, placed)`` triples: the member tier's discount and free
delivery (when the purchase allows member discounts), and the points the customer chose to
redeem (checked against what they can spend now; ``placed`` spends them in the order's
transaction, re-checked under the account lock). A choice that cannot be honoured is
``InvalidInput`` on ``points`` before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from siyu.core.errors import InvalidInput
from siyu.loyalty import selectors
from siyu.loyalty.offers import PointsOffer, TierDiscount, TierFreeShipping
from siyu.orders import pricing

if TYPE_CHECKING:
    from siyu.customers.models import Customer

Placed = Callable[[Any, int], None]
FIELD = "points"


def _refuse(reason: str) -> InvalidInput:
    return InvalidInput(reason, fields={FIELD: reason})


def offers(
    customer: Customer, points: object, *, member_discount: bool = True, points_allowed: bool = True
) -> list[tuple[pricing.Adjuster, str, Placed | None]]:
    found: list[tuple[pricing.Adjuster, str, Placed | None]] = []
    if isinstance(points, bool) or not isinstance(points, int) or points < 0:
        raise _refuse(_("A whole number of points from 0."))
    if member_discount:
        tier = selectors.customer_tier(customer)
        if tier is not None and tier.discount_bp > 0:
            found.append((TierDiscount(tier.name, tier.discount_bp), "member", None))
        if tier is not None and tier.free_shipping:
            found.append((TierFreeShipping(tier.name), "member", None))
    if points == 0:
        return found
    if not points_allowed:
        raise _refuse(_("Points cannot be used on this purchase."))
    conf = selectors.settings_for()
    if not conf.enabled or conf.max_redeem_bp <= 0:
        raise _refuse(_("Points cannot be used in this shop."))
    available = selectors.available_of(customer)
    if available < points:
        raise _refuse(selectors.short_text(available))
    fen_per_point = conf.fen_per_point

    def spend(order: Any, discount: int) -> None:
        from siyu.loyalty import services

        services.redeem_for_order(customer, order, discount // fen_per_point)

    offer = PointsOffer(points, fen_per_point, conf.max_redeem_bp)
    found.append((offer, FIELD, spend))
    return found


def quote_for(customer: Customer, priced: pricing.PricedCart | None) -> dict[str, int]:
    """The points quote of a priced cart: what the goods cost before points (every earlier
    stage applied), and how many points could pay for them (``selectors.redeem_quote``)."""
    if priced is None:
        goods = 0
    else:
        from siyu.loyalty.offers import POINTS_CODE

        given = sum(d.amount for d in priced.discounts if d.code == POINTS_CODE)
        goods = priced.goods_total + given
    found = selectors.redeem_quote(customer, goods)
    return {
        "balance": found.balance,
        "max_points": found.max_points,
        "fen_per_point": found.fen_per_point,
        "max_amount": found.max_amount,
    }
