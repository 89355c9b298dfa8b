"""Template helpers of the payments panel on the console's order page.

``{% load payments_panel %}{% order_payments order as panel %}`` loads what the
panel shows for the staff member looking at it.
"""

from __future__ import annotations

from typing import Any

from django import template

from siyu.payments import gateways, selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def order_payments(context: template.Context, order: Any) -> selectors.OrderPanel:
    request = context.get("request")
    actor = getattr(request, "actor", None) or getattr(request, "siyu_actor", None)
    return selectors.order_panel(order, actor)


@register.filter
def gateway_label(code: str) -> str:
    return gateways.label(code)


@register.filter
def is_sandbox(code: str) -> bool:
    return gateways.is_sandbox(code)
