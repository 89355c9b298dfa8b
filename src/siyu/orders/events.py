"""Domain events of orders (registered when the app is ready)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from siyu.core.events import register_event_type

ORDER_PLACED = "orders.order.placed"
ORDER_PAID = "orders.order.paid"
ORDER_CANCELLED = "orders.order.cancelled"
ORDER_PREPARING = "orders.order.preparing"
ORDER_SHIPPED = "orders.order.shipped"
ORDER_READY_FOR_PICKUP = "orders.order.ready_for_pickup"
ORDER_COMPLETED = "orders.order.completed"
ORDER_REFUNDED = "orders.order.refunded"

EVENT_TYPES = {
    ORDER_PLACED: (
        _("Order placed"),
        _("A customer placed an order; its stock is reserved until it is paid or cancelled."),
    ),
    ORDER_PAID: (_("Order paid"), _("An order's payment arrived; its stock is sold.")),
    ORDER_CANCELLED: (
        _("Order cancelled"),
        _("An order was cancelled (unpaid in time, by the customer or staff, or fully refunded)."),
    ),
    ORDER_PREPARING: (_("Order being prepared"), _("Staff started preparing an order.")),
    ORDER_SHIPPED: (
        _("Order shipped"),
        _("A delivery order left with a carrier and a tracking number."),
    ),
    ORDER_READY_FOR_PICKUP: (
        _("Order ready for pickup"),
        _("A pickup order waits at its store for the customer's code."),
    ),
    ORDER_COMPLETED: (
        _("Order completed"),
        _("A delivery order was received, or a pickup order collected with its code."),
    ),
    ORDER_REFUNDED: (
        _("Order refunded"),
        _("Money (and possibly units) of an order went back to the customer."),
    ),
}


def register() -> None:
    for name, (label, description) in EVENT_TYPES.items():
        register_event_type(name, label, description)
