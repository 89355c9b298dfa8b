"""Cards in chat messages (product, coupon, store, order) and the attribution they carry.

A card is a small dict a message shows as a tappable box::

    {"type": "product", "id": 12, "title": "Latte", "subtitle": "", "image": "/media/…",
     "price": 1800, "url": "/s/lucky-coffee/products/12/?via=<token>"}

The ``url`` opens the shop with ``?via=<token>``: a signed :class:`Via` that says
where the tap came from (a group, a guide's 1:1 chat, a targeted message). The
marketing app reads it (:func:`read_via`) and records the touch, so an order that
follows is attributed. Tokens are signed (salt ``siyu.via``), not encrypted, and
expire after 30 days.

Cards are always built here from the row (``type`` + ``id``) of the bound
merchant: a client never supplies a title, price or link.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from django.core import signing
from django.db.models import Min
from django.urls import reverse
from django.utils.translation import gettext as _

from siyu.core.errors import InvalidInput

VIA_SALT = "siyu.via"
VIA_MAX_AGE = 30 * 24 * 3600  # seconds
CARD_TYPES = ("product", "coupon", "store", "order", "bargain", "groupbuy")


@dataclass(frozen=True)
class Via:
    """Where a tap into the shop came from."""

    source: str  # "group", "guide", "broadcast", "inbox", "share"
    group_id: int | None = None
    guide_id: int | None = None
    broadcast_id: int | None = None
    message_id: int | None = None


def via_token(via: Via) -> str:
    payload = {k: v for k, v in asdict(via).items() if v not in (None, "")}
    return signing.dumps(payload, salt=VIA_SALT, compress=True)


def read_via(token: str) -> Via | None:
    """The :class:`Via` of a token, or None when it is forged, malformed or older than 30 days."""
    if not token or not isinstance(token, str) or len(token) > 500:
        return None
    try:
        data = signing.loads(token, salt=VIA_SALT, max_age=VIA_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("source"), str):
        return None

    def number(name: str) -> int | None:
        value = data.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    return Via(
        source=data["source"],
        group_id=number("group_id"),
        guide_id=number("guide_id"),
        broadcast_id=number("broadcast_id"),
        message_id=number("message_id"),
    )


def _with_via(url: str, via: Via | None) -> str:
    if via is None:
        return url
    return f"{url}{'&' if '?' in url else '?'}via={via_token(via)}"


def _slug(obj: Any) -> str:
    merchant = obj.merchant  # one cached read at most
    return str(merchant.slug)


def product_card(product: Any, *, via: Via | None = None) -> dict[str, Any]:
    """A product card: name, the cover image, the lowest active SKU price, the product page."""
    cover = product.images.order_by("position", "id").first()
    price = product.skus.filter(active=True).aggregate(low=Min("price"))["low"]
    url = reverse("storefront:product", kwargs={"merchant_slug": _slug(product), "pk": product.pk})
    return {
        "type": "product",
        "id": product.pk,
        "title": product.name,
        "subtitle": "",
        "image": (cover.thumbnail.url if cover.thumbnail else cover.file.url) if cover else "",
        "price": int(price) if price is not None else None,
        "url": _with_via(url, via),
    }


def store_card(store: Any, *, via: Via | None = None) -> dict[str, Any]:
    """A store card: name and address, opening the shop's store page."""
    url = reverse("storefront:store_list", kwargs={"merchant_slug": _slug(store)})
    return {
        "type": "store",
        "id": store.pk,
        "title": store.name,
        "subtitle": " ".join(p for p in (store.city, store.district, store.address) if p),
        "image": "",
        "price": None,
        "url": _with_via(f"{url}?store={store.pk}", via),
    }


