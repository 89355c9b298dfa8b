"""Outbox consumers of marketing: a paid order from a targeted message marks its delivery ordered.

Idempotent: the delivery keeps the first paid order (``order_id IS NULL`` in the UPDATE),
so a replayed event changes nothing.
"""

from __future__ import annotations

from siyu.core.events import consumer
from siyu.core.models import DomainEvent
from siyu.marketing.models import Delivery
from siyu.orders import events as order_events


@consumer("marketing.ordered", event_types=[order_events.ORDER_PAID])
def mark_ordered(event: DomainEvent) -> None:
    from siyu.orders.models import Order

    order_id = event.payload.get("id")
    if not isinstance(order_id, int):
        return
    row = (
        Order.unscoped.filter(pk=order_id, merchant_id=event.merchant_id)
        .values("customer_id", "campaign_id")
        .first()
    )
    if row is None or row["campaign_id"] is None:
        return
    Delivery.unscoped.filter(
        merchant_id=event.merchant_id,
        broadcast_id=row["campaign_id"],
        customer_id=row["customer_id"],
        order_id__isnull=True,
    ).update(order_id=order_id)
