"""Outbox consumers of bargains.

* ``reopen_on_cancel``: a bargain's order cancelled before it was paid gives the unit back to
  the activity's stock and reopens the bargain (or expires it when its time has passed).

Idempotent: :func:`siyu.bargain.services.reopen` only touches a bargain still marked bought on
that order, so a replayed event changes nothing.
"""

from __future__ import annotations

from siyu.core.events import consumer
from siyu.core.models import DomainEvent
from siyu.orders import events as order_events


@consumer("bargain.reopen_on_cancel", event_types=[order_events.ORDER_CANCELLED])
def reopen_on_cancel(event: DomainEvent) -> None:
    from siyu.bargain.services import reopen

    order_id = event.payload.get("id")
    if isinstance(order_id, int):
        reopen(order_id)
