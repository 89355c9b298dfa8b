"""Outbox consumers of referrals.

* ``qualify_on_completion``: an order completed (``orders.order.completed`` — not paid): the
  invitee's first completed order qualifies their referral and rewards the inviter.
* ``reward_coupon_cost``: a reward coupon was used, or given back: what it cost the merchant.

Both are idempotent: :func:`~siyu.referrals.services.qualify` leaves a referral past
``registered`` alone and gives each reward once; the coupon's cost is set, not added.
"""

from __future__ import annotations

from siyu.core.events import consumer
from siyu.core.models import DomainEvent
from siyu.orders import events as order_events
from siyu.promotions import events as promotion_events


@consumer("referrals.qualify_on_completion", event_types=[order_events.ORDER_COMPLETED])
def qualify_on_completion(event: DomainEvent) -> None:
    from siyu.referrals.services import qualify

    order_id = event.payload.get("id")
    if isinstance(order_id, int):
        qualify(order_id)


@consumer(
    "referrals.reward_coupon_cost",
    event_types=[promotion_events.COUPON_USED, promotion_events.COUPON_RETURNED],
)
def reward_coupon_cost(event: DomainEvent) -> None:
    from siyu.referrals.services import note_coupon_discount

    coupon_id = event.payload.get("coupon_id")
    if not isinstance(coupon_id, int):
        return
    if event.event_type == promotion_events.COUPON_USED:
        discount = event.payload.get("discount")
        note_coupon_discount(coupon_id, discount if isinstance(discount, int) else 0)
    else:
        note_coupon_discount(coupon_id, 0)
