"""Outbox consumers of the CRM: timeline and order windows from order and refund events.

The customer statistics are not recomputed here: they read the analytics sales facts, so the
analytics consumer that writes an order's sale refreshes them right after
(:mod:`siyu.analytics.consumers`, :func:`siyu.customers.stats.sale_recorded`, which also runs
the customer's auto-tag rules again); consumers
run in the order the apps are installed, and customers comes before analytics.

Idempotent: the order windows are recomputed from the orders (the same answer however
often an event arrives), and each timeline entry carries a ``key`` naming the
order and what happened, checked before writing, so a replayed event adds nothing.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from siyu.catalog import events as catalog_events
from siyu.core.events import consumer
from siyu.core.models import DomainEvent
from siyu.customers import timeline, windows
from siyu.customers.events import CUSTOMER_CREATED
from siyu.customers.models import Customer, TimelineEntry
from siyu.orders import events as order_events
from siyu.payments import events as payment_events

Kind = TimelineEntry.Kind

STATS_EVENTS = (
    order_events.ORDER_PLACED,
    order_events.ORDER_PAID,
    order_events.ORDER_CANCELLED,
    order_events.ORDER_COMPLETED,
    order_events.ORDER_REFUNDED,
    payment_events.REFUND_SUCCEEDED,
)


def _customer_id(payload: dict[str, Any]) -> int | None:
    from siyu.orders.models import Order

    customer_id = payload.get("customer_id")
    if isinstance(customer_id, int):
        return customer_id
    order_id = payload.get("order_id")
    if isinstance(order_id, int):
        return Order.objects.filter(pk=order_id).values_list("customer_id", flat=True).first()
    return None


def _order_data(payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "order_id": payload.get("id"),
        "number": payload.get("number", ""),
        "total": payload.get("total"),
        "currency": payload.get("currency", "CNY"),
    }


def _timeline_entry(event: DomainEvent, customer_id: int) -> None:
    payload = event.payload
    order_id = payload.get("id")
    if event.event_type == order_events.ORDER_PLACED:
        kind, key, data = Kind.ORDERED, f"order:{order_id}:placed", _order_data(payload)
    elif event.event_type == order_events.ORDER_PAID:
        kind, key, data = Kind.PAID, f"order:{order_id}:paid", _order_data(payload)
    elif event.event_type == order_events.ORDER_REFUNDED:
        refund = payload.get("refund") or {}
        reference = refund.get("reference") or f"event:{event.pk}"
        kind, key = Kind.REFUNDED, f"order:{order_id}:refund:{reference}"
        data = {
            "order_id": order_id,
            "number": payload.get("number", ""),
            "amount": refund.get("amount"),
            "currency": payload.get("currency", "CNY"),
            "reference": reference,
        }
    else:
        return
    if timeline.exists(customer_id, kind, key):
        return
    timeline.record(customer_id, kind, {**data, "key": key}, at=event.occurred_at)


@consumer("customers.stats", event_types=STATS_EVENTS)
def order_statistics(event: DomainEvent) -> None:
    """Recompute the ordering customer's order windows; write the timeline entry of the event
    (the statistics are refreshed by the analytics consumer, after the sale is written)."""
    customer_id = _customer_id(event.payload)
    if customer_id is None or not Customer.objects.filter(pk=customer_id).exists():
        return
    windows.refresh_customer(customer_id)
    _timeline_entry(event, customer_id)


@consumer("customers.timeline_created", event_types=[CUSTOMER_CREATED])
def customer_created(event: DomainEvent) -> None:
    """The first line of every timeline, whichever way the customer came (login, import, scan)."""
    customer_id = event.payload.get("id")
    if not isinstance(customer_id, int):
        return
    if not Customer.objects.filter(pk=customer_id).exists():
        return
    key = f"customer:{customer_id}:created"
    if timeline.exists(customer_id, Kind.CREATED, key):
        return
    data = {"channel": event.payload.get("join_channel", ""), "key": key}
    timeline.record(customer_id, Kind.CREATED, data, at=event.occurred_at)


CATALOGUE_TREE_EVENTS = (
    catalog_events.CATEGORY_CHANGED,
    catalog_events.PRODUCT_UPDATED,
    catalog_events.PRODUCT_DELETED,
)


def moves_history(event: DomainEvent) -> bool:
    """Does the event change which category subtree past order lines count in?"""
    payload = event.payload
    if event.event_type == catalog_events.CATEGORY_CHANGED:
        return payload.get("action") in ("moved", "deleted")
    if event.event_type == catalog_events.PRODUCT_UPDATED:
        return "category" in (payload.get("changed") or ())
    return True  # a product deleted: its lines no longer count in any category


@consumer("customers.order_windows_tree", event_types=CATALOGUE_TREE_EVENTS)
def catalogue_tree_changed(event: DomainEvent) -> None:
    """A product or category moved: segments group the orders until the windows are rebuilt."""
    if not moves_history(event):
        return
    from siyu.customers.crm_tasks import rebuild_order_windows

    windows.invalidate(event.merchant)
    merchant_id = event.merchant_id
    transaction.on_commit(lambda: rebuild_order_windows.enqueue(merchant_id))
