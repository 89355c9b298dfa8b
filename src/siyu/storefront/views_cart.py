"""Storefront pages of the cart and checkout.

Adding to the cart and "buy now" start on the product page (anonymous shoppers are sent to
log in first and come back). Checkout offers pickup at a store — nearest first when the
browser shares its position, else a list by city and district — or delivery to one of the
customer's addresses; placing the order opens its payment at once and sends the customer
to the gateway's pay page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.catalog.models import Sku
from siyu.core import clock
from siyu.core.errors import DomainError
from siyu.core.models import Merchant
from siyu.customers import phones
from siyu.customers import selectors as customer_selectors
from siyu.customers.forms import AddressForm
from siyu.customers.session import customer_of
from siyu.marketing.attribution import checkout_attribution
from siyu.orders import selectors as order_selectors
from siyu.orders import services as order_services
from siyu.orders.models import Order
from siyu.payments import gateways
from siyu.payments import services as payment_services
from siyu.promotions import checkout as offers_checkout
from siyu.promotions import checkout_page
from siyu.storefront import selectors, store_choice
from siyu.storefront.views import as_int, chosen_store, position_of, product_page
from siyu.storefront.views_account import _customer, _merchant, _url, customer_required
from siyu.stores.models import Store

PICKUP = Order.Fulfilment.PICKUP.value
DELIVERY = Order.Fulfilment.DELIVERY.value
CHECKOUT_STORES = 30


def as_quantity(value: object) -> int | str:
    """A quantity as typed: the whole number, or the text itself for the service to refuse."""
    text = str(value or "").strip()
    try:
        return int(text)
    except ValueError:
        return text


def parse_items(raw: str | None) -> list[tuple[Any, Any]] | None:
    """``"12:2,15:1"`` (buy now) → ``[(12, 2), (15, 1)]``; None when absent (the cart).

    Parts that are not numbers are passed on as text: checkout refuses them by field."""
    if raw is None or not raw.strip():
        return None
    items: list[tuple[Any, Any]] = []
    for part in raw.split(",")[:60]:
        sku, _sep, quantity = part.partition(":")
        items.append((as_quantity(sku), as_quantity(quantity or "1")))
    return items


def items_text(items: list[tuple[Any, Any]] | None) -> str:
    return ",".join(f"{sku}:{quantity}" for sku, quantity in items or [])


def start_payment(request: HttpRequest, merchant: Merchant, order: Order) -> HttpResponse:
    """Open the order's payment at the first enabled gateway and send the customer there."""
    codes = gateways.enabled_codes()
    if not codes:
        messages.error(request, _("No payment method is available right now."))
        return redirect(_url("order_detail", merchant, pk=order.pk))
    try:
        payment = payment_services.start_payment(
            order,
            gateway=codes[0],
            return_url=_url("order_return", merchant, pk=order.pk),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(_url("order_detail", merchant, pk=order.pk))
    return redirect(payment.pay_url)


# --- cart --------------------------------------------------------------------------------------


def _fulfilment(wanted: object, *, delivers: bool) -> str:
    """Delivery when asked for and the shop delivers; pickup otherwise (the default)."""
    return DELIVERY if wanted == DELIVERY and delivers else PICKUP


def _cart_page(request: HttpRequest, *, error: str = "", status: int = 200) -> HttpResponse:
    merchant = _merchant(request)
    customer = _customer(request)
    store = chosen_store(request, merchant)
    delivers = selectors.delivers()
    fulfilment = _fulfilment(request.GET.get("fulfilment"), delivers=delivers)
    view = order_selectors.cart_view(
        customer,
        fulfilment=fulfilment,
        store_id=store.pk if store is not None and fulfilment == PICKUP else None,
    )
    thumbs = selectors.cover_thumbnails(item.sku.product_id for item in view.items)
    return render(
        request,
        "storefront/cart/cart.html",
        {
            "tab": "cart",
            "view": view,
            "rows": [(item, thumbs.get(item.sku.product_id)) for item in view.items],
            "figures": selectors.priced_figures(view.priced),
            "store": store,
            "fulfilment": fulfilment,
            "delivers": delivers,
            "error": error,
            "checkout_url": f"{_url('checkout', merchant)}?{urlencode({'fulfilment': fulfilment})}",
        },
        status=status,
    )


@customer_required
def cart(request: HttpRequest, merchant_slug: str) -> HttpResponse:
    return _cart_page(request)


@require_POST
def cart_add(request: HttpRequest, merchant_slug: str) -> HttpResponse:
    """The product page's form: add to the cart, or buy now (straight to checkout)."""
    merchant = _merchant(request)
    store = chosen_store(request, merchant)
    detail = selectors.product_detail(as_int(request.POST.get("product")) or 0, store)
    if detail is None:
        raise Http404
    selected = detail.sku(as_int(request.POST.get("sku_id")))
    if selected is None and detail.options:
        selected = detail.match(
            [request.POST.get(f"option-{i}", "") for i in range(len(detail.options))]
        )
    quantity = as_quantity(request.POST.get("quantity", "1"))
    product_url = _url("product", merchant, pk=detail.product.pk)
    if selected is not None:
        product_url += f"?sku={selected.sku.pk}"
    buy_now = "buy" in request.POST
    checkout_url = ""
    if selected is not None:
        query = {"items": f"{selected.sku.pk}:{quantity}"}
        if store is not None:
            query["store_id"] = str(store.pk)
        checkout_url = f"{_url('checkout', merchant)}?{urlencode(query)}"
    customer = customer_of(request)
    if customer is None:
        back = checkout_url if buy_now and checkout_url else product_url
        return redirect(f"{_url('login', merchant)}?{urlencode({'next': back})}")
    if selected is None:
        choose = _("Choose %(options)s.") % {"options": " / ".join(n for n, _v in detail.options)}
        return product_page(request, detail, error=choose, status=422)
    if buy_now:
        return redirect(checkout_url)
    try:
        order_services.add_to_cart(
            customer,
            selected.sku.pk,
            quantity,  # type: ignore[arg-type]  # the service refuses what is not a number
            store_id=store.pk if store is not None else None,
        )
    except DomainError as exc:
        reason = exc.fields.get("quantity") or exc.fields.get("sku_id") or exc.message
        shown = quantity if isinstance(quantity, int) and 0 < quantity < 100 else 1
        return product_page(
            request, detail, selected=selected, quantity=shown, error=reason, status=exc.status
        )
    messages.success(request, _("Added to your cart."))
    return redirect(product_url)


@require_POST
@customer_required
def cart_update(request: HttpRequest, merchant_slug: str, sku_id: int) -> HttpResponse:
    quantity = as_quantity(request.POST.get("quantity"))
    try:
        order_services.set_cart_quantity(
            _customer(request),
            sku_id,
            quantity,  # type: ignore[arg-type]  # the service refuses what is not a number
        )
    except DomainError as exc:
        return _cart_page(
            request, error=exc.fields.get("quantity") or exc.message, status=exc.status
        )
    return redirect(_url("cart", _merchant(request)))


@require_POST
@customer_required
def cart_remove(request: HttpRequest, merchant_slug: str, sku_id: int) -> HttpResponse:
    if order_services.remove_from_cart(_customer(request), sku_id):
        messages.success(request, _("Removed from your cart."))
    return redirect(_url("cart", _merchant(request)))


# --- checkout ----------------------------------------------------------------------------------------


@dataclass
class CheckoutLine:
    sku: Sku | None
    quantity: Any
    thumbnail: str | None
    problem: str | None = None

    @property
    def gross(self) -> int:
        if self.sku is None or not isinstance(self.quantity, int):
            return 0
        return self.sku.price * self.quantity


def _checkout_lines(
    customer: Any, items: list[tuple[Any, Any]] | None, fulfilment: str, store_id: int | None
) -> list[CheckoutLine]:
    if items is None:
        view = order_selectors.cart_view(customer, fulfilment=fulfilment, store_id=store_id)
        thumbs = selectors.cover_thumbnails(item.sku.product_id for item in view.items)
        return [
            CheckoutLine(item.sku, item.quantity, thumbs.get(item.sku.product_id), item.problem)
            for item in view.items
        ]
    skus = selectors.skus_with_products([sku for sku, _q in items if isinstance(sku, int)])
    thumbs = selectors.cover_thumbnails(sku.product_id for sku in skus.values())
    lines = []
    for sku_id, quantity in items:
        sku = skus.get(sku_id) if isinstance(sku_id, int) else None
        lines.append(
            CheckoutLine(sku, quantity, thumbs.get(sku.product_id) if sku is not None else None)
        )
    return lines


def _store_choices(
    position: tuple[float, float] | None, chosen: Store | None
) -> list[selectors.StoreChoice]:
    if position is not None:
        choices = selectors.nearest_stores(*position)
    else:
        choices = selectors.listed_pickup_stores(limit=CHECKOUT_STORES)
    if chosen is not None and all(c.store.pk != chosen.pk for c in choices):
        choices.insert(0, selectors.StoreChoice(chosen))
    return choices


def _inline_address_form(customer: Any) -> AddressForm:
    """The address form shown inside checkout; its inputs belong to the ``new-address`` form."""
    form = AddressForm(initial={"phone": phones.display(customer.phone)})
    for field in form.fields.values():
        field.widget.attrs["form"] = "new-address"
    return form


@customer_required
def checkout(request: HttpRequest, merchant_slug: str) -> HttpResponse:
    merchant = _merchant(request)
    customer = _customer(request)
    data = request.POST if request.method == "POST" else request.GET
    items = parse_items(data.get("items"))
    delivers = selectors.delivers()
    chosen = chosen_store(request, merchant)
    fulfilment = _fulfilment(data.get("fulfilment"), delivers=delivers)
    position = position_of(request)
    store_id = as_int(data.get("store_id"))
    addresses = list(customer_selectors.addresses(customer))
    address_id = as_int(data.get("address_id")) or next(
        (a.pk for a in addresses if a.is_default), None
    )
    note = data.get("note", "")[:400]
    errors: dict[str, str] = {}
    message = ""
    status = 200
    # "update" re-prices the page with the coupon and points chosen (no order is placed)
    placing = request.method == "POST" and "update" not in request.POST
    wish = checkout_page.read_wish(data, first_view=request.method != "POST")
    if placing:
        try:
            order = offers_checkout.checkout(
                customer,
                choices=wish.choices(),
                fulfilment=fulfilment,
                store_id=store_id if fulfilment == PICKUP else None,
                address_id=address_id if fulfilment == DELIVERY else None,
                items=items,
                note=note,
                attribution=checkout_attribution(customer, at=clock.now()),
            )
        except DomainError as exc:
            errors, message, status = dict(exc.fields), exc.message, exc.status
        else:
            if fulfilment == PICKUP and order.store_id is not None:
                store_choice.remember_store(request, merchant, order.store_id)
            return start_payment(request, merchant, order)

    stores: list[selectors.StoreChoice] = []
    if fulfilment == PICKUP:
        stores = _store_choices(position, chosen)
        if store_id is None and request.method != "POST":
            if position is not None and stores:
                store_id = stores[0].store.pk  # the nearest
            elif chosen is not None:
                store_id = chosen.pk
    lines = _checkout_lines(customer, items, fulfilment, store_id)
    offers = checkout_page.price(
        customer,
        wish,
        currency=merchant.currency,
        fulfilment=fulfilment,
        store_id=store_id if fulfilment == PICKUP else None,
        address_id=address_id if fulfilment == DELIVERY else None,
        items=items,
        note=note if len(note) <= 200 else "",
    )
    preview = offers.preview
    for name, reason in offers.errors.items():
        errors.setdefault(name, reason)
    if offers.failure is not None:
        for name, reason in offers.failure.fields.items():
            if name.startswith("items.") or placing or name == "items":
                errors.setdefault(name, reason)
    if preview is not None:
        for name, reason in preview.shortages.items():
            errors.setdefault(name, reason)
    for n, line in enumerate(lines):
        line.problem = (
            errors.get(f"items.{n}.sku_id")
            or errors.get(f"items.{n}.quantity")
            or errors.get(f"items.{n}")
            or line.problem
        )
    goods = sum(line.gross for line in lines)
    codes = gateways.enabled_codes()
    query = {"fulfilment": fulfilment}
    if items is not None:
        query["items"] = items_text(items)
    here = f"{_url('checkout', merchant)}?{urlencode(query)}"
    return render(
        request,
        "storefront/cart/checkout.html",
        {
            "tab": "cart",
            "fulfilment": fulfilment,
            "delivers": delivers,
            "items": items_text(items) if items is not None else "",
            "lines": lines,
            "stores": stores,
            "store_id": store_id,
            "position": position,
            "addresses": addresses,
            "address_id": address_id,
            "address_form": _inline_address_form(customer),
            "note": note,
            "preview": preview,
            "offers": offers,
            "priced": preview.priced if preview is not None else None,
            "figures": selectors.priced_figures(preview.priced) if preview else [],
            "goods": goods,
            "errors": errors,
            "message": message,
            "here": here,
            "pickup_url": f"{_url('checkout', merchant)}?{urlencode({**query, 'fulfilment': PICKUP})}",
            "delivery_url": f"{_url('checkout', merchant)}?{urlencode({**query, 'fulfilment': DELIVERY})}",
            "stores_url": f"{_url('store_list', merchant)}?{urlencode({'next': here})}",
            "gateway_label": gateways.label(codes[0]) if codes else "",
        },
        status=status,
    )
