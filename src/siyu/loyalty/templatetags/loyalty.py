"""Template helpers of loyalty (``{% load loyalty %}``): a customer's points in one line."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import ngettext

from siyu.customers.models import Customer
from siyu.loyalty import selectors

register = template.Library()


@register.simple_tag
def points_summary(customer: Customer | None) -> str:
    """``120 points · Gold`` (the balance that can be spent now, and the tier if any)."""
    if customer is None:
        return ""
    points = selectors.available_of(customer)
    text = ngettext("%(n)d point", "%(n)d points", points) % {"n": points}
    tier = selectors.customer_tier(customer)
    return f"{text} · {tier.name}" if tier is not None else text


@register.inclusion_tag("loyalty/shop/_product_reviews.html")
def product_reviews(product: Any) -> dict[str, Any]:
    """The reviews section of a product page."""
    found = selectors.product_reviews(product.pk)
    return {
        "reviews": found,
        "rows": [(r, selectors.reviewer_name(r)) for r in found.latest],
    }


@register.inclusion_tag("loyalty/shop/_order_reviews.html", takes_context=True)
def order_reviews(context: Any, order: Any) -> dict[str, Any]:
    """Review forms (or the reviews written) for the lines of a completed order."""
    from siyu.customers import session

    request = context.get("request")
    customer = session.customer_of(request) if request is not None else None
    completed = order.status == "completed"
    conf = selectors.settings_for()
    return {
        "request": request,
        "order": order,
        "rows": selectors.order_reviews(customer, order) if completed and customer else [],
        "review_points": conf.review_points if conf.enabled else 0,
        "csrf_token": context.get("csrf_token"),
    }
