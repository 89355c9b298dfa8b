"""Bargains API for staff (``/api/v1/bargain``): activities (create as drafts, edit, schedule,
pause, resume, end), their results, and the bargains customers started.

Amounts are fen. Bad input is 422 naming each field.
(No ``from __future__ import annotations``: ninja reads annotations.)
"""

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from siyu.bargain import activities, selectors
from siyu.bargain.models import Bargain, BargainActivity, BargainCut
from siyu.core.apikit import ERROR_RESPONSES, Page, actor_of
from siyu.core.errors import InvalidInput, NotFound
from siyu.core.permissions import Perm

router = Router(tags=["bargain"])


class BargainActivityFields(Schema):
    time_limit_hours: int = Field(24, description="Hours a started bargain has, 1–720.")
    per_customer_limit: int = Field(1, description="Bargains one customer may start on it.")
    new_customer_weight: int = Field(
        1, description="A new customer's cut counts as this many helpers (1–10; 1 = off)."
    )
    helpers_must_be_new: bool = Field(False, description="Only new customers may help.")
    buy_before_floor: bool = Field(
        True, description="The starter may buy at the current price before the floor."
    )


class BargainActivityIn(BargainActivityFields):
    name: str
    sku_id: int
    floor_price: int = Field(description="Fen, 0 or more, below the SKU's price.")
    helpers_needed: int = Field(description="Helper shares to reach the floor, 1–100.")
    starts_at: datetime
    ends_at: datetime
    stock_total: int = Field(description="Units sold at a bargain price in all.")


class BargainActivityPatch(Schema):
    name: str | None = None
    sku_id: int | None = None
    floor_price: int | None = None
    helpers_needed: int | None = None
    time_limit_hours: int | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    stock_total: int | None = None
    per_customer_limit: int | None = None
    new_customer_weight: int | None = None
    helpers_must_be_new: bool | None = None
    buy_before_floor: bool | None = None


class BargainActivityOut(BargainActivityFields):
    id: int
    name: str
    sku_id: int
    product_id: int
    product_name: str
    sku_price: int = Field(description="The SKU's price now, fen.")
    floor_price: int
    helpers_needed: int
    starts_at: datetime
    ends_at: datetime
    stock_total: int
    stock_left: int
    status: str = Field(description="Stored: `draft`, `active`, `paused` or `ended`.")
    shown_status: str = Field(
        description="`draft`, `scheduled`, `running`, `paused` or `ended` (by time too)."
    )
    share_path: str = Field(description="The storefront's activity page.")
    created_at: datetime

    @staticmethod
    def resolve_product_id(obj: BargainActivity) -> int:
        return obj.sku.product_id

    @staticmethod
    def resolve_product_name(obj: BargainActivity) -> str:
        return obj.sku.product.name

    @staticmethod
    def resolve_sku_price(obj: BargainActivity) -> int:
        return obj.sku.price

    @staticmethod
    def resolve_shown_status(obj: BargainActivity) -> str:
        return selectors.shown_status(obj)

    @staticmethod
    def resolve_share_path(obj: BargainActivity) -> str:
        return f"/s/{obj.merchant.slug}/bargain/{obj.pk}/"


class BargainStatusIn(Schema):
    status: Literal["active", "paused", "ended"] = Field(
        description="`active` schedules a draft (it runs from `starts_at`) or resumes a paused "
        "one; `paused` stops starts, cuts and buying; `ended` is final."
    )


class BargainResultsOut(Schema):
    participants: int = Field(description="Distinct starters and helpers.")
    starters: int
    helpers: int
    started: int = Field(description="Bargains started.")
    completed: int = Field(description="Bargains that reached the floor price.")
    bought: int = Field(description="Bargains with an order (not cancelled unpaid).")
    expired: int
    orders: int
    paid_orders: int
    sales: int = Field(description="Fen paid for those orders, less refunds.")
    cost: int = Field(description="Fen cut off the bargains bought.")
    new_customers: int = Field(description="Distinct helpers new to the bargain they cut.")
    cuts: int
    k_factor: str = Field(description="New customers per participant, two decimals.")


class BargainCutOut(Schema):
    sequence: int
    helper_id: int
    amount: int
    shares: int
    new_customer: bool
    created_at: datetime


class BargainStaffOut(Schema):
    id: int
    code: str
    activity_id: int
    customer_id: int
    status: str
    original_price: int
    floor_price: int
    current_price: int
    helpers_needed: int
    helper_count: int
    started_at: datetime
    expires_at: datetime
    reached_at: datetime | None
    bought_at: datetime | None
    order_id: int | None


class BargainStaffDetailOut(BargainStaffOut):
    cuts: list[BargainCutOut]

    @staticmethod
    def resolve_cuts(obj: Bargain) -> list[BargainCut]:
        return list(obj.cuts.order_by("sequence"))


class BargainStaffFilters(Schema):
    activity_id: int | None = None
    customer_id: int | None = None
    status: Literal["open", "reached", "bought", "expired"] | None = None


