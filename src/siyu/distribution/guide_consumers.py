"""Outbox consumer of shopping guides' commission: ``orders.order.paid`` writes the pending
entries of the order's guide, ``orders.order.refunded`` appends the reversals. Idempotent and
order-insensitive, like the distributors' consumer."""

from __future__ import annotations

from siyu.core.events import consumer
from siyu.core.models import DomainEvent
from siyu.distribution import guide_commission, ledger
from siyu.orders import events as order_events


@consumer(
    "distribution.guide_commission",
    event_types=[order_events.ORDER_PAID, order_events.ORDER_REFUNDED],
)
def order_guide_commission(event: DomainEvent) -> None:
    found = ledger.cause_of(event)
    if found is not None:
        guide_commission.sync_order_guide_commission(found[0], cause=found[1])
