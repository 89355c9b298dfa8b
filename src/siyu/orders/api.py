"""Staff API of orders: list and read, fulfil (prepare, ship, ready, complete, verify
pickup), cancel unpaid orders, export CSV, and the delivery fee rule.

Money is integer fen. Store managers and shopping guides see and fulfil only the
orders of the stores they are assigned to (others are 404). Handlers parse, call a
selector or a service, and answer; the rules live in ``siyu.orders.services``.
The customer's cart, checkout and orders are the storefront API's.

No ``from __future__ import annotations`` here: django-ninja resolves the
``Query[...]`` of paginated handlers at run time.
"""

from datetime import date, datetime
from typing import Any, Literal

from django.http import Http404, HttpRequest, StreamingHttpResponse
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from pydantic import ConfigDict

from siyu.core.actors import Actor
from siyu.core.apikit import ERROR_RESPONSES, Page, actor_of, get_or_404
from siyu.core.permissions import Perm
from siyu.orders import checkout as checkout_context
from siyu.orders import selectors, services
from siyu.orders.exports import csv_response
from siyu.orders.models import Order

router = Router(tags=["orders"])

OrderStatus = Literal[
    "pending_payment", "paid", "preparing", "shipped", "ready_for_pickup", "completed", "cancelled"
]
Fulfilment = Literal["delivery", "pickup"]
RefundState = Literal["none", "partial", "full"]


# --- schemas ------------------------------------------------------------------------------


class OrderFilter(Schema):
    status: OrderStatus | None = None
    store_id: int | None = None
    fulfilment: Fulfilment | None = None
    channel: str | None = Field(None, max_length=24)
    refund_state: RefundState | None = None
    date_from: date | None = Field(
        None, description="Placed on or after this day (merchant's time zone)."
    )
    date_to: date | None = Field(
        None, description="Placed on or before this day (merchant's time zone)."
    )
    q: str | None = Field(
        None,
        max_length=40,
        description="An order number, a customer's phone (or its last 4+ digits) or name.",
    )

    def to_filters(self) -> selectors.OrderFilters:
        return selectors.OrderFilters(
            status=self.status or "",
            store_id=self.store_id,
            fulfilment=self.fulfilment or "",
            channel=self.channel or "",
            refund_state=self.refund_state or "",
            date_from=self.date_from,
            date_to=self.date_to,
            q=self.q or "",
        )


class CustomerSummary(Schema):
    id: int
    phone: str = Field(description="E.164, e.g. +8613812345678.")
    name: str


class StoreSummary(Schema):
    id: int
    code: str
    name: str


class OrderListItem(Schema):
    id: int
    number: str
    status: OrderStatus
    refund_state: RefundState
    fulfilment: Fulfilment
    store: StoreSummary | None
    customer: CustomerSummary
    currency: str
    total: int = Field(description="Fen.")
    refunded_total: int = Field(description="Fen.")
    channel: str
    placed_at: datetime
    paid_at: datetime | None


class OrderLineOut(Schema):
    id: int
    sku_id: int
    product_id: int
    product_name: str
    sku_code: str
    options: dict[str, str]
    unit_price: int = Field(description="Fen, at the time of the order.")
    list_price: int | None
    quantity: int
    discount: int = Field(description="Fen: discounts on this line and its share of the order's.")
    line_total: int = Field(description="Fen paid for this line.")
    refunded_quantity: int
    refunded_amount: int

    @staticmethod
    def resolve_product_id(obj: Any) -> int:
        return int(obj.product_id_snapshot)


class OrderEventOut(Schema):
    kind: str = Field(
        description="placed, paid, preparing, shipped, ready_for_pickup, collected, completed, cancelled, refunded."
    )
    label: str
    from_status: str
    to_status: str
    actor: str
    note: str
    data: dict[str, Any]
    created_at: datetime


class PaymentSummary(Schema):
    out_trade_no: str
    gateway: str
    amount: int = Field(description="Fen.")
    status: str
    paid_at: datetime | None
    refunded_total: int = Field(description="Fen.")


class PricingFigure(Schema):
    name: str = Field(description="line.N, discount.<code>, subtotal, shipping or total.")
    amount: int = Field(description="Fen (discounts negative).")
    text: str = Field(description="Why, in the request's language.")


class AttributionOut(Schema):
    channel: str
    group_id: int | None
    guide_id: int | None
    join_code_id: int | None
    distributor_id: int | None
    campaign_id: int | None
    live_room_id: int | None
    more: dict[str, Any]


