"""Share links and posters of products for a distributor (pages and API share them).

Reads only: the product on sale, its price range and first picture; the poster itself is
drawn by the pure :mod:`siyu.distribution.posters`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from siyu.catalog.models import Product
from siyu.core.money import format_amount
from siyu.distribution import posters
from siyu.distribution.models import Distributor
from siyu.storefront import selectors as shop

PICKER_LIMIT = 30


def products(q: str = "") -> QuerySet[Product]:
    """Products a distributor may share: the ones on sale, in the shop's order."""
    return shop.products_on_sale(q=q)


def product(product_id: object) -> Product | None:
    """A product on sale (anything else — a draft, another merchant's — is ``None``)."""
    if not isinstance(product_id, int):
        try:
            product_id = int(str(product_id))
        except ValueError:
            return None
    return products().filter(pk=product_id).first()


def price_text(item: Product, currency: str) -> str:
    found = item.price_range
    if found is None:
        return ""
    low, high = found
    if low == high:
        return format_amount(low, currency)
    return _("%(price)s up") % {"price": format_amount(low, currency)}


@dataclass(frozen=True)
class Share:
    product: Product
    link: str  # absolute: the product page with ?d=<share code>
    poster_url: str  # absolute: the poster (SVG)
    price: str


def share_of(request: HttpRequest, distributor: Distributor, item: Product) -> Share:
    slug = request.siyu_storefront_merchant.slug  # type: ignore[attr-defined]
    currency = request.siyu_storefront_merchant.currency  # type: ignore[attr-defined]
    page = request.build_absolute_uri(
        reverse("storefront:product", kwargs={"merchant_slug": slug, "pk": item.pk})
    )
    poster = request.build_absolute_uri(
        reverse("shop_distribution:poster", kwargs={"merchant_slug": slug, "pk": item.pk})
    )
    return Share(
        product=item,
        link=posters.share_link(page, distributor.share_code),
        poster_url=poster,
        price=price_text(item, currency),
    )


def poster_of(request: HttpRequest, share: Share) -> str:
    """The SVG poster of ``share`` (the product's first picture embedded when readable)."""
    merchant = request.siyu_storefront_merchant  # type: ignore[attr-defined]
    picture = None
    cover = share.product.cover
    if cover is not None:
        chosen = cover.file or cover.thumbnail
        try:
            with chosen.open("rb") as handle:
                data = handle.read(posters.MAX_PICTURE_BYTES + 1)
            picture = posters.picture_of(chosen.name or "", data)
        except (OSError, ValueError):
            picture = None  # a missing file: the poster shows the name's first character
    return posters.poster_svg(
        shop_name=merchant.name,
        product_name=share.product.name,
        price_text=share.price,
        link=share.link,
        caption=_("Scan the code to buy"),
        picture=picture,
    )
