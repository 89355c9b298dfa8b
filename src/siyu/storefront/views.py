"""Storefront pages for browsing: home, categories, search, product, the store chooser.

No login needed. ``StorefrontMiddleware`` has bound the merchant of ``/s/<slug>/``;
views parse, call ``siyu.storefront.selectors`` (which compose the catalog, stores and
inventory reads), and render. Every page works without JavaScript; ``storefront.js``
adds the SKU chooser's live price and stock, the quantity stepper and geolocation.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.core.models import Merchant
from siyu.storefront import selectors, store_choice
from siyu.storefront.views_account import _merchant, _url, safe_next
from siyu.stores.models import Store

PAGE_SIZE = 20
SEARCH_MAX = 60


def as_int(value: object) -> int | None:
    """A positive whole number from a form or query value, else None."""
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
        return number if 0 < number < 2**63 else None
    return None


def position_of(request: HttpRequest) -> tuple[float, float] | None:
    """``(lat, lng)`` the browser sent (``?lat=&lng=``), when both are valid coordinates."""
    try:
        lat = float(request.GET.get("lat", ""))
        lng = float(request.GET.get("lng", ""))
    except ValueError:
        return None
    if not (math.isfinite(lat) and math.isfinite(lng)):
        return None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return None
    return lat, lng


def chosen_store(request: HttpRequest, merchant: Merchant) -> Store | None:
    """The pickup store this shopper chose (while it still takes pickup orders)."""
    return selectors.pickup_store(store_choice.chosen_store_id(request, merchant))


def _page(request: HttpRequest, items: Any) -> Any:
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


def home(request: HttpRequest, merchant_slug: str) -> HttpResponse:
    merchant = _merchant(request)
    store = chosen_store(request, merchant)
    products = list(selectors.products_on_sale(store=store)[: selectors.HOME_PRODUCTS])
    return render(
        request,
        "storefront/shop/home.html",
        {
            "tab": "home",
            "store": store,
            "categories": selectors.category_tree(),
            "cards": selectors.product_cards(products, selectors.stock_location(store)),
        },
    )


def category_list(request: HttpRequest, merchant_slug: str, pk: int | None = None) -> HttpResponse:
    merchant = _merchant(request)
    store = chosen_store(request, merchant)
    tree = selectors.category_tree()
    root = node = tree[0] if tree else None
    if pk is not None:
        found = selectors.find_node(tree, pk)
        if found is None:
            raise Http404
        root, node = found
    page = None
    cards: list[selectors.ProductCard] = []
    if node is not None:
        page = _page(request, selectors.products_on_sale(category_id=node.id, store=store))
        cards = selectors.product_cards(page.object_list, selectors.stock_location(store))
    return render(
        request,
        "storefront/shop/categories.html",
        {
            "tab": "categories",
            "store": store,
            "tree": tree,
            "root": root,
            "node": node,
            "page": page,
            "cards": cards,
        },
    )


def search(request: HttpRequest, merchant_slug: str) -> HttpResponse:
    merchant = _merchant(request)
    store = chosen_store(request, merchant)
    q = " ".join(request.GET.get("q", "").split())[:SEARCH_MAX]
    page = None
    cards: list[selectors.ProductCard] = []
    if q:
        page = _page(request, selectors.products_on_sale(q=q, store=store))
        cards = selectors.product_cards(page.object_list, selectors.stock_location(store))
    return render(
        request,
        "storefront/shop/search.html",
        {"tab": "home", "q": q, "store": store, "page": page, "cards": cards},
    )


def product_page(
    request: HttpRequest,
    detail: selectors.ProductDetail,
    *,
    selected: selectors.SkuChoice | None = None,
    quantity: int = 1,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    """The product page (also re-shown by the cart when adding failed)."""
    selected = selected or detail.sku(as_int(request.GET.get("sku"))) or detail.default
    return render(
        request,
        "storefront/shop/product.html",
        {
            "tab": "home",
            "detail": detail,
            "product": detail.product,
            "store": detail.store,
            "selected": selected,
            "quantity": quantity,
            "error": error,
            "option_groups": [
                (
                    index,
                    name,
                    [
                        (value, selected is not None and selected.values[index] == value)
                        for value in values
                    ],
                )
                for index, (name, values) in enumerate(detail.options)
            ],
            "sku_data": [
                {
                    "id": c.sku.pk,
                    "values": c.values,
                    "price": c.sku.price,
                    "list_price": c.sku.list_price,
                    "stock": c.stock.state if c.stock else None,
                    "left": c.stock.left if c.stock else None,
                }
                for c in detail.skus
            ],
        },
        status=status,
    )


def product(request: HttpRequest, merchant_slug: str, pk: int) -> HttpResponse:
    store = chosen_store(request, _merchant(request))
    detail = selectors.product_detail(pk, store)
    if detail is None:
        raise Http404
    return product_page(request, detail)


def store_list(request: HttpRequest, merchant_slug: str) -> HttpResponse:
    """Choose a store: nearest first from the browser's position, else by city and district."""
    merchant = _merchant(request)
    store = chosen_store(request, merchant)
    position = position_of(request)
    cities = selectors.store_cities()
    city = request.GET.get("city", "")
    if city not in cities:
        city = store.city if store is not None and store.city in cities else ""
    if position is not None:
        choices = selectors.nearest_stores(*position, limit=10)
    else:
        choices = selectors.listed_pickup_stores(city or (cities[0] if cities else ""))
        city = city or (cities[0] if cities else "")
    next_url = request.GET.get("next", "")
    return render(
        request,
        "storefront/shop/stores.html",
        {
            "tab": "home",
            "store": store,
            "choices": choices,
            "position": position,
            "cities": cities,
            "city": city,
            "next": safe_next(request, merchant, next_url) if next_url else "",
        },
    )


@require_POST
def store_choose(request: HttpRequest, merchant_slug: str) -> HttpResponse:
    merchant = _merchant(request)
    store = selectors.pickup_store(as_int(request.POST.get("store_id")))
    next_url = safe_next(request, merchant, request.POST.get("next"))
    if store is None:
        messages.error(request, _("This store cannot take pickup orders now: choose another."))
        return redirect(f"{_url('store_list', merchant)}?{urlencode({'next': next_url})}")
    store_choice.remember_store(request, merchant, store.pk)
    messages.success(request, _("You shop at %(store)s.") % {"store": store.name})
    return redirect(next_url)