class OrderOut(OrderListItem):
    subtotal: int = Field(description="Fen: Σ unit price × quantity.")
    discount_total: int = Field(description="Fen.")
    shipping_fee: int = Field(description="Fen.")
    note: str
    pickup_code: str = Field(description="Six digits, pickup orders only (staff see it).")
    carrier: str
    tracking_number: str
    shipping_address: dict[str, str] | None
    payment_deadline: datetime | None
    payment_reference: str
    cancel_reason: str
    completed_at: datetime | None
    cancelled_at: datetime | None
    lines: list[OrderLineOut]
    events: list[OrderEventOut]
    payments: list[PaymentSummary]
    pricing: list[PricingFigure]
    attribution: AttributionOut
    actions: list[str] = Field(
        description="The moves this caller may make now: start_preparing, ship, mark_ready, "
        "collect, complete, cancel."
    )


class ShipIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"carrier": "顺丰速运", "tracking_number": "SF1234567890123"}]
        }
    )

    carrier: str = Field(max_length=40)
    tracking_number: str = Field(max_length=60)


class CancelIn(Schema):
    reason: str = Field(max_length=200, description="Shown on the order's timeline.")


class VerifyPickupIn(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"store_id": 3, "code": "042917"}]})

    store_id: int
    code: str = Field(max_length=20, description="The customer's six-digit pickup code.")


class ShippingRuleIO(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"flat_fee": 800, "free_over": 9900}]}
    )

    flat_fee: int = Field(ge=0, le=10**9, description="Fen per delivery order; 0 is free delivery.")
    free_over: int | None = Field(
        None, ge=0, le=10**9, description="Free delivery when the goods cost at least this (fen)."
    )


# --- answers ---------------------------------------------------------------------------------


def _summary(order: Order) -> dict[str, Any]:
    return {
        "id": order.pk,
        "number": order.number,
        "status": order.status,
        "refund_state": order.refund_state,
        "fulfilment": order.fulfilment,
        "store": {"id": order.store.pk, "code": order.store.code, "name": order.store.name}
        if order.store
        else None,
        "customer": {
            "id": order.customer.pk,
            "phone": order.customer.phone,
            "name": order.customer.name,
        },
        "currency": order.currency,
        "total": order.total,
        "refunded_total": order.refunded_total,
        "channel": order.channel,
        "placed_at": order.placed_at,
        "paid_at": order.paid_at,
    }


def _order_out(actor: Actor, pk: int) -> dict[str, Any]:
    order = selectors.order_for(actor, pk)
    if order is None:
        raise Http404
    out = _summary(order)
    out.update(
        {
            name: getattr(order, name)
            for name in (
                "subtotal",
                "discount_total",
                "shipping_fee",
                "note",
                "pickup_code",
                "carrier",
                "tracking_number",
                "shipping_address",
                "payment_deadline",
                "payment_reference",
                "cancel_reason",
                "completed_at",
                "cancelled_at",
            )
        }
    )
    out["lines"] = list(order.lines.all())
    out["events"] = [
        {
            "kind": e.kind,
            "label": selectors.event_label(e.kind),
            "from_status": e.from_status,
            "to_status": e.to_status,
            "actor": e.actor_label,
            "note": e.note,
            "data": e.data,
            "created_at": e.created_at,
        }
        for e in order.events.all()
    ]
    out["payments"] = [
        {
            "out_trade_no": p.out_trade_no,
            "gateway": p.gateway,
            "amount": p.amount,
            "status": p.status,
            "paid_at": p.paid_at,
            "refunded_total": p.refunded_total,
        }
        for p in order.payments.all()
    ]
    out["pricing"] = [f.__dict__ for f in selectors.explain(order)]
    out["attribution"] = {
        "channel": order.channel,
        **{name: getattr(order, name) for name in checkout_context.ATTRIBUTION_IDS},
        "more": order.attribution,
    }
    out["actions"] = selectors.staff_actions(actor, order)
    return out


def _visible(actor: Actor, order_id: int) -> Order:
    return get_or_404(selectors.visible_orders(actor), pk=order_id)


# --- reading ----------------------------------------------------------------------------------


@router.get(
    "",
    response={200: list[OrderListItem], **ERROR_RESPONSES},
    summary="Orders, newest first, filtered",
)
@paginate(Page)
def order_list(request: HttpRequest, filters: Query[OrderFilter]) -> list[dict[str, Any]]:
    actor = actor_of(request, Perm.ORDERS_VIEW)
    return selectors.orders(actor, filters.to_filters())  # type: ignore[return-value]


