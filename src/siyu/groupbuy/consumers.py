"""Outbox consumers of group-buys.

* ``seat_on_payment``: a paid group-buy order seats its payer (or refunds them);
* ``release_on_cancel``: an unpaid group-buy order cancelled gives its activity stock back;
* ``leave_on_refund``: a seated member's order refunded in full while the team fills frees the
  seat.

Idempotent: both act only on a member still ``pending``, under the member's row lock, so a
replayed event changes nothing.
"""

from __future__ import annotations

from siyu.core.events import consumer
from siyu.core.models import DomainEvent
from siyu.orders import events as order_events
from siyu.orders.refunds import FULL


@consumer("groupbuy.seat_on_payment", event_types=[order_events.ORDER_PAID])
def seat_on_payment(event: DomainEvent) -> None:
    from siyu.groupbuy.services import seat_paid

    order_id = event.payload.get("id")
    if isinstance(order_id, int):
        seat_paid(order_id)


@consumer("groupbuy.release_on_cancel", event_types=[order_events.ORDER_CANCELLED])
def release_on_cancel(event: DomainEvent) -> None:
    from siyu.groupbuy.services import release_unpaid

    order_id = event.payload.get("id")
    if isinstance(order_id, int):
        release_unpaid(order_id)


@consumer("groupbuy.leave_on_refund", event_types=[order_events.ORDER_REFUNDED])
def leave_on_refund(event: DomainEvent) -> None:
    from siyu.groupbuy.leaving import leave_on_refund as leave

    order_id = event.payload.get("id")
    refund = event.payload.get("refund") or {}
    if isinstance(order_id, int) and refund.get("refund_state") == FULL:
        leave(order_id)