def _activity(pk: int) -> BargainActivity:
    row = BargainActivity.objects.select_related("merchant", "sku__product").filter(pk=pk).first()
    if row is None:
        raise NotFound("Not found.")
    return row


@router.get(
    "/activities",
    response={200: list[BargainActivityOut], **ERROR_RESPONSES},
    summary="Bargain activities",
    description="Newest first; `status` keeps one shown status (`draft`, `scheduled`, "
    "`running`, `paused`, `ended`).",
)
@paginate(Page)
def list_activities(request: HttpRequest, status: str = "") -> Any:
    actor_of(request, Perm.PROMOTIONS_VIEW)
    if status and status not in selectors.SHOWN_STATUSES:
        reason = f"One of: {', '.join(selectors.SHOWN_STATUSES)}."
        raise InvalidInput(reason, fields={"status": reason})
    return selectors.activities(status).select_related("merchant")


@router.post(
    "/activities",
    response={201: BargainActivityOut, **ERROR_RESPONSES},
    summary="Create a bargain activity (a draft)",
    description="One SKU cut from its price to `floor_price` by `helpers_needed` helpers within "
    "`time_limit_hours` of starting. The floor leaves at least 1 fen per helper. Bad input is "
    "422 naming each field.",
)
def create_activity(request: HttpRequest, payload: BargainActivityIn) -> Any:
    actor = actor_of(request, Perm.PROMOTIONS_MANAGE)
    row = activities.create_activity(actor, payload.dict())
    return Status(201, _activity(row.pk))


@router.get(
    "/activities/{activity_id}",
    response={200: BargainActivityOut, **ERROR_RESPONSES},
    summary="A bargain activity",
)
def get_activity(request: HttpRequest, activity_id: int) -> Any:
    actor_of(request, Perm.PROMOTIONS_VIEW)
    return _activity(activity_id)


@router.patch(
    "/activities/{activity_id}",
    response={200: BargainActivityOut, **ERROR_RESPONSES},
    summary="Change a bargain activity",
    description="A draft: any field. Once scheduled: `name`, `ends_at` (in the future), "
    "`stock_total` (never below what was sold) and `per_customer_limit`; other fields are 422. "
    "An ended activity is 409 `bad_status`.",
)
def update_activity(request: HttpRequest, activity_id: int, payload: BargainActivityPatch) -> Any:
    actor = actor_of(request, Perm.PROMOTIONS_MANAGE)
    activities.update_activity(actor, activity_id, payload.dict(exclude_unset=True))
    return _activity(activity_id)


@router.post(
    "/activities/{activity_id}/status",
    response={200: BargainActivityOut, **ERROR_RESPONSES},
    summary="Schedule, pause, resume or end a bargain activity",
    description="Other moves are 409 `bad_status`; scheduling an activity whose end has passed "
    "is 422 on `ends_at`.",
)
def set_status(request: HttpRequest, activity_id: int, payload: BargainStatusIn) -> Any:
    actor = actor_of(request, Perm.PROMOTIONS_MANAGE)
    activities.set_status(actor, activity_id, payload.status)
    return _activity(activity_id)


@router.get(
    "/activities/{activity_id}/results",
    response={200: BargainResultsOut, **ERROR_RESPONSES},
    summary="What a bargain activity brought",
    description="Participants (starters and helpers), bargains started/completed/bought, "
    "orders and sales, new customers brought, the cost (total cut on bargains bought) and the "
    "K-factor (new customers per participant).",
)
def results(request: HttpRequest, activity_id: int) -> Any:
    actor_of(request, Perm.PROMOTIONS_VIEW)
    return selectors.results(_activity(activity_id)).as_dict()


@router.get(
    "/bargains",
    response={200: list[BargainStaffOut], **ERROR_RESPONSES},
    summary="Bargains customers started",
    description="Newest first; filter by `activity_id`, `customer_id`, `status`.",
)
@paginate(Page)
def list_bargains(request: HttpRequest, filters: Query[BargainStaffFilters]) -> Any:
    actor_of(request, Perm.PROMOTIONS_VIEW)
    found = Bargain.objects.all()
    if filters.activity_id is not None:
        found = found.filter(activity_id=filters.activity_id)
    if filters.customer_id is not None:
        found = found.filter(customer_id=filters.customer_id)
    if filters.status:
        found = found.filter(status=filters.status)
    return found.order_by("-started_at", "-id")


@router.get(
    "/bargains/{bargain_id}",
    response={200: BargainStaffDetailOut, **ERROR_RESPONSES},
    summary="A bargain with its cuts",
)
def get_bargain(request: HttpRequest, bargain_id: int) -> Any:
    actor_of(request, Perm.PROMOTIONS_VIEW)
    row = Bargain.objects.filter(pk=bargain_id).first()
    if row is None:
        raise NotFound("Not found.")
    return row
