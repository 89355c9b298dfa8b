"""Checkout with offers: every promotion an order gets, assembled in one place.

A storefront checkout (the API, the checkout page, a group-buy or bargain purchase) says what
the customer chose — a coupon, points to redeem — in :class:`Choices`, and may bring an
*activity* :class:`Offer` (a group-buy or bargain price). :func:`offers_for` turns that into
the :class:`Offer` s for the order, each a pricing adjuster plus what to record once the
order exists (mark the coupon used, spend the points, seat the team member). The pricing
module stacks the adjusters by :class:`~siyu.orders.pricing.Stage`:

1. ``PRICE`` — the activity's price (group-buy, bargain);
2. ``MEMBER`` — the member tier's discount;
3. ``PROMOTION`` — spend-and-save;
4. ``COUPON`` — the chosen coupon(s);
5. ``POINTS`` — points redeemed as money;
6. ``SHIPPING`` — free-delivery coupons and tier benefits.

:func:`preview` and :func:`checkout` call the same :func:`offers_for` with the same values, so
a preview shows exactly what the order will charge. An offer that cannot apply (a coupon whose
threshold the goods miss) is ``InvalidInput`` naming the field the customer filled in
(``coupon_id``, ``points``), and nothing is written: the order and every ``placed`` record
share one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction

from siyu.core.errors import InvalidInput
from siyu.orders import pricing
from siyu.promotions import services as coupons
from siyu.promotions.offers import NotApplicable

if TYPE_CHECKING:
    from siyu.customers.models import Customer
    from siyu.orders.models import Order

# Called in the order's transaction with the order and the discount its adjuster gave (fen).
Placed = Callable[["Order", int], None]


@dataclass(frozen=True)
class Choices:
    """What the customer chose at checkout."""

    coupon_id: int | None = None
    points: int = 0  # points to redeem; 0: none


@dataclass(frozen=True)
class Offer:
    """One promotion on an order: its adjuster, the request field it answers to, and what to
    record when the order is placed."""

    adjuster: pricing.Adjuster
    field: str  # the input that chose it ("coupon_id", "points", "activity"), for errors
    placed: Placed | None = None


@dataclass(frozen=True)
class Rules:
    """Which customer choices an order may combine with (an activity may forbid coupons)."""

    coupons: bool = True
    points: bool = True
    member_discount: bool = True
    extra: tuple[Offer, ...] = field(default_factory=tuple)


def offers_for(
    customer: Customer,
    choices: Choices,
    *,
    activity: Offer | None = None,
    rules: Rules | None = None,
) -> list[Offer]:
    """The offers of one order, checked: a choice the order cannot take is ``InvalidInput``
    naming its field (a coupon on a group-buy that forbids coupons, another's coupon...)."""
    rules = rules or Rules()
    offers: list[Offer] = []
    if activity is not None:
        offers.append(activity)
    offers.extend(rules.extra)
    if choices.coupon_id is not None:
        if not rules.coupons:
            raise _refuse("coupon_id", _no_coupons())
        applied = coupons.apply(customer, choices.coupon_id)
        offers.append(
            Offer(
                applied.offer,
                "coupon_id",
                lambda order, discount: coupons.mark_used(applied, order, discount),
            )
        )
    from siyu.loyalty import checkout as loyalty  # member tier benefits and points

    for adjuster, name, placed in loyalty.offers(
        customer,
        choices.points,
        member_discount=rules.member_discount,
        points_allowed=rules.points,
    ):
        offers.append(Offer(adjuster, name, placed))
    return offers


def _no_coupons() -> str:
    from django.utils.translation import gettext as _

    return _("Coupons cannot be used on this purchase.")


def _refuse(name: str, reason: str) -> InvalidInput:
    return InvalidInput(reason, fields={name: reason})


def _refused(offers: Sequence[Offer], refused: NotApplicable) -> InvalidInput:
    """The strict offer that refused the cart, as ``InvalidInput`` on its field."""
    reason = pricing.describe(refused.note)
    name = next((o.field for o in offers if o.adjuster.code == refused.code), None)
    if name is None:  # an adjuster that did not say: the coupon is the usual one
        name = next((o.field for o in offers if o.field == "coupon_id"), offers[-1].field)
    return _refuse(name, reason)


def adjusters(offers: Sequence[Offer]) -> list[pricing.Adjuster]:
    return [offer.adjuster for offer in offers]


def cart_view(
    customer: Customer,
    *,
    choices: Choices,
    fulfilment: str,
    store_id: int | None,
    rules: Rules | None = None,
) -> Any:
    """The customer's cart priced with the offers ``choices`` give (``orders.selectors``'
    ``CartView``); an offer that does not apply is ``InvalidInput`` on its field."""
    from siyu.orders import selectors as order_selectors

    offers = offers_for(customer, choices, rules=rules)
    try:
        return order_selectors.cart_view(
            customer, fulfilment=fulfilment, store_id=store_id, adjusters=adjusters(offers)
        )
    except NotApplicable as refused:
        raise _refused(offers, refused) from None


def preview(
    customer: Customer,
    *,
    choices: Choices,
    activity: Offer | None = None,
    rules: Rules | None = None,
    **placing: Any,
) -> Any:
    """What :func:`checkout` with the same arguments would charge (``CheckoutPreview``)."""
    from siyu.orders import selectors as order_selectors

    offers = offers_for(customer, choices, activity=activity, rules=rules)
    try:
        return order_selectors.checkout_preview(customer, adjusters=adjusters(offers), **placing)
    except NotApplicable as refused:
        raise _refused(offers, refused) from None


@transaction.atomic
def checkout(
    customer: Customer,
    *,
    choices: Choices | None = None,
    activity: Offer | None = None,
    rules: Rules | None = None,
    **placing: Any,
) -> Order:
    """Place an order (``siyu.orders.services.checkout`` with ``placing``) with its offers,
    recording each (coupon used, points spent, team seat) in the order's transaction."""
    from siyu.orders import services as order_services

    offers = offers_for(customer, choices or Choices(), activity=activity, rules=rules)
    try:
        order = order_services.checkout(customer, adjusters=adjusters(offers), **placing)
    except NotApplicable as refused:
        raise _refused(offers, refused) from None
    given = discounts_by_code(order)
    for offer in offers:
        if offer.placed is not None:
            offer.placed(order, given.get(offer.adjuster.code, 0))
    return order


def discounts_by_code(order: Order) -> dict[str, int]:
    """Fen each adjuster took off ``order`` (its explanation), by adjuster code."""
    given: dict[str, int] = {}
    for entry in order.pricing.get("discounts", []):
        given[entry["code"]] = given.get(entry["code"], 0) + int(entry["amount"])
    return given
