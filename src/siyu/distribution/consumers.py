"""Outbox consumers of distribution: commission from order events.

``orders.order.paid`` writes the pending entries of the order's distributor (and, when
the second level is on, their inviter); ``orders.order.refunded`` appends the reversals.
Both bring the ledger to what the order's lines earn now, so they are idempotent and
order-insensitive (docs/distribution.md).
"""

from __future__ import annotations

from siyu.core.events import consumer
from siyu.core.models import DomainEvent
from siyu.distribution import ledger, services
from siyu.orders import events as order_events


@consumer(
    "distribution.commission",
    event_types=[order_events.ORDER_PAID, order_events.ORDER_REFUNDED],
)
def order_commission(event: DomainEvent) -> None:
    found = ledger.cause_of(event)
    if found is not None:
        services.sync_order_commission(found[0], cause=found[1])
