"""The customer API of a storefront: catalog, nearest stores, cart, checkout, orders, payment,
refund requests. Mounted at ``/api/v1/storefront/{merchant_slug}/``.

``StorefrontMiddleware`` binds the merchant of the slug (an unknown shop is 404) and the
customer logged in there. Catalog and store reads are public (customers browse before
they log in); everything else needs the customer session (``CustomerSessionAuth``) and,
on writes, the CSRF token as ``X-CSRFToken``. A ``POST`` with an ``Idempotency-Key``
takes effect once per customer. Money is integer fen. Handlers parse, call the other
apps' services and selectors (through ``siyu.storefront.selectors``), and answer.

(No ``from __future__ import annotations``: django-ninja reads the annotations at run time.)
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status

from siyu.core import clock
from siyu.core.apikit import ERROR_RESPONSES
from siyu.core.errors import InvalidInput, NotFound
from siyu.customers import selectors as customer_selectors
from siyu.customers.apikit import CUSTOMER_AUTH, customer_of
from siyu.customers.models import Customer
from siyu.loyalty import checkout as loyalty_checkout
from siyu.marketing.attribution import checkout_attribution
from siyu.orders import selectors as order_selectors
from siyu.orders import services as order_services
from siyu.orders.models import Order
from siyu.payments import services as payment_services
from siyu.payments.models import Payment, Refund
from siyu.promotions import checkout as offers_checkout
from siyu.storefront import selectors
from siyu.stores.models import Store

router = Router(tags=["storefront: shop"], auth=CUSTOMER_AUTH)

MerchantSlug = Annotated[
    str, Path(description="The merchant's storefront slug, as in `/s/<slug>/`.")
]
Fulfilment = Literal["pickup", "delivery"]
StockState = Literal["in_stock", "low", "sold_out"]


# --- schemas ---------------------------------------------------------------------------------


class ShopStoreBriefOut(Schema):
    id: int
    name: str = Field(examples=["南京西路店"])
    city: str = Field(examples=["上海市"])
    district: str = Field(examples=["静安区"])
    address: str = Field(examples=["南京西路1618号久光百货B1层"])


class ShopNearbyStoreOut(ShopStoreBriefOut):
    latitude: float = Field(examples=[31.229115])
    longitude: float = Field(examples=[121.454906])
    phone: str = Field(examples=["+862162881234"])
    pickup_enabled: bool
    open_now: bool = Field(description="Whether the opening hours cover the current time.")
    hours_summary: str = Field(examples=["Mon–Sun 07:00–22:00"])
    distance_m: int = Field(description="Great-circle distance from the point, in metres.")


class ShopCategoryOut(Schema):
    id: int
    name: str = Field(examples=["咖啡"])
    parent_id: int | None = Field(description="None for a top-level category.")
    depth: int = Field(description="1 for top-level categories, up to 3.")


class ShopStockOut(Schema):
    state: StockState = Field(
        description="`in_stock`, `low` (a few left) or `sold_out`, at the store asked for "
        "(or, without one, where delivery orders ship from)."
    )
    left: int | None = Field(None, description="How many are left, only when `low`.")


class ShopProductCardOut(Schema):
    id: int
    name: str = Field(examples=["生椰拿铁"])
    subtitle: str = Field(examples=["Coconut latte"])
    category_id: int | None
    price_from: int = Field(description="Lowest SKU price, fen.", examples=[2600])
    price_to: int = Field(description="Highest SKU price, fen.", examples=[3200])
    list_price: int | None = Field(description="A higher list price to strike through, fen.")
    thumbnail: str | None = Field(description="URL of the first image's thumbnail.")
    stock: ShopStockOut | None = Field(description="Best stock state of its SKUs; None if unknown.")


class ShopProductPageOut(Schema):
    items: list[ShopProductCardOut]
    count: int
    limit: int
    offset: int
    next_offset: int | None


class ShopImageOut(Schema):
    url: str
    thumbnail: str | None
    width: int
    height: int
    alt: str


class ShopSkuOut(Schema):
    id: int
    code: str = Field(examples=["LAT-L-ICED"])
    options: dict[str, str] = Field(examples=[{"Size": "L", "Temperature": "Iced"}])
    price: int = Field(description="Fen.", examples=[3200])
    list_price: int | None = Field(description="Fen, when higher than the price.")
    stock: ShopStockOut | None


class ShopProductOut(Schema):
    id: int
    name: str
    subtitle: str
    description: str
    category_id: int | None
    option_names: list[str] = Field(examples=[["Size", "Temperature"]])
    images: list[ShopImageOut]
    skus: list[ShopSkuOut]
    store: ShopStoreBriefOut | None = Field(description="The store the stock is given for.")
    sold_at_store: bool = Field(description="False when the store asked for does not sell it.")


class ShopProductQuery(Schema):
    q: str = Field("", max_length=100, description="Words of the product's name.")
    category: int | None = Field(None, description="A category (its subcategories included).")
    store: int | None = Field(None, description="Only products sold at this store; stock there.")
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0)


class ShopProductDetailQuery(Schema):
    store: int | None = Field(None, description="Give the stock at this store.")


class ShopNearestQuery(Schema):
    lat: float = Field(ge=-90, le=90, description="The customer's latitude.")
    lng: float = Field(ge=-180, le=180, description="The customer's longitude.")
    pickup: bool = Field(True, description="Only open stores that offer pickup.")
    limit: int = Field(selectors.NEAREST_STORES, ge=1, le=50)


class ShopFigureOut(Schema):
    name: str = Field(examples=["shipping"])
    amount: int = Field(description="Fen (negative for discounts).")
    text: str = Field(examples=["Pickup in store: no shipping fee"])


class ShopCartLineOut(Schema):
    sku_id: int
    product_id: int
    product_name: str
    sku_code: str
    options: dict[str, str]
    thumbnail: str | None
    quantity: int
    unit_price: int = Field(description="Fen.")
    list_price: int | None
    gross: int = Field(description="unit_price × quantity, fen.")
    available: int | None = Field(description="Available at the chosen place; None if none.")
    problem: str | None = Field(description="Why it cannot be bought now (no longer on sale...).")


class ShopCartOut(Schema):
    fulfilment: Fulfilment
    store: ShopStoreBriefOut | None
    lines: list[ShopCartLineOut]
    count: int = Field(description="Units in the cart.")
    subtotal: int = Field(description="Fen, of the lines that can be bought.")
    discount_total: int
    shipping_fee: int
    total: int
    explanation: list[ShopFigureOut]
    can_check_out: bool
    problems: dict[str, str] = Field(description="Problems of the store or fulfilment chosen.")


class ShopPointsQuoteOut(Schema):
    balance: int = Field(description="My points that can be spent now.")
    max_points: int = Field(description="The most points this order can use (whole points).")
    fen_per_point: int = Field(description="What one point is worth, fen.")
    max_amount: int = Field(description="max_points × fen_per_point, fen.")


class ShopPreviewOut(ShopCartOut):
    address_id: int | None
    can_place: bool = Field(description="Whether placing the order now would be accepted.")
    points_quote: ShopPointsQuoteOut | None = Field(
        None, description="How many of my points this order could use."
    )


class ShopCartQuery(Schema):
    fulfilment: Fulfilment = "pickup"
    store_id: int | None = Field(None, description="Price and check stock for pickup here.")


class ShopCartLineIn(Schema):
    sku_id: int
    quantity: int = Field(1, description="Added to what the cart already holds (at most 99).")
    store_id: int | None = Field(None, description="The store chosen: the SKU must be sold there.")


class ShopCartQuantityIn(Schema):
    quantity: int = Field(description="The new quantity, 1–99 (DELETE the line to remove it).")


class ShopPreviewIn(Schema):
    fulfilment: Fulfilment
    store_id: int | None = None
    address_id: int | None = None
    coupon_id: int | None = Field(None, description="One of my available coupons.")
    points: int = Field(0, description="Points to redeem (0: none); see `points_quote`.")


class ShopOrderItemIn(Schema):
    sku_id: int
    quantity: int = Field(examples=[2])


class ShopOrderIn(Schema):
    fulfilment: Fulfilment
    store_id: int | None = Field(None, description="The pickup store (required for pickup).")
    address_id: int | None = Field(None, description="One of my addresses (required for delivery).")
    items: list[ShopOrderItemIn] | None = Field(
        None, description="What to buy; omitted: the cart, which is emptied on success."
    )
    note: str = Field("", description="For the store, at most 200 characters.")
    coupon_id: int | None = Field(
        None, description="One of my available coupons; it is used by this order."
    )
    points: int = Field(
        0,
        description="Points to redeem (0: none); they are spent by this order and come back "
        "when it is cancelled unpaid or refunded (in proportion).",
    )


class ShopOrderLineOut(Schema):
    id: int
    sku_id: int
    product_id: int
    product_name: str
    sku_code: str
    options: dict[str, str]
    unit_price: int
    list_price: int | None
    quantity: int
    discount: int
    line_total: int
    refunded_quantity: int
    refunded_amount: int


class ShopOrderOut(Schema):
    id: int
    number: str = Field(examples=["20260101K7M2Q9"])
    status: str = Field(
        description="`pending_payment`, `paid`, `preparing`, `shipped`, `ready_for_pickup`, "
        "`completed` or `cancelled`."
    )
    status_label: str = Field(description="The status in the customer's words and language.")
    fulfilment: Fulfilment
    refund_state: str = Field(description="`none`, `partial` or `full`.")
    currency: str
    subtotal: int
    discount_total: int
    shipping_fee: int
    total: int = Field(description="Fen.", examples=[5200])
    refunded_total: int
    note: str
    placed_at: datetime
    payment_deadline: datetime | None = Field(description="Unpaid after this, it is cancelled.")
    paid_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    store: ShopStoreBriefOut | None = Field(description="The pickup store.")
    shipping_address: dict[str, str] | None
    pickup_code: str | None = Field(description="Shown at the counter; only once paid.")
    carrier: str
    tracking_number: str
    lines: list[ShopOrderLineOut]
    explanation: list[ShopFigureOut]
    actions: list[str] = Field(description="What I may do now: `pay`, `cancel`, `request_refund`.")


class ShopOrderListQuery(Schema):
    status: str = Field("", description="Only orders in this status.")
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0)


class ShopOrderPageOut(Schema):
    items: list[ShopOrderOut]
    count: int
    limit: int
    offset: int
    next_offset: int | None


class ShopCancelIn(Schema):
    reason: str = Field("", description="Why (optional), at most 200 characters.")


class ShopPayIn(Schema):
    gateway: str = Field("sandbox", description="An enabled payment gateway.")
    return_url: str | None = Field(
        None,
        description="Where the provider sends the customer back: a path on this site "
        "(default: the order's payment result page).",
    )


class ShopPaymentOut(Schema):
    out_trade_no: str = Field(examples=["P20260101K7M2Q9XYZ12A"])
    amount: int = Field(description="Fen.")
    currency: str
    gateway: str
    pay_url: str = Field(description="Send the customer here to pay.")
    status: str = Field(description="`pending`, `succeeded`, `failed` or `closed`.")
    expires_at: datetime | None


class ShopPayOut(Schema):
    payment: ShopPaymentOut


class ShopRefundLineIn(Schema):
    order_line_id: int
    quantity: int


class ShopRefundRequestIn(Schema):
    lines: list[ShopRefundLineIn] | None = Field(
        None, description="Lines and units; omitted: everything not yet refunded."
    )
    reason: str = Field(examples=["买错了规格"])


class ShopRefundLineOut(Schema):
    order_line_id: int
    quantity: int
    amount: int


class ShopRefundOut(Schema):
    id: int
    number: str
    status: str = Field(description="`requested` until the shop decides.")
    amount: int = Field(description="Fen.")
    currency: str
    reason: str
    full: bool
    lines: list[ShopRefundLineOut]
    created_at: datetime


# --- shaping answers --------------------------------------------------------------------------------


def _customer(request: HttpRequest) -> Customer:
    return customer_of(request)


def _store_brief(store: Store | None) -> dict[str, Any] | None:
    if store is None:
        return None
    return {
        "id": store.pk,
        "name": store.name,
        "city": store.city,
        "district": store.district,
        "address": store.address,
    }


def _stock(stock: selectors.Stock | None) -> dict[str, Any] | None:
    return None if stock is None else {"state": stock.state, "left": stock.left}


def _card(card: selectors.ProductCard) -> dict[str, Any]:
    p = card.product
    return {
        "id": p.pk,
        "name": p.name,
        "subtitle": p.subtitle,
        "category_id": p.category_id,
        "price_from": card.price_from,
        "price_to": card.price_to,
        "list_price": card.list_price,
        "thumbnail": card.thumbnail,
        "stock": _stock(card.stock),
    }


def _figures(figures: list[selectors.Figure]) -> list[dict[str, Any]]:
    return [{"name": f.name, "amount": f.amount, "text": f.text} for f in figures]


def _cart(view: order_selectors.CartView) -> dict[str, Any]:
    thumbs = selectors.cover_thumbnails(item.sku.product_id for item in view.items)
    priced = view.priced
    return {
        "fulfilment": view.fulfilment,
        "store": _store_brief(view.store),
        "lines": [
            {
                "sku_id": item.sku.pk,
                "product_id": item.sku.product_id,
                "product_name": item.sku.product.name,
                "sku_code": item.sku.code,
                "options": item.sku.options or {},
                "thumbnail": thumbs.get(item.sku.product_id),
                "quantity": item.quantity,
                "unit_price": item.unit_price,
                "list_price": item.sku.list_price,
                "gross": item.gross,
                "available": item.available,
                "problem": item.problem,
            }
            for item in view.items
        ],
        "count": view.count,
        "subtotal": priced.subtotal if priced else 0,
        "discount_total": priced.discount_total if priced else 0,
        "shipping_fee": priced.shipping_fee if priced else 0,
        "total": priced.total if priced else 0,
        "explanation": _figures(selectors.priced_figures(priced)),
        "can_check_out": view.can_check_out,
        "problems": view.problems,
    }


def _order(order: Order) -> dict[str, Any]:
    return {
        "id": order.pk,
        "number": order.number,
        "status": order.status,
        "status_label": selectors.status_label(order),
        "fulfilment": order.fulfilment,
        "refund_state": order.refund_state,
        "currency": order.currency,
        "subtotal": order.subtotal,
        "discount_total": order.discount_total,
        "shipping_fee": order.shipping_fee,
        "total": order.total,
        "refunded_total": order.refunded_total,
        "note": order.note,
        "placed_at": order.placed_at,
        "payment_deadline": order.payment_deadline,
        "paid_at": order.paid_at,
        "completed_at": order.completed_at,
        "cancelled_at": order.cancelled_at,
        "store": _store_brief(order.store),
        "shipping_address": order.shipping_address,
        "pickup_code": order.pickup_code
        if order.paid_at is not None and order.fulfilment == Order.Fulfilment.PICKUP
        else None,
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
        "lines": [
            {
                "id": line.pk,
                "sku_id": line.sku_id,
                "product_id": line.product_id_snapshot,
                "product_name": line.product_name,
                "sku_code": line.sku_code,
                "options": line.options or {},
                "unit_price": line.unit_price,
                "list_price": line.list_price,
                "quantity": line.quantity,
                "discount": line.discount,
                "line_total": line.line_total,
                "refunded_quantity": line.refunded_quantity,
                "refunded_amount": line.refunded_amount,
            }
            for line in order.lines.all()
        ],
        "explanation": _figures(selectors.figures(order.pricing or {}, order.currency)),
        "actions": selectors.customer_actions(order),
    }


def _own_order(customer: Customer, order_id: int) -> Order:
    """The customer's order with its lines, as answers show it (404 for anyone else's)."""
    order = order_selectors.customer_order(customer, order_id, timeline=False)
    if order is None:
        raise NotFound(_("Order not found."))
    return order


def _store_param(store_id: int | None, name: str) -> Store | None:
    """The store a query names (422 naming the parameter when it is not a pickup store here)."""
    if store_id is None:
        return None
    store = selectors.pickup_store(store_id)
    if store is None:
        raise InvalidInput(_("Unknown store."), fields={name: _("Unknown store.")})
    return store


# --- catalog and stores (public) -------------------------------------------------------------------


@router.get(
    "/catalog/categories",
    auth=None,
    response={200: list[ShopCategoryOut], **ERROR_RESPONSES},
    summary="The shop's categories",
    description="Active categories in tree order (a parent before its children).",
)
def list_categories(request: HttpRequest, merchant_slug: MerchantSlug) -> list[dict[str, Any]]:
    return [
        {"id": c.pk, "name": c.name, "parent_id": c.parent_id, "depth": c.depth}
        for c in selectors.flat_categories(selectors.category_tree())
    ]


@router.get(
    "/catalog/products",
    auth=None,
    response={200: ShopProductPageOut, **ERROR_RESPONSES},
    summary="Products on sale",
    description="Products on sale, in the shop's order; `q` searches names, `category` includes "
    "its subcategories, `store` keeps those sold at that store and gives their stock there. "
    "Paginated with `limit` and `offset`.",
)
def list_products(
    request: HttpRequest, merchant_slug: MerchantSlug, query: Query[ShopProductQuery]
) -> dict[str, Any]:
    store = _store_param(query.store, "store")
    if (
        query.category is not None
        and selectors.find_node(selectors.category_tree(), query.category) is None
    ):
        raise InvalidInput(_("Unknown category."), fields={"category": _("Unknown category.")})
    found = selectors.products_on_sale(q=query.q, category_id=query.category, store=store)
    count = found.count()
    rows = list(found[query.offset : query.offset + query.limit])
    stop = query.offset + query.limit
    cards = selectors.product_cards(rows, selectors.stock_location(store))
    return {
        "items": [_card(card) for card in cards],
        "count": count,
        "limit": query.limit,
        "offset": query.offset,
        "next_offset": stop if stop < count else None,
    }


@router.get(
    "/catalog/products/{product_id}",
    auth=None,
    response={200: ShopProductOut, **ERROR_RESPONSES},
    summary="A product with its SKUs",
    description="Its images and active SKUs with price and stock state at `store` (or where "
    "delivery orders ship from). A product that is not on sale is 404.",
)
def get_product(
    request: HttpRequest,
    merchant_slug: MerchantSlug,
    product_id: int,
    query: Query[ShopProductDetailQuery],
) -> dict[str, Any]:
    store = _store_param(query.store, "store")
    detail = selectors.product_detail(product_id, store)
    if detail is None:
        raise NotFound(_("Product not found."))
    p = detail.product
    return {
        "id": p.pk,
        "name": p.name,
        "subtitle": p.subtitle,
        "description": p.description,
        "category_id": p.category_id,
        "option_names": [name for name, _values in detail.options],
        "images": [
            {
                "url": selectors.image_url(image, thumbnail=False),
                "thumbnail": selectors.image_url(image),
                "width": image.width,
                "height": image.height,
                "alt": image.alt,
            }
            for image in detail.images
        ],
        "skus": [
            {
                "id": c.sku.pk,
                "code": c.sku.code,
                "options": c.sku.options or {},
                "price": c.sku.price,
                "list_price": c.sku.list_price,
                "stock": _stock(c.stock),
            }
            for c in detail.skus
        ],
        "store": _store_brief(store),
        "sold_at_store": detail.sold_here,
    }


@router.get(
    "/stores/nearest",
    auth=None,
    response={200: list[ShopNearbyStoreOut], **ERROR_RESPONSES},
    summary="Stores nearest to me",
    description="Nearest first, each with `distance_m`; with `pickup` (the default) only open "
    "stores that offer pickup.",
)
def nearest_stores(
    request: HttpRequest, merchant_slug: MerchantSlug, query: Query[ShopNearestQuery]
) -> list[dict[str, Any]]:
    found = selectors.nearest_stores(query.lat, query.lng, limit=query.limit, pickup=query.pickup)
    return [
        {
            **(_store_brief(choice.store) or {}),
            "latitude": float(choice.store.latitude),
            "longitude": float(choice.store.longitude),
            "phone": choice.store.phone,
            "pickup_enabled": choice.store.pickup_enabled,
            "open_now": choice.open_now,
            "hours_summary": choice.hours_text,
            "distance_m": choice.distance_m or 0,
        }
        for choice in found
    ]


# --- cart -------------------------------------------------------------------------------------------


def _cart_view(
    customer: Customer, fulfilment: str = "pickup", store_id: int | None = None
) -> order_selectors.CartView:
    return order_selectors.cart_view(customer, fulfilment=fulfilment, store_id=store_id)


@router.get(
    "/cart",
    response={200: ShopCartOut, **ERROR_RESPONSES},
    summary="My cart",
    description="Priced for `fulfilment` (at `store_id` for pickup), with the stock of each "
    "line there and why a line cannot be bought now.",
)
def get_cart(
    request: HttpRequest, merchant_slug: MerchantSlug, query: Query[ShopCartQuery]
) -> dict[str, Any]:
    return _cart(_cart_view(_customer(request), query.fulfilment, query.store_id))


@router.post(
    "/cart/lines",
    response={201: ShopCartOut, **ERROR_RESPONSES},
    summary="Put a SKU in my cart",
    description="Adds `quantity` to what the cart holds of the SKU. The SKU must be on sale "
    "(and sold at `store_id` when given). Answers the cart.",
)
def add_cart_line(
    request: HttpRequest, merchant_slug: MerchantSlug, payload: ShopCartLineIn
) -> Any:
    customer = _customer(request)
    order_services.add_to_cart(
        customer, payload.sku_id, payload.quantity, store_id=payload.store_id
    )
    store_id = payload.store_id if selectors.pickup_store(payload.store_id) else None
    return Status(201, _cart(_cart_view(customer, "pickup", store_id)))


@router.patch(
    "/cart/lines/{sku_id}",
    response={200: ShopCartOut, **ERROR_RESPONSES},
    summary="Change how many of a SKU my cart holds",
    description="Sets the quantity (1–99); a SKU not in the cart is added. Answers the cart.",
)
def set_cart_line(
    request: HttpRequest, merchant_slug: MerchantSlug, sku_id: int, payload: ShopCartQuantityIn
) -> dict[str, Any]:
    customer = _customer(request)
    order_services.set_cart_quantity(customer, sku_id, payload.quantity)
    return _cart(_cart_view(customer))


@router.delete(
    "/cart/lines/{sku_id}",
    response={200: ShopCartOut, **ERROR_RESPONSES},
    summary="Take a SKU out of my cart",
    description="Answers the cart; a SKU that is not in the cart is 404.",
)
def remove_cart_line(
    request: HttpRequest, merchant_slug: MerchantSlug, sku_id: int
) -> dict[str, Any]:
    customer = _customer(request)
    if not order_services.remove_from_cart(customer, sku_id):
        raise NotFound(_("This item is not in your cart."))
    return _cart(_cart_view(customer))


@router.post(
    "/cart/preview",
    response={200: ShopPreviewOut, **ERROR_RESPONSES},
    summary="Price my cart for checkout",
    description="What placing the order would charge — lines, shipping, total, every figure "
    "explained, and each line's stock problem — without placing anything. An unknown store or "
    "address is 422 naming the field; so is a `coupon_id` that does not apply (not mine, used, "
    "expired, or the eligible goods below its threshold: the reason says how much is missing).",
)
def preview_cart(
    request: HttpRequest, merchant_slug: MerchantSlug, payload: ShopPreviewIn
) -> dict[str, Any]:
    customer = _customer(request)
    errors: dict[str, str] = {}
    if payload.address_id is not None:
        try:
            customer_selectors.address_of(customer, payload.address_id)
        except NotFound:
            errors["address_id"] = _("Unknown address.")
    store_id = payload.store_id if payload.fulfilment == "pickup" else None
    view = offers_checkout.cart_view(
        customer,
        choices=offers_checkout.Choices(coupon_id=payload.coupon_id, points=payload.points),
        fulfilment=payload.fulfilment,
        store_id=store_id,
    )
    errors.update(view.problems)
    if errors:
        raise InvalidInput(_("The cart cannot be priced like this."), fields=errors)
    answer = _cart(view)
    needs = "store_id" if payload.fulfilment == "pickup" else "address_id"
    chosen = store_id if payload.fulfilment == "pickup" else payload.address_id
    answer["address_id"] = payload.address_id
    answer["points_quote"] = loyalty_checkout.quote_for(customer, view.priced)
    answer["can_place"] = view.can_check_out and chosen is not None
    if chosen is None:
        answer["problems"] = {
            **view.problems,
            needs: _("Choose the store to pick up from.")
            if needs == "store_id"
            else _("Choose a delivery address."),
        }
    return answer


# --- orders -----------------------------------------------------------------------------------------


@router.post(
    "/orders",
    response={201: ShopOrderOut, **ERROR_RESPONSES},
    summary="Place an order",
    description="Pickup at `store_id` or delivery to `address_id`, of `items` or (without "
    "them) of the cart, which is emptied. The stock is reserved until the payment deadline. "
    "Bad input is 422 naming each field (`items.0.sku_id`, `items.0.quantity`, `store_id`, "
    "`address_id`, `coupon_id`); a coupon is marked used with the order and comes back when the "
    "order is cancelled unpaid or refunded in full while it is still valid; not enough stock is 409 `out_of_stock` naming the items. Send an "
    "`Idempotency-Key`: a retry places one order.",
)
def place_order(request: HttpRequest, merchant_slug: MerchantSlug, payload: ShopOrderIn) -> Any:
    customer = _customer(request)
    order = offers_checkout.checkout(
        customer,
        choices=offers_checkout.Choices(coupon_id=payload.coupon_id, points=payload.points),
        fulfilment=payload.fulfilment,
        store_id=payload.store_id,
        address_id=payload.address_id,
        items=[(item.sku_id, item.quantity) for item in payload.items]
        if payload.items is not None
        else None,
        note=payload.note,
        attribution=checkout_attribution(customer, at=clock.now()),
    )
    return Status(201, _order(_own_order(customer, order.pk)))


@router.get(
    "/orders",
    response={200: ShopOrderPageOut, **ERROR_RESPONSES},
    summary="My orders",
    description="Newest first, paginated with `limit` and `offset`; `status` keeps one status.",
)
def list_orders(
    request: HttpRequest, merchant_slug: MerchantSlug, filters: Query[ShopOrderListQuery]
) -> dict[str, Any]:
    if filters.status and filters.status not in Order.Status.values:
        reason = _("One of: %(values)s.") % {"values": ", ".join(Order.Status.values)}
        raise InvalidInput(reason, fields={"status": reason})
    found = order_selectors.customer_orders(_customer(request), filters.status)
    count = found.count()
    stop = filters.offset + filters.limit
    return {
        "items": [_order(order) for order in found[filters.offset : stop]],
        "count": count,
        "limit": filters.limit,
        "offset": filters.offset,
        "next_offset": stop if stop < count else None,
    }


@router.get(
    "/orders/{order_id}",
    response={200: ShopOrderOut, **ERROR_RESPONSES},
    summary="One of my orders",
    description="Another customer's order is 404.",
)
def get_order(request: HttpRequest, merchant_slug: MerchantSlug, order_id: int) -> dict[str, Any]:
    return _order(_own_order(_customer(request), order_id))


@router.post(
    "/orders/{order_id}/cancel",
    response={200: ShopOrderOut, **ERROR_RESPONSES},
    summary="Cancel my unpaid order",
    description="Releases its stock. A paid order is 409: ask for a refund instead.",
)
def cancel_order(
    request: HttpRequest, merchant_slug: MerchantSlug, order_id: int, payload: ShopCancelIn
) -> dict[str, Any]:
    customer = _customer(request)
    order = _own_order(customer, order_id)
    order_services.cancel(
        order, actor=customer, reason=payload.reason or _("Cancelled by the customer")
    )
    return _order(_own_order(customer, order_id))


@router.post(
    "/orders/{order_id}/pay",
    response={200: ShopPayOut, **ERROR_RESPONSES},
    summary="Pay my order",
    description="Opens the payment at the gateway (or reuses the open one) and answers where "
    "the customer pays (`pay_url`). After the payment deadline, or once paid, it is 409.",
)
def pay_order(
    request: HttpRequest, merchant_slug: MerchantSlug, order_id: int, payload: ShopPayIn
) -> dict[str, Any]:
    customer = _customer(request)
    order = order_selectors.customer_order_row(customer, order_id)
    if order is None:
        raise NotFound(_("Order not found."))
    back = payload.return_url or reverse(
        "storefront:order_return", kwargs={"merchant_slug": merchant_slug, "pk": order.pk}
    )
    payment: Payment = payment_services.start_payment(
        order, gateway=payload.gateway, return_url=back
    )
    return {
        "payment": {
            "out_trade_no": payment.out_trade_no,
            "amount": payment.amount,
            "currency": payment.currency,
            "gateway": payment.gateway,
            "pay_url": payment.pay_url,
            "status": payment.status,
            "expires_at": payment.expires_at,
        }
    }


@router.post(
    "/orders/{order_id}/refund-requests",
    response={201: ShopRefundOut, **ERROR_RESPONSES},
    summary="Ask for a refund",
    description="Of some lines and units, or (without `lines`) of everything not yet refunded. "
    "The shop approves or rejects it; one open request per order (409 otherwise).",
)
def request_refund(
    request: HttpRequest, merchant_slug: MerchantSlug, order_id: int, payload: ShopRefundRequestIn
) -> Any:
    customer = _customer(request)
    order = _own_order(customer, order_id)
    refund: Refund = payment_services.request_refund(
        customer,
        order,
        lines=[(line.order_line_id, line.quantity) for line in payload.lines]
        if payload.lines is not None
        else None,
        reason=payload.reason,
    )
    return Status(
        201,
        {
            "id": refund.pk,
            "number": refund.number,
            "status": refund.status,
            "amount": refund.amount,
            "currency": refund.currency,
            "reason": refund.reason,
            "full": refund.full,
            "lines": [
                {"order_line_id": r.order_line_id, "quantity": r.quantity, "amount": r.amount}
                for r in refund.lines.order_by("id")
            ],
            "created_at": refund.created_at,
        },
    )
