"""Outbox consumers of loyalty: points and tiers from order events.

* ``loyalty.order_points`` — paid, refunded or cancelled: :func:`services.sync_order` brings
  the order's points to what it deserves now (earned, taken back, spent points returned), the
  first paid order earns the first-order points, and the customer's tier is re-evaluated.

Idempotent and order-insensitive: each call writes only the difference, every entry carries a
reference unique per merchant, and the tier is decided from the figures, not the event.
"""

from __future__ import annotations

from siyu.core.events import consumer
from siyu.core.models import DomainEvent
from siyu.orders import events as order_events


@consumer(
    "loyalty.order_points",
    event_types=[
        order_events.ORDER_PAID,
        order_events.ORDER_REFUNDED,
        order_events.ORDER_CANCELLED,
    ],
)
def order_points(event: DomainEvent) -> None:
    from siyu.loyalty import services, tiers

    order_id = event.payload.get("id")
    customer_id = event.payload.get("customer_id")
    if not isinstance(order_id, int) or not isinstance(customer_id, int):
        return
    services.sync_order(order_id)
    if event.event_type == order_events.ORDER_PAID:
        services.first_order(order_id)
    if event.event_type != order_events.ORDER_CANCELLED or event.payload.get("from_status") != (
        "pending_payment"
    ):
        tiers.evaluate(customer_id)
