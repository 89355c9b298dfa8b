"""Template helpers of the order pages (``{% load order_tags %}``)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext

from siyu.orders import pricing

register = template.Library()

BADGES = {
    "pending_payment": "badge-warn",
    "paid": "badge-brand",
    "preparing": "badge-brand",
    "shipped": "badge-ok",
    "ready_for_pickup": "badge-ok",
    "completed": "badge-ok",
    "cancelled": "",
}


@register.filter
def order_badge(status: Any) -> str:
    """The badge class of an order status."""
    return BADGES.get(str(status), "")


@register.filter
def refund_badge(state: Any) -> str:
    return {"partial": "badge-warn", "full": "badge-bad"}.get(str(state), "")


@register.filter
def describe(note: Any, currency: str = "CNY") -> str:
    """A stored pricing note in the active language: ``{{ note|describe:order.currency }}``."""
    return pricing.describe(note or {}, currency or "CNY")


@register.filter
def option_text(options: Any) -> str:
    """``{"Size": "L", "Temperature": "Iced"}`` → ``L / Iced``."""
    if not isinstance(options, dict):
        return ""
    return " / ".join(str(v) for v in options.values())


@register.filter
def spaced_code(code: str) -> str:
    """A pickup code read in two halves: ``042917`` → ``042 917``."""
    return f"{code[:3]} {code[3:]}" if len(code) == 6 else code


@register.filter
def actor_text(label: str) -> str:
    """Who did it, as the timeline shows it: staff by name, the rest by what they are."""
    if label == "system":
        return gettext("System")
    if label == "payments":
        return gettext("Payment provider")
    if label.startswith("customer "):
        return gettext("Customer")
    return label


@register.filter
def hold_text(order: Any) -> str:
    """The line "Fulfilment on hold: <why>" (``services.register_hold``), translated."""
    from django.utils.translation import gettext

    from siyu.orders.services import hold_label

    if not getattr(order, "fulfilment_hold", ""):
        return ""
    return gettext("Fulfilment on hold: %(reason)s") % {"reason": hold_label(order)}


@register.filter
def hold_link(order: Any) -> str:
    """The customer's page about the order's hold (``services.register_hold``), or ""."""
    from siyu.orders.services import hold_link as link

    return link(order) if getattr(order, "fulfilment_hold", "") else ""
