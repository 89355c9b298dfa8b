"""Group-buys API for staff (``/api/v1/groupbuy``): activities (create as a draft, edit,
schedule, pause, resume, end), their teams with members, and their results.

Amounts are fen. Bad input is 422 naming each field; a move the status does not allow is 409
``bad_status``. Permissions: ``promotions.view`` to read, ``promotions.manage`` to change.
(No ``from __future__ import annotations``: ninja reads annotations.)
"""

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from siyu.core.apikit import ERROR_RESPONSES, Page, actor_of
from siyu.core.errors import NotFound
from siyu.core.permissions import Perm
from siyu.groupbuy import activities, selectors
from siyu.groupbuy.models import GroupBuy

router = Router(tags=["groupbuy"])


class GroupBuySkuIn(Schema):
    sku_id: int
    group_price: int = Field(description="Fen, below the SKU's price.")
    stock: int = Field(description="The activity's own stock of this SKU.")


class GroupBuyActivityIn(Schema):
    name: str
    description: str = ""
    product_id: int
    team_size: int = Field(description="2–50 members per team.")
    fill_hours: int = Field(description="Hours a team has to fill once opened (1–720).")
    starts_at: datetime
    ends_at: datetime
    per_customer_limit: int = Field(1, description="Group-buy orders per customer (1–99).")
    new_customers_only: bool = Field(
        False, description="Joiners (not leaders) must have no paid order before."
    )
    allow_coupons: bool = Field(False, description="Whether coupons combine with the price.")
    skus: list[GroupBuySkuIn]


class GroupBuyActivityPatch(Schema):
    name: str | None = None
    description: str | None = None
    product_id: int | None = None
    team_size: int | None = None
    fill_hours: int | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    per_customer_limit: int | None = None
    new_customers_only: bool | None = None
    allow_coupons: bool | None = None
    skus: list[GroupBuySkuIn] | None = None


class GroupBuySkuOut(Schema):
    sku_id: int
    group_price: int
    stock_total: int
    stock_left: int


class GroupBuyActivityOut(Schema):
    id: int
    name: str
    description: str
    product_id: int
    team_size: int
    fill_hours: int
    starts_at: datetime
    ends_at: datetime
    status: str = Field(description="Stored status: draft, scheduled, running, paused, ended.")
    phase: str = Field(description="What it is now (a scheduled one past its start runs).")
    per_customer_limit: int
    new_customers_only: bool
    allow_coupons: bool
    skus: list[GroupBuySkuOut]
    created_at: datetime

    @staticmethod
    def resolve_phase(obj: GroupBuy) -> str:
        return selectors.phase(obj)

    @staticmethod
    def resolve_skus(obj: GroupBuy) -> list[dict[str, int]]:
        return [
            {
                "sku_id": i.sku_id,
                "group_price": i.group_price,
                "stock_total": i.stock_total,
                "stock_left": i.stock_left,
            }
            for i in selectors.items(obj)
        ]


class GroupBuyStatusIn(Schema):
    action: Literal["schedule", "pause", "resume", "end"]


class GroupBuyMemberOut(Schema):
    id: int
    customer_id: int
    order_id: int
    order_number: str
    seat: int | None
    is_leader: bool
    is_new_customer: bool
    status: str
    quantity: int
    group_price: int
    discount: int
    placed_at: datetime
    seated_at: datetime | None


class GroupBuyTeamOut(Schema):
    id: int
    status: str
    size: int
    seats_taken: int
    leader_id: int
    opened_at: datetime
    deadline: datetime
    closed_at: datetime | None
    members: list[GroupBuyMemberOut]


class GroupBuyTeamFilters(Schema):
    status: Literal["open", "succeeded", "failed"] | None = None


class GroupBuyResultsOut(Schema):
    teams_open: int
    teams_succeeded: int
    teams_failed: int
    success_rate: float | None = Field(description="Succeeded / closed teams.")
    participants: int = Field(description="Distinct customers seated in a team.")
    orders: int = Field(description="Paid orders of succeeded teams.")
    sales: int = Field(description="What those orders charged, less refunds (fen).")
    new_customers: int = Field(description="Joiners with no paid order before, in succeeded teams.")
    reward_cost: int = Field(description="Discount vs the normal price on those orders (fen).")
    k_factor: float | None = Field(description="New customers brought per participant.")
    refunded: int = Field(description="Payments given back (failed teams, payers left out).")


def _activity(pk: int) -> GroupBuy:
    found = GroupBuy.objects.filter(pk=pk).first()
    if found is None:
        raise NotFound("Not found.")
    return found


@router.get(
    "",
    response={200: list[GroupBuyActivityOut], **ERROR_RESPONSES},
    summary="Group-buys",
    description="Newest start first; `status` keeps one stored status.",
)
@paginate(Page)
def list_activities(request: HttpRequest, status: str | None = None) -> Any:
    actor_of(request, Perm.PROMOTIONS_VIEW)
    found = GroupBuy.objects.all()
    if status:
        found = found.filter(status=status)
    return found.order_by("-starts_at", "-id")


