"""Domain events of inventory (registered from ``InventoryConfig.ready``).

``inventory.stock.changed`` is emitted when staff or a refund change what is
physically on hand (receipts, adjustments and stock takes, returns) — not for
reservations, releases and sales: those follow every order, are already told
by the order's own events (``orders.order.placed`` / ``.paid`` / ``.cancelled``),
and an outbox row for each of them would double the writes on the hottest
path of a flash sale (one SKU, many buyers, one row lock).

``inventory.stock.low`` is emitted when a change takes a level's available
quantity from above the location's low-stock threshold to at or below it
(threshold 0 switches it off). A reservation can cross it, so it is checked
there too, but it fires once per crossing, not per order.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from siyu.core.events import register_event_type

STOCK_CHANGED = "inventory.stock.changed"
STOCK_LOW = "inventory.stock.low"

EVENT_TYPES = {
    STOCK_CHANGED: (
        _("Stock changed"),
        _(
            "Stock on hand changed by a receipt, an adjustment or stock take, or a return; "
            "`kind` says which."
        ),
    ),
    STOCK_LOW: (
        _("Stock low"),
        _("A SKU's available stock at a location fell to the location's low-stock threshold."),
    ),
}


def register() -> None:
    for name, (label, description) in EVENT_TYPES.items():
        register_event_type(name, label, description)
