"""Template helpers of group-buys for other apps' pages (``{% load groupbuy_tags %}``)."""

from __future__ import annotations

from typing import Any

from django import template

from siyu.groupbuy import selectors

register = template.Library()


@register.inclusion_tag("groupbuy/shop/_product_link.html", takes_context=True)
def groupbuy_link(context: template.Context, product: Any) -> dict[str, Any]:
    """The product page's link to the running group-buy of ``product`` (nothing when none)."""
    request = context.get("request")
    offer = selectors.for_product(product.pk) if product is not None else None
    return {"request": request, "offer": offer}
