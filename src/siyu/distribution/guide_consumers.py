"""Outbox consumer of shopping guides' commission: ``orders.order.paid`` writes the pending
entries of the order's guide, ``orders.order.refunded`` appends the reversals. Idempotent and
order-insensitive, like the distributors' consumer."""

from __future__ import annotations

from siyu.core.events import consumer
from siyu.core.models import DomainEvent
from siyu.distribution import guide_commission
from siyu.orders import events as order_events


@consumer(
    "distribution.guide_commission",
    event_types=[order_events.ORDER_PAID, order_events.ORDER_REFUNDED],
)
def order_guide_commission(event: DomainEvent) -> None:
    order_id = event.payload.get("id")
    if not isinstance(order_id, int):
        return
    if event.event_type == order_events.ORDER_REFUNDED:
        refund = event.payload.get("refund") or {}
        cause = str(refund.get("reference") or f"event:{event.pk}")
    else:
        cause = guide_commission.PAID
    guide_commission.sync_order_guide_commission(order_id, cause=cause)