@router.get(
    "/export.csv",
    response=ERROR_RESPONSES,
    summary="The filtered orders as CSV (one row per order)",
    description=(
        "UTF-8 with a byte-order mark (Excel in China opens it as is), one row per order with "
        "its items summarised in one column; amounts in yuan with two decimals; times in the "
        "merchant's time zone. Streamed, so a year of orders needs no waiting."
    ),
    openapi_extra={
        "responses": {
            200: {
                "description": "CSV",
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        }
    },
)
def order_export(request: HttpRequest, filters: Query[OrderFilter]) -> StreamingHttpResponse:
    actor = actor_of(request, Perm.ORDERS_VIEW)
    return csv_response(actor, filters.to_filters())


@router.get(
    "/shipping-rule",
    response={200: ShippingRuleIO, **ERROR_RESPONSES},
    summary="The delivery fee rule",
)
def shipping_rule(request: HttpRequest) -> dict[str, Any]:
    actor = actor_of(request, Perm.ORDERS_VIEW)
    rule = checkout_context.shipping_rule(actor.merchant)
    return {"flat_fee": rule.flat_fee, "free_over": rule.free_over}


@router.put(
    "/shipping-rule",
    response={200: ShippingRuleIO, **ERROR_RESPONSES},
    summary="Set the delivery fee rule (owners)",
)
def shipping_rule_set(request: HttpRequest, payload: ShippingRuleIO) -> dict[str, Any]:
    actor = actor_of(request, Perm.MERCHANT_MANAGE)
    rule = services.set_shipping_rule(actor, flat_fee=payload.flat_fee, free_over=payload.free_over)
    return {"flat_fee": rule.flat_fee, "free_over": rule.free_over}


@router.get(
    "/{int:order_id}",
    response={200: OrderOut, **ERROR_RESPONSES},
    summary="An order with its lines, timeline, payments and pricing",
)
def order_detail(request: HttpRequest, order_id: int) -> dict[str, Any]:
    actor = actor_of(request, Perm.ORDERS_VIEW)
    return _order_out(actor, order_id)


# --- fulfilment --------------------------------------------------------------------------------


@router.post(
    "/{int:order_id}/prepare",
    response={200: OrderOut, **ERROR_RESPONSES},
    summary="Start preparing a paid order",
)
def order_prepare(request: HttpRequest, order_id: int) -> dict[str, Any]:
    actor = actor_of(request, Perm.ORDERS_FULFIL)
    services.start_preparing(actor, _visible(actor, order_id))
    return _order_out(actor, order_id)


@router.post(
    "/{int:order_id}/ship",
    response={200: OrderOut, **ERROR_RESPONSES},
    summary="Mark a delivery order shipped, with carrier and tracking number",
)
def order_ship(request: HttpRequest, order_id: int, payload: ShipIn) -> dict[str, Any]:
    actor = actor_of(request, Perm.ORDERS_FULFIL)
    services.mark_shipped(
        actor, _visible(actor, order_id), payload.carrier, payload.tracking_number
    )
    return _order_out(actor, order_id)


@router.post(
    "/{int:order_id}/ready",
    response={200: OrderOut, **ERROR_RESPONSES},
    summary="Mark a pickup order ready at its store",
)
def order_ready(request: HttpRequest, order_id: int) -> dict[str, Any]:
    actor = actor_of(request, Perm.ORDERS_FULFIL)
    services.mark_ready_for_pickup(actor, _visible(actor, order_id))
    return _order_out(actor, order_id)


@router.post(
    "/{int:order_id}/complete",
    response={200: OrderOut, **ERROR_RESPONSES},
    summary="Mark a shipped order completed (received)",
)
def order_complete(request: HttpRequest, order_id: int) -> dict[str, Any]:
    actor = actor_of(request, Perm.ORDERS_FULFIL)
    services.complete(actor, _visible(actor, order_id))
    return _order_out(actor, order_id)


@router.post(
    "/{int:order_id}/cancel",
    response={200: OrderOut, **ERROR_RESPONSES},
    summary="Cancel an unpaid order (its stock is released)",
    description="A paid order is cancelled by refunding it in full (`POST /payments/refunds`).",
)
def order_cancel(request: HttpRequest, order_id: int, payload: CancelIn) -> dict[str, Any]:
    actor = actor_of(request, Perm.ORDERS_FULFIL)
    services.cancel(_visible(actor, order_id), actor=actor, reason=payload.reason)
    return _order_out(actor, order_id)


@router.post(
    "/verify-pickup",
    response={200: OrderOut, **ERROR_RESPONSES},
    summary="Verify a customer's pickup code at a store: the order is collected",
)
def order_verify_pickup(request: HttpRequest, payload: VerifyPickupIn) -> dict[str, Any]:
    actor = actor_of(request, Perm.ORDERS_FULFIL)
    store = get_or_404(selectors.visible_stores(actor), pk=payload.store_id)
    order = services.verify_pickup(actor, store, payload.code)
    return _order_out(actor, order.pk)
