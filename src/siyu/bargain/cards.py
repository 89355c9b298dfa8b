"""The "help me cut" card: a bargain shown in a chat message (group or 1:1), opening its
share page. ``siyu.community.cards`` builds it from ``{"type": "bargain", "id": <bargain id>}``
through :func:`card_for`, so a client never supplies a title, price or link."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from siyu.bargain import selectors, services
from siyu.bargain.models import Bargain
from siyu.core import clock
from siyu.core.money import format_amount


def card_problem(bargain: Bargain) -> str | None:
    """Why ``bargain`` cannot be posted as a card now (only one still being cut can)."""
    if selectors.bargain_status(bargain) != Bargain.Status.OPEN:
        return _("Only a bargain still being cut can be shared for help.")
    problem = services.activity_problem(bargain.activity, clock.now())
    return problem[1] if problem else None


def bargain_card(bargain: Bargain, url: str) -> dict[str, Any]:
    product = bargain.activity.sku.product
    cover = product.images.order_by("position", "id").first()
    currency = bargain.activity.merchant.currency
    return {
        "type": "bargain",
        "id": bargain.pk,
        "title": _("Help me cut: %(product)s") % {"product": product.name},
        "subtitle": _("Now %(price)s, down to %(floor)s with friends' help")
        % {
            "price": format_amount(bargain.current_price, currency),
            "floor": format_amount(bargain.floor_price, currency),
        },
        "image": (cover.thumbnail.url if cover.thumbnail else cover.file.url) if cover else "",
        "price": bargain.current_price,
        "url": url,
    }


def card_for(
    pk: int, *, with_via: Callable[[str], str], error: Callable[[str], Exception]
) -> dict[str, Any]:
    """The card of the bound merchant's bargain ``pk`` (``error(reason)`` raised when there is
    none or it cannot be shared); ``with_via`` adds the tap's attribution to the link."""
    bargain = (
        Bargain.objects.select_related("activity__merchant", "activity__sku__product")
        .filter(pk=pk)
        .first()
    )
    if bargain is None:
        raise error(_("There is no such bargain."))
    problem = card_problem(bargain)
    if problem:
        raise error(problem)
    url = reverse(
        "shop_bargain:bargain",
        kwargs={"merchant_slug": bargain.activity.merchant.slug, "code": bargain.code},
    )
    return bargain_card(bargain, with_via(url))