@router.post(
    "",
    response={201: GroupBuyActivityOut, **ERROR_RESPONSES},
    summary="Create a group-buy (a draft)",
    description="One product; per SKU a group price below its price and the activity's own "
    "stock. Schedule it to publish. Bad input is 422 naming each field (`skus.0.group_price`).",
)
def create_activity(request: HttpRequest, payload: GroupBuyActivityIn) -> Any:
    actor = actor_of(request, Perm.PROMOTIONS_MANAGE)
    made = activities.create(actor, payload.dict())
    return Status(201, _activity(made.pk))


@router.get(
    "/{activity_id}",
    response={200: GroupBuyActivityOut, **ERROR_RESPONSES},
    summary="A group-buy",
)
def get_activity(request: HttpRequest, activity_id: int) -> Any:
    actor_of(request, Perm.PROMOTIONS_VIEW)
    return _activity(activity_id)


@router.patch(
    "/{activity_id}",
    response={200: GroupBuyActivityOut, **ERROR_RESPONSES},
    summary="Change a group-buy",
    description="A draft: any field. Once scheduled: `name`, `description`, `ends_at` (in the "
    "future), `per_customer_limit` and the SKUs' stock (not below what was sold); other "
    "fields are 422. An ended one is 409 `bad_status`.",
)
def update_activity(request: HttpRequest, activity_id: int, payload: GroupBuyActivityPatch) -> Any:
    actor = actor_of(request, Perm.PROMOTIONS_MANAGE)
    activities.update(actor, activity_id, payload.dict(exclude_unset=True))
    return _activity(activity_id)


@router.post(
    "/{activity_id}/status",
    response={200: GroupBuyActivityOut, **ERROR_RESPONSES},
    summary="Schedule, pause, resume or end a group-buy",
    description="`schedule` publishes a draft (it runs from `starts_at`); `pause` stops new "
    "orders (paid ones are still seated); `resume`; `end` closes it and its open teams, whose "
    "members are refunded within a minute. Other moves are 409 `bad_status`.",
)
def set_status(request: HttpRequest, activity_id: int, payload: GroupBuyStatusIn) -> Any:
    actor = actor_of(request, Perm.PROMOTIONS_MANAGE)
    activities.set_status(actor, activity_id, payload.action)
    return _activity(activity_id)


@router.get(
    "/{activity_id}/teams",
    response={200: list[GroupBuyTeamOut], **ERROR_RESPONSES},
    summary="Teams of a group-buy",
    description="Newest first, with their members; filter by `status`.",
)
@paginate(Page)
def list_teams(request: HttpRequest, activity_id: int, filters: Query[GroupBuyTeamFilters]) -> Any:
    actor_of(request, Perm.PROMOTIONS_VIEW)
    return _TeamRows(selectors.teams(_activity(activity_id), filters.status))


class _TeamRows:
    """The teams queryset for the paginator, with members loaded per page (two queries)."""

    def __init__(self, queryset: Any) -> None:
        self.queryset = queryset

    def __len__(self) -> int:
        return int(self.queryset.count())

    def count(self) -> int:
        return int(self.queryset.count())

    def __getitem__(self, index: Any) -> Any:
        teams = list(self.queryset[index])
        members = selectors.team_members([t.pk for t in teams])
        return [
            {
                "id": t.pk,
                "status": t.status,
                "size": t.size,
                "seats_taken": t.seats_taken,
                "leader_id": t.leader_id,
                "opened_at": t.opened_at,
                "deadline": t.deadline,
                "closed_at": t.closed_at,
                "members": [
                    {
                        "id": m.pk,
                        "customer_id": m.customer_id,
                        "order_id": m.order_id,
                        "order_number": m.order.number,
                        "seat": m.seat,
                        "is_leader": m.is_leader,
                        "is_new_customer": m.is_new_customer,
                        "status": m.status,
                        "quantity": m.quantity,
                        "group_price": m.group_price,
                        "discount": m.discount,
                        "placed_at": m.placed_at,
                        "seated_at": m.seated_at,
                    }
                    for m in members.get(t.pk, [])
                ],
            }
            for t in teams
        ]


@router.get(
    "/{activity_id}/results",
    response={200: GroupBuyResultsOut, **ERROR_RESPONSES},
    summary="Results of a group-buy",
    description="Teams by outcome and the success rate, participants, orders and sales of "
    "succeeded teams, new customers brought, the cost of the rewards (discount vs normal "
    "price) and the K-factor (new customers per participant).",
)
def results(request: HttpRequest, activity_id: int) -> Any:
    actor_of(request, Perm.PROMOTIONS_VIEW)
    found = selectors.results(_activity(activity_id))
    return {name: getattr(found, name) for name in GroupBuyResultsOut.model_fields}
