"""Template tags other apps' pages use to show distribution:

* ``{% share_and_earn product %}`` on the storefront's product page: a "share and earn"
  button for a logged-in approved distributor (nothing for anyone else);
* ``{% guide_commission_card membership %}`` on the guide workbench: the guide's own
  commission (pending, settled) and the last 30 days' earnings.
"""

from __future__ import annotations

from typing import Any

from django import template

from siyu.customers import session
from siyu.distribution import centre, guide_selectors

register = template.Library()


@register.inclusion_tag("distribution/storefront/_share_button.html", takes_context=True)
def share_and_earn(context: template.Context, product: Any) -> dict[str, Any]:
    request = context.get("request")
    customer = session.customer_of(request) if request is not None else None
    distributor = centre.active_distributor(customer)
    return {
        "request": request,
        "product": product,
        "show": distributor is not None and product is not None,
    }


@register.inclusion_tag("distribution/workbench/_guide_commission.html")
def guide_commission_card(membership: Any) -> dict[str, Any]:
    if membership is None:
        return {"card": None}
    return {"card": guide_selectors.card(membership)}
