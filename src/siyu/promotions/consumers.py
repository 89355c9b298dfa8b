"""Outbox consumers of promotions: an order cancelled or refunded in full gives its coupon back.

Idempotent: :func:`siyu.promotions.services.give_back` only touches coupons still marked used
on the order, so a replayed event changes nothing.
"""

from __future__ import annotations

from siyu.core.events import consumer
from siyu.core.models import DomainEvent
from siyu.orders import events as order_events
from siyu.orders.refunds import FULL


@consumer(
    "promotions.coupons_back",
    event_types=[order_events.ORDER_CANCELLED, order_events.ORDER_REFUNDED],
)
def coupons_back(event: DomainEvent) -> None:
    """Cancelled (unpaid, or refunded in full) or refunded in full: the coupon comes back."""
    from siyu.promotions.services import give_back

    order_id = event.payload.get("id")
    if not isinstance(order_id, int):
        return
    if event.event_type == order_events.ORDER_REFUNDED:
        refund = event.payload.get("refund") or {}
        if refund.get("refund_state") != FULL:
            return
    give_back(order_id)
