"""Template helpers of bargains for other apps' pages (``{% load bargain %}``).

``{% bargain_for_product product.pk as bargain %}`` gives the running bargain activity of a
product (or None), so the product page can link to it without knowing the bargain app's
tables.
"""

from __future__ import annotations

from django import template

from siyu.bargain.models import BargainActivity

register = template.Library()


@register.simple_tag
def bargain_for_product(product_id: object) -> BargainActivity | None:
    """The running activity (soonest to end, stock left) on one of the product's SKUs."""
    from siyu.bargain.selectors import running_for_product

    if isinstance(product_id, bool) or not isinstance(product_id, int):
        return None
    return running_for_product(product_id)
