"""Bargains API for the logged-in customer (``/api/v1/storefront/<slug>/bargain``): an
activity, starting a bargain, a bargain by its share code, helping cut it, previewing and
placing its order, and my bargains.
(No ``from __future__ import annotations``: django-ninja reads the annotations at run time.)
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Path, Router, Schema, Status

from siyu.bargain import selectors, services
from siyu.bargain.models import Bargain, BargainActivity
from siyu.core import clock
from siyu.core.apikit import ERROR_RESPONSES
from siyu.core.errors import NotFound
from siyu.customers.apikit import CUSTOMER_AUTH, customer_of

router = Router(tags=["storefront: bargains"], auth=CUSTOMER_AUTH)

MerchantSlug = Annotated[str, Path(description="The merchant's storefront slug.")]
Fulfilment = Literal["pickup", "delivery"]


class BargainActivityShopOut(Schema):
    id: int
    name: str
    product_id: int
    product_name: str
    sku_id: int
    price: int = Field(description="The SKU's price now, fen: where a bargain starts.")
    floor_price: int
    helpers_needed: int
    time_limit_hours: int
    starts_at: datetime
    ends_at: datetime
    status: str = Field(description="`scheduled`, `running`, `paused` or `ended`.")
    stock_left: int
    buy_before_floor: bool
    helpers_must_be_new: bool
    my_bargain_code: str | None = Field(description="My running bargain on it, if any.")
    problem: str = Field(description="Why I cannot start one now (empty when I can).")


class BargainHelperOut(Schema):
    name: str = Field(description="Masked: the name's first character or the phone's last 4.")
    amount: int
    new_customer: bool
    at: datetime


class BargainShopOut(Schema):
    code: str = Field(description="The share code: the page is `/s/<slug>/bargain/b/<code>/`.")
    activity_id: int
    product_name: str
    status: str = Field(description="`open`, `reached`, `bought` or `expired`.")
    status_label: str
    original_price: int
    floor_price: int
    current_price: int
    cut_total: int
    left_to_cut: int
    helpers_needed: int
    helper_count: int
    progress_permille: int = Field(description="0 at the original price, 1000 at the floor.")
    started_at: datetime
    expires_at: datetime
    seconds_left: int
    mine: bool
    helpers: list[BargainHelperOut]
    can_help: bool
    help_problem: str
    can_buy: bool
    buy_problem: str
    order_id: int | None


class BargainCutShopOut(Schema):
    amount: int = Field(description="Fen I cut off.")
    shares: int = Field(description="Helpers I counted as (more than 1 for a new customer).")
    new_customer: bool
    bargain: BargainShopOut


class BargainPlacingIn(Schema):
    fulfilment: Fulfilment
    store_id: int | None = Field(None, description="The pickup store (required for pickup).")
    address_id: int | None = Field(None, description="One of my addresses (for delivery).")
    note: str = Field("", description="For the store, at most 200 characters.")


class BargainFigureOut(Schema):
    name: str
    amount: int = Field(description="Fen (negative for discounts).")
    text: str


class BargainPreviewOut(Schema):
    total: int
    figures: list[BargainFigureOut]
    problems: dict[str, str] = Field(description="Stock problems by field; empty when it can.")


class BargainBoughtOut(Schema):
    order_id: int
    number: str
    status: str
    total: int
    payment_deadline: datetime | None
    figures: list[BargainFigureOut]


def _bargain(code: str) -> Bargain:
    bargain = selectors.bargain_by_code(code)
    if bargain is None:
        raise NotFound()
    return bargain


def bargain_out(bargain: Bargain, viewer: Any) -> dict[str, Any]:
    view = selectors.bargain_view(bargain, viewer)
    return {
        "code": bargain.code,
        "activity_id": bargain.activity_id,
        "product_name": bargain.activity.sku.product.name,
        "status": view.status,
        "status_label": view.status_label,
        "original_price": bargain.original_price,
        "floor_price": bargain.floor_price,
        "current_price": bargain.current_price,
        "cut_total": view.cut_total,
        "left_to_cut": view.left_to_cut,
        "helpers_needed": bargain.helpers_needed,
        "helper_count": bargain.helper_count,
        "progress_permille": view.progress_permille,
        "started_at": bargain.started_at,
        "expires_at": bargain.expires_at,
        "seconds_left": view.seconds_left,
        "mine": view.is_starter,
        "helpers": [h.__dict__ for h in view.helpers],
        "can_help": view.can_help,
        "help_problem": view.help_problem,
        "can_buy": view.can_buy,
        "buy_problem": view.buy_problem,
        "order_id": bargain.order_id if view.is_starter else None,
    }


def _figures(explanation: dict[str, Any], currency: str) -> list[dict[str, Any]]:
    from siyu.storefront.selectors import figures

    return [{"name": f.name, "amount": f.amount, "text": f.text} for f in figures(explanation)]


@router.get(
    "/activities/{activity_id}",
    response={200: BargainActivityShopOut, **ERROR_RESPONSES},
    summary="A bargain activity",
    description="What it is, its prices and time limit, and my running bargain on it.",
)
def activity(request: HttpRequest, merchant_slug: MerchantSlug, activity_id: int) -> Any:
    customer = customer_of(request)
    row = (
        BargainActivity.objects.select_related("sku__product")
        .filter(pk=activity_id)
        .exclude(status=BargainActivity.Status.DRAFT)
        .first()
    )
    if row is None:
        raise NotFound()
    now = clock.now()
    mine = Bargain.objects.filter(
        activity=row, customer=customer, status__in=services.LIVE, expires_at__gt=now
    ).first()
    problem = services.activity_problem(row, now)
    reason = problem[1] if problem else ""
    if not reason and row.stock_left <= 0:
        reason = str(services.sold_out_reason())
    return {
        "id": row.pk,
        "name": row.name,
        "product_id": row.sku.product_id,
        "product_name": row.sku.product.name,
        "sku_id": row.sku_id,
        "price": row.sku.price,
        "floor_price": row.floor_price,
        "helpers_needed": row.helpers_needed,
        "time_limit_hours": row.time_limit_hours,
        "starts_at": row.starts_at,
        "ends_at": row.ends_at,
        "status": selectors.shown_status(row, now),
        "stock_left": row.stock_left,
        "buy_before_floor": row.buy_before_floor,
        "helpers_must_be_new": row.helpers_must_be_new,
        "my_bargain_code": mine.code if mine else None,
        "problem": "" if mine else reason,
    }


@router.post(
    "/activities/{activity_id}/start",
    response={201: BargainShopOut, **ERROR_RESPONSES},
    summary="Start a bargain",
    description="Starts my bargain on the activity, or answers my running one (a retry starts "
    "one). Not running now is 409 `paused`, `ended` or `not_started`; no stock left 409 "
    "`sold_out`; my limit of bargains on it reached 422 on `activity_id`.",
)
def start(request: HttpRequest, merchant_slug: MerchantSlug, activity_id: int) -> Any:
    customer = customer_of(request)
    bargain = services.start(customer, activity_id)
    return Status(201, bargain_out(_bargain(bargain.code), customer))


@router.get(
    "/bargains",
    response={200: list[BargainShopOut], **ERROR_RESPONSES},
    summary="My bargains",
    description="Newest first (at most 100).",
)
def my_bargains(request: HttpRequest, merchant_slug: MerchantSlug) -> Any:
    customer = customer_of(request)
    return [bargain_out(b, customer) for b in selectors.customer_bargains(customer)[:100]]


@router.get(
    "/bargains/{code}",
    response={200: BargainShopOut, **ERROR_RESPONSES},
    summary="A bargain by its share code",
    description="Its prices, progress, helpers with their cuts, time left, and whether I can "
    "help cut it or (its starter) buy it now, with the reason when not.",
)
def bargain(request: HttpRequest, merchant_slug: MerchantSlug, code: str) -> Any:
    return bargain_out(_bargain(code), customer_of(request))


@router.post(
    "/bargains/{code}/cut",
    response={201: BargainCutShopOut, **ERROR_RESPONSES},
    summary="Help cut a bargain",
    description="Cuts a random amount off (the last needed helper cuts exactly to the floor). "
    "Once per helper: a second cut is 409 `already_helped`; the starter's own cut, or a "
    "customer who is not new when only new customers may help, is 422 on `bargain`; a bargain "
    "bought, expired, complete, or of a paused or ended activity is 409 `closed`, `expired`, "
    "`complete`, `paused` or `ended`.",
)
def cut(request: HttpRequest, merchant_slug: MerchantSlug, code: str) -> Any:
    customer = customer_of(request)
    made = services.help_cut(customer, _bargain(code).pk)
    return Status(
        201,
        {
            "amount": made.amount,
            "shares": made.shares,
            "new_customer": made.new_customer,
            "bargain": bargain_out(_bargain(code), customer),
        },
    )


def _placing(payload: BargainPlacingIn) -> dict[str, Any]:
    return {
        "fulfilment": payload.fulfilment,
        "store_id": payload.store_id if payload.fulfilment == "pickup" else None,
        "address_id": payload.address_id if payload.fulfilment == "delivery" else None,
        "note": payload.note,
    }


def _mine(request: HttpRequest, code: str) -> tuple[Any, Bargain]:
    customer = customer_of(request)
    bargain = _bargain(code)
    if bargain.customer_id != customer.pk:
        raise NotFound()
    return customer, bargain


@router.post(
    "/bargains/{code}/preview",
    response={200: BargainPreviewOut, **ERROR_RESPONSES},
    summary="Price buying my bargain",
    description="What `POST …/orders` with the same body would charge: one unit at the "
    "bargain's current price, every figure explained. Coupons do not combine with a bargain.",
)
def preview(
    request: HttpRequest, merchant_slug: MerchantSlug, code: str, payload: BargainPlacingIn
) -> Any:
    customer, bargain = _mine(request, code)
    priced = services.preview(customer, bargain.pk, **_placing(payload))
    merchant = bargain.activity.merchant
    return {
        "total": priced.priced.total,
        "figures": _figures(priced.priced.explanation(), merchant.currency),
        "problems": priced.shortages,
    }


@router.post(
    "/bargains/{code}/orders",
    response={201: BargainBoughtOut, **ERROR_RESPONSES},
    summary="Buy my bargain at its current price",
    description="Places an order of one unit at the bargain's current price (pay it like any "
    "order). The bargain is then closed to cuts; if the order is cancelled unpaid it reopens "
    "until it expires. Refusals: 409 `closed`, `expired`, `paused`, `ended`, "
    "`floor_not_reached`, `sold_out`; a bad store or address is 422 naming it.",
)
def buy(
    request: HttpRequest, merchant_slug: MerchantSlug, code: str, payload: BargainPlacingIn
) -> Any:
    from siyu.marketing.attribution import checkout_attribution

    customer, bargain = _mine(request, code)
    order = services.buy(
        customer,
        bargain.pk,
        attribution=checkout_attribution(customer, at=clock.now()),
        **_placing(payload),
    )
    return Status(
        201,
        {
            "order_id": order.pk,
            "number": order.number,
            "status": order.status,
            "total": order.total,
            "payment_deadline": order.payment_deadline,
            "figures": _figures(order.pricing, order.currency),
        },
    )
