"""Group-buys API for the logged-in customer (``/api/v1/storefront/<slug>/groupbuy``): running
group-buys, one with its open teams, a team (the share link's content), a priced preview,
placing a group-buy order (pay it with ``POST …/orders/{id}/pay``), and my group-buys.
(No ``from __future__ import annotations``: django-ninja reads the annotations at run time.)
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Path, Router, Schema, Status

from siyu.core import clock
from siyu.core.apikit import ERROR_RESPONSES
from siyu.core.errors import NotFound
from siyu.customers.apikit import CUSTOMER_AUTH, customer_of
from siyu.groupbuy import selectors, services
from siyu.groupbuy.models import GroupBuy, Member, Team
from siyu.storefront import selectors as shop_selectors

router = Router(tags=["storefront: group-buys"], auth=CUSTOMER_AUTH)

MerchantSlug = Annotated[str, Path(description="The merchant's storefront slug.")]


class ShopGroupBuyItemOut(Schema):
    sku_id: int
    options: dict[str, Any]
    price: int = Field(description="The SKU's normal price, fen.")
    group_price: int = Field(description="The group price, fen.")
    stock_left: int = Field(description="Activity stock left.")


class ShopGroupBuySeatOut(Schema):
    seat: int
    initials: str
    name: str = Field(description="Masked for other customers (张*, 138****0000).")
    is_leader: bool


class ShopGroupBuyTeamOut(Schema):
    id: int
    activity_id: int
    status: str = Field(description="`open` (filling), `succeeded` or `failed`.")
    size: int
    seats_taken: int
    seats_left: int
    deadline: datetime
    seconds_left: int
    members: list[ShopGroupBuySeatOut]
    mine: bool = Field(description="Whether I am in it.")
    share_path: str = Field(description="The storefront's team page (the share link).")


class ShopGroupBuyActivityOut(Schema):
    id: int
    name: str
    description: str
    product_id: int
    product_name: str
    status: str = Field(description="`scheduled`, `running`, `paused` or `ended` now.")
    team_size: int
    fill_hours: int
    starts_at: datetime
    ends_at: datetime
    per_customer_limit: int
    new_customers_only: bool
    allow_coupons: bool
    items: list[ShopGroupBuyItemOut]


class ShopGroupBuyActivityDetailOut(ShopGroupBuyActivityOut):
    open_teams: list[ShopGroupBuyTeamOut]


class ShopGroupBuyBuyIn(Schema):
    sku_id: int
    quantity: int = 1
    team_id: int | None = Field(None, description="The team to join; none: start a team.")
    fulfilment: Literal["pickup", "delivery"] = "pickup"
    store_id: int | None = None
    address_id: int | None = None
    note: str = ""
    coupon_id: int | None = Field(None, description="Only when the group-buy allows coupons.")


class ShopGroupBuyPreviewOut(Schema):
    subtotal: int
    discount_total: int
    shipping_fee: int
    total: int
    figures: list[str] = Field(description="Every figure explained, in the request's language.")
    shortages: dict[str, str]


class ShopGroupBuyPlacedOut(Schema):
    order_id: int
    number: str
    status: str
    total: int
    currency: str
    payment_deadline: datetime | None
    pay_path: str = Field(description="POST here to open the payment (`pay_url`).")


class ShopGroupBuyMineOut(Schema):
    order_id: int
    order_number: str
    activity_id: int
    activity_name: str
    status: str = Field(
        description="`pending` (unpaid), `seated`, `cancelled` (unpaid) or `refunded`."
    )
    team_id: int | None
    team_status: str | None
    seats_left: int | None
    quantity: int
    group_price: int
    placed_at: datetime


def _items(activity: GroupBuy) -> list[dict[str, Any]]:
    return [
        {
            "sku_id": i.sku_id,
            "options": i.sku.options,
            "price": i.sku.price,
            "group_price": i.group_price,
            "stock_left": i.stock_left,
        }
        for i in selectors.items(activity)
    ]


def _activity(activity: GroupBuy) -> dict[str, Any]:
    return {
        "id": activity.pk,
        "name": activity.name,
        "description": activity.description,
        "product_id": activity.product_id,
        "product_name": activity.product.name,
        "status": selectors.phase(activity),
        "team_size": activity.team_size,
        "fill_hours": activity.fill_hours,
        "starts_at": activity.starts_at,
        "ends_at": activity.ends_at,
        "per_customer_limit": activity.per_customer_limit,
        "new_customers_only": activity.new_customers_only,
        "allow_coupons": activity.allow_coupons,
        "items": _items(activity),
    }


def _teams(teams: list[Team], request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    customer = customer_of(request)
    return [
        {
            "id": v.team.pk,
            "activity_id": v.team.activity_id,
            "status": v.team.status,
            "size": v.team.size,
            "seats_taken": v.team.seats_taken,
            "seats_left": v.seats_left,
            "deadline": v.team.deadline,
            "seconds_left": v.seconds_left,
            "members": [s.__dict__ for s in v.seats],
            "mine": v.mine,
            "share_path": reverse(
                "shop_groupbuy:team", kwargs={"merchant_slug": slug, "pk": v.team.pk}
            ),
        }
        for v in selectors.team_views(teams, customer)
    ]


def _shown(activity_id: int) -> GroupBuy:
    activity = selectors.shown(activity_id)
    if activity is None:
        raise NotFound()
    return activity


@router.get(
    "",
    response={200: list[ShopGroupBuyActivityOut], **ERROR_RESPONSES},
    summary="Running group-buys",
    description="Group-buys customers can join now, the soonest to end first (at most 50).",
)
def running(request: HttpRequest, merchant_slug: MerchantSlug) -> Any:
    customer_of(request)
    return [_activity(a) for a in selectors.running()[:50]]


@router.get(
    "/mine",
    response={200: list[ShopGroupBuyMineOut], **ERROR_RESPONSES},
    summary="My group-buys",
    description="My group-buy orders, newest first (at most 100), with their team's state.",
)
def mine(request: HttpRequest, merchant_slug: MerchantSlug) -> Any:
    customer = customer_of(request)
    rows: list[Member] = list(selectors.my_members(customer)[:100])
    return [
        {
            "order_id": m.order_id,
            "order_number": m.order.number,
            "activity_id": m.activity_id,
            "activity_name": m.activity.name,
            "status": m.status,
            "team_id": m.team_id,
            "team_status": m.team.status if m.team else None,
            "seats_left": m.team.seats_left if m.team else None,
            "quantity": m.quantity,
            "group_price": m.group_price,
            "placed_at": m.placed_at,
        }
        for m in rows
    ]


@router.get(
    "/teams/{team_id}",
    response={200: ShopGroupBuyTeamOut, **ERROR_RESPONSES},
    summary="A team",
    description="Its members (masked), seats left and time left: what the share link shows.",
)
def team(request: HttpRequest, merchant_slug: MerchantSlug, team_id: int) -> Any:
    found = selectors.team(team_id)
    if found is None:
        raise NotFound()
    return _teams([found], request, merchant_slug)[0]


@router.get(
    "/{activity_id}",
    response={200: ShopGroupBuyActivityDetailOut, **ERROR_RESPONSES},
    summary="A group-buy",
    description="Its SKUs with group price vs price and stock left, and the teams I may join "
    "(fullest first, at most 10).",
)
def activity(request: HttpRequest, merchant_slug: MerchantSlug, activity_id: int) -> Any:
    found = _shown(activity_id)
    out = _activity(found)
    out["open_teams"] = _teams(selectors.open_teams(found), request, merchant_slug)
    return out


def _placing(payload: ShopGroupBuyBuyIn) -> dict[str, Any]:
    return {
        "sku_id": payload.sku_id,
        "quantity": payload.quantity,
        "team_id": payload.team_id,
        "coupon_id": payload.coupon_id,
        "fulfilment": payload.fulfilment,
        "store_id": payload.store_id if payload.fulfilment == "pickup" else None,
        "address_id": payload.address_id if payload.fulfilment == "delivery" else None,
        "note": payload.note,
    }


@router.post(
    "/{activity_id}/preview",
    response={200: ShopGroupBuyPreviewOut, **ERROR_RESPONSES},
    summary="Price a group-buy order",
    description="What `POST …/{activity_id}/orders` with the same body would charge, every "
    "figure explained. Refused the same way (422 naming the field, 409 `not_running`).",
)
def preview(
    request: HttpRequest, merchant_slug: MerchantSlug, activity_id: int, payload: ShopGroupBuyBuyIn
) -> Any:
    customer = customer_of(request)
    shown = services.preview(customer, activity_id, **_placing(payload))
    priced = shown.priced
    return {
        "subtotal": priced.subtotal,
        "discount_total": priced.discount_total,
        "shipping_fee": priced.shipping_total,
        "total": priced.total,
        "figures": [f.text for f in shop_selectors.priced_figures(priced)],
        "shortages": shown.shortages,
    }


@router.post(
    "/{activity_id}/orders",
    response={201: ShopGroupBuyPlacedOut, **ERROR_RESPONSES},
    summary="Start or join a team (place a group-buy order)",
    description="Places the order at the group price; paying it (`pay_path`) seats me in the "
    "team (`team_id`), or in another open team or a new one when it filled meanwhile; when "
    "nothing can seat me the payment is refunded in full. 409 `not_running` (not started, "
    "paused, ended), 409 `sold_out` (activity stock), 422 naming `sku_id`, `quantity`, "
    "`team_id` (closed, full, already in it, new customers only), `activity` (my limit: "
    "`limit_reached`) or a checkout field.",
)
def place(
    request: HttpRequest, merchant_slug: MerchantSlug, activity_id: int, payload: ShopGroupBuyBuyIn
) -> Any:
    from siyu.marketing.attribution import checkout_attribution

    customer = customer_of(request)
    order = services.buy(
        customer,
        activity_id,
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
            "currency": order.currency,
            "payment_deadline": order.payment_deadline,
            "pay_path": f"/api/v1/storefront/{merchant_slug}/orders/{order.pk}/pay",
        },
    )