def order_card(order: Any, *, via: Via | None = None) -> dict[str, Any]:
    """An order card (a guide shows a customer their order): number and total."""
    url = reverse("storefront:order_detail", kwargs={"merchant_slug": _slug(order), "pk": order.pk})
    return {
        "type": "order",
        "id": order.pk,
        "title": _("Order %(number)s") % {"number": order.number},
        "subtitle": order.get_status_display() if hasattr(order, "get_status_display") else "",
        "image": "",
        "price": int(order.total),
        "url": _with_via(url, via),
    }


def coupon_model() -> Any:
    """The model a coupon card shows: a coupon template, claimed from its claim page."""
    from siyu.promotions.models import CouponTemplate

    return CouponTemplate


def card_problem(template: Any) -> str | None:
    from siyu.promotions.selectors import card_problem as problem

    return problem(template)


def coupon_card(template: Any, *, via: Via | None = None) -> dict[str, Any]:
    """A coupon card: the template's name and what it gives, opening its claim page."""
    from siyu.promotions.selectors import summary

    url = reverse(
        "shop_promotions:claim", kwargs={"merchant_slug": _slug(template), "pk": template.pk}
    )
    return {
        "type": "coupon",
        "id": template.pk,
        "title": template.name,
        "subtitle": summary(template, template.merchant.currency),
        "image": "",
        "price": template.amount or None,
        "url": _with_via(url, via),
    }


def card_error(message: str) -> InvalidInput:
    return InvalidInput(message, fields={"card": message})


def card_spec(card: Any) -> tuple[str, int] | None:
    """``(type, id)`` of a card or card request, or 422 naming ``card``; None for no card."""
    if card in (None, {}, ""):
        return None
    if not isinstance(card, Mapping):
        raise card_error(_("A card is an object with a type and an id."))
    kind = card.get("type")
    if kind not in CARD_TYPES:
        raise card_error(_("Choose a card type: product, coupon, store or order."))
    pk = card.get("id")
    if isinstance(pk, str) and pk.isdigit():
        pk = int(pk)
    if not isinstance(pk, int) or isinstance(pk, bool) or pk <= 0:
        raise card_error(_("The card needs the id of the %(type)s.") % {"type": kind})
    return str(kind), pk


def build_card(card: Any, *, via: Via | None = None) -> dict[str, Any] | None:
    """The full card of a ``{"type", "id"}`` request, read from the bound merchant's rows."""
    spec = card_spec(card)
    if spec is None:
        return None
    kind, pk = spec
    if kind == "bargain":  # "help me cut": built by the bargain app from its row
        from siyu.bargain.cards import card_for

        return card_for(pk, with_via=lambda url: _with_via(url, via), error=card_error)
    if kind == "groupbuy":  # "join my team": built by the groupbuy app from the team's row
        from siyu.groupbuy.cards import card_for as team_card_for

        return team_card_for(pk, with_via=lambda url: _with_via(url, via), error=card_error)
    if kind == "coupon":
        row = coupon_model().objects.select_related("merchant").filter(pk=pk).first()
        if row is None:
            raise card_error(_("There is no such coupon."))
        problem = card_problem(row)
        if problem:
            raise card_error(problem)
        return coupon_card(row, via=via)
    if kind == "product":
        from siyu.catalog.models import Product

        product = Product.objects.select_related("merchant").filter(pk=pk).first()
        if product is None:
            raise card_error(_("There is no such product."))
        return product_card(product, via=via)
    if kind == "store":
        from siyu.stores.models import Store

        store = Store.objects.select_related("merchant").filter(pk=pk).first()
        if store is None:
            raise card_error(_("There is no such store."))
        return store_card(store, via=via)
    from siyu.orders.models import Order

    order = Order.objects.select_related("merchant").filter(pk=pk).first()
    if order is None:
        raise card_error(_("There is no such order."))
    return order_card(order, via=via)


def with_message(card: Mapping[str, Any], via: Via) -> dict[str, Any]:
    """The card with its link's attribution re-signed for ``via`` (the message id is now known)."""
    url = str(card.get("url", ""))
    base = url.split("?via=")[0].split("&via=")[0]
    return {**card, "url": _with_via(base, via)}
