"""Referrals API for staff (``/api/v1/referrals``): the programme, the referrals (blocked ones
with their reasons), results with the K-factor, and any customer's referral tree.

Reads need ``promotions.view``, changes ``promotions.manage``. Bad input is 422 naming each
field; another merchant's customer or referral is 404.
(No ``from __future__ import annotations``: ninja reads annotations.)
"""

from datetime import datetime, timedelta
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from siyu.core import clock
from siyu.core.apikit import ERROR_RESPONSES, Page, actor_of
from siyu.core.errors import InvalidInput, NotFound
from siyu.core.permissions import Perm
from siyu.customers.models import Customer
from siyu.customers.phones import masked_e164
from siyu.referrals import selectors, services, services_programme
from siyu.referrals.models import Referral, ReferralProgramme

router = Router(tags=["referrals"])

RewardKind = Literal["none", "coupon", "points"]
Reason = Literal[
    "self_invite", "same_phone", "same_device", "same_address", "cap_month", "cap_total"
]


class ReferralProgrammeOut(Schema):
    status: str = Field(description="`active` (running) or `paused`.")
    running: bool = Field(description="Active and within its schedule now.")
    starts_at: datetime | None
    ends_at: datetime | None
    message: str
    invitee_reward: str
    invitee_template_id: int | None
    invitee_points: int
    inviter_reward: str
    inviter_template_id: int | None
    inviter_points: int
    cap_per_month: int | None
    cap_total: int | None
    guard_phone: bool
    guard_device: bool
    guard_address: bool
    code_entry_days: int
    updated_at: datetime

    @staticmethod
    def resolve_running(obj: ReferralProgramme) -> bool:
        from siyu.referrals.services import running

        return running(obj, clock.now())


class ReferralProgrammePatch(Schema):
    starts_at: datetime | None = Field(None, description="Empty: from now on.")
    ends_at: datetime | None = Field(None, description="Empty: no end.")
    message: str | None = Field(None, description="Shown on the invitation page (≤ 200).")
    invitee_reward: RewardKind | None = Field(None, description="What a new friend gets.")
    invitee_template_id: int | None = Field(None, description="Coupon template (`coupon`).")
    invitee_points: int | None = Field(None, description="Points (`points`).")
    inviter_reward: RewardKind | None = Field(
        None, description="What the inviter gets when the friend's first order completes."
    )
    inviter_template_id: int | None = None
    inviter_points: int | None = None
    cap_per_month: int | None = Field(None, description="Friends per inviter a month; null: none.")
    cap_total: int | None = Field(None, description="Friends per inviter in all; null: none.")
    guard_phone: bool | None = None
    guard_device: bool | None = None
    guard_address: bool | None = None
    code_entry_days: int | None = Field(
        None, description="Days after joining a customer may still type a friend's code (0–90)."
    )


class ReferralStatusIn(Schema):
    status: Literal["active", "paused"]


class ReferralRewardOut(Schema):
    side: str
    kind: str
    status: str = Field(description="`issued` or `failed` (see `problem`).")
    problem: str
    coupon_id: int | None
    points: int
    discount_used: int = Field(description="Fen the reward coupon took off an order.")
    created_at: datetime


class ReferralOut(Schema):
    id: int
    inviter_id: int
    inviter_phone: str = Field(description="Masked.")
    invitee_id: int
    invitee_phone: str = Field(description="Masked.")
    code: str
    source: str = Field(description="`link` or `code` (typed).")
    status: str = Field(description="`registered`, `qualified`, `rewarded` or `blocked`.")
    block_reason: str = Field(description="Why it was blocked (empty otherwise).")
    block_reason_text: str
    block_detail: str = Field(description="What matched (`inviter`, `another invitee`, 2/2 …).")
    created_at: datetime
    qualified_at: datetime | None
    rewarded_at: datetime | None
    blocked_at: datetime | None
    qualifying_order_id: int | None

    @staticmethod
    def resolve_inviter_phone(obj: Referral) -> str:
        return masked_e164(obj.inviter.phone)

    @staticmethod
    def resolve_invitee_phone(obj: Referral) -> str:
        return masked_e164(obj.invitee_phone)

    @staticmethod
    def resolve_block_reason_text(obj: Referral) -> str:
        return str(obj.get_block_reason_display()) if obj.block_reason else ""


class ReferralDetailOut(ReferralOut):
    rewards: list[ReferralRewardOut]

    @staticmethod
    def resolve_rewards(obj: Referral) -> list[Any]:
        return list(obj.rewards.order_by("created_at", "id"))


class ReferralFilters(Schema):
    status: Literal["registered", "qualified", "rewarded", "blocked"] | None = None
    reason: Reason | None = Field(None, description="Blocked ones with this reason.")
    inviter_id: int | None = None
    invitee_id: int | None = None
    reward_failed: bool = Field(False, description="Only those with a reward not issued.")


class ReferralResultsQuery(Schema):
    start: datetime | None = Field(None, description="Default: 365 days ago.")
    end: datetime | None = Field(None, description="Default: now.")


class ReferralBlockedCount(Schema):
    reason: str
    label: str
    count: int


class ReferralMonthOut(Schema):
    month: str
    registered: int
    bought: int
    blocked: int


class ReferralResultsOut(Schema):
    start: datetime
    end: datetime
    inviters: int = Field(description="Customers who brought at least one friend.")
    registered: int = Field(description="Friends who joined (not blocked).")
    bought: int = Field(description="Of them, friends whose first order completed.")
    blocked: int
    orders: int = Field(description="Paid orders of those friends.")
    sales: int = Field(description="Their value net of refunds, fen.")
    reward_cost: int = Field(description="Fen reward coupons took off orders.")
    coupons_issued: int
    points_awarded: int
    k_factor: float | None = Field(description="Friends registered per inviter.")
    blocked_by_reason: list[ReferralBlockedCount]
    months: list[ReferralMonthOut]


class ReferralTreeNodeOut(Schema):
    customer_id: int
    parent_id: int
    depth: int
    name: str
    phone: str = Field(description="Masked.")
    status: str


class ReferralLevelOut(Schema):
    level: int
    customers: int


class ReferralTreeOut(Schema):
    customer_id: int
    size: int = Field(description="Everyone under the customer, all levels.")
    depth: int = Field(description="The deepest level (0: invited nobody).")
    levels: list[ReferralLevelOut]
    ancestors: list[int] = Field(description="Who invited them, up to the root (root first).")
    nodes: list[ReferralTreeNodeOut] = Field(description="Depth first, at most 2,000.")
    truncated: bool


def _programme() -> ReferralProgramme:
    return services_programme.programme()


@router.get(
    "/programme",
    response={200: ReferralProgrammeOut, **ERROR_RESPONSES},
    summary="The referral programme",
)
def get_programme(request: HttpRequest) -> Any:
    actor_of(request, Perm.PROMOTIONS_VIEW)
    return _programme()


@router.patch(
    "/programme",
    response={200: ReferralProgrammeOut, **ERROR_RESPONSES},
    summary="Change the referral programme",
    description="Only the fields sent change. A `coupon` reward needs a started (active or "
    "paused) coupon template; `points` needs the loyalty app. Caps: null for none. "
    "422 names every bad field and changes nothing.",
)
def update_programme(request: HttpRequest, payload: ReferralProgrammePatch) -> Any:
    actor = actor_of(request, Perm.PROMOTIONS_MANAGE)
    return services_programme.update_programme(actor, payload.dict(exclude_unset=True))


@router.post(
    "/programme/status",
    response={200: ReferralProgrammeOut, **ERROR_RESPONSES},
    summary="Run or pause the referral programme",
    description="Paused: no new referrals; friends already registered still earn the "
    "inviter's reward when their first order completes.",
)
def set_status(request: HttpRequest, payload: ReferralStatusIn) -> Any:
    actor = actor_of(request, Perm.PROMOTIONS_MANAGE)
    return services_programme.set_status(actor, payload.status)


@router.get(
    "/referrals",
    response={200: list[ReferralOut], **ERROR_RESPONSES},
    summary="Referrals",
    description="Newest first. `status=blocked` is the list of blocked attempts with their "
    "reasons; filter by `reason`, `inviter_id`, `invitee_id`.",
)
@paginate(Page)
def list_referrals(request: HttpRequest, filters: Query[ReferralFilters]) -> Any:
    actor_of(request, Perm.PROMOTIONS_VIEW)
    return selectors.referrals(**filters.dict())


@router.post(
    "/rewards/{reward_id}/retry",
    response={200: ReferralRewardOut, **ERROR_RESPONSES},
    summary="Try a reward that could not be issued again",
    description="With the programme's current coupon or points for that side (e.g. after "
    "topping up a coupon that had run out). Answers the reward: `issued`, or `failed` with "
    "the new problem. 409 `already_issued` for a reward issued already (never given twice).",
)
def retry_reward(request: HttpRequest, reward_id: int) -> Any:
    actor = actor_of(request, Perm.PROMOTIONS_MANAGE)
    return services.retry_reward(actor, reward_id)


@router.get(
    "/referrals/{referral_id}",
    response={200: ReferralDetailOut, **ERROR_RESPONSES},
    summary="A referral with its rewards",
)
def get_referral(request: HttpRequest, referral_id: int) -> Any:
    actor_of(request, Perm.PROMOTIONS_VIEW)
    found = selectors.referrals().filter(pk=referral_id).first()
    if found is None:
        raise NotFound("Not found.")
    return found


@router.get(
    "/results",
    response={200: ReferralResultsOut, **ERROR_RESPONSES},
    summary="Results of the programme",
    description="For friends who arrived in `[start, end)`: inviters, friends registered and "
    "who bought, their orders and sales, what rewards cost, the K-factor (friends per "
    "inviter), blocked attempts by reason and per month.",
)
def results(request: HttpRequest, query: Query[ReferralResultsQuery]) -> Any:
    actor_of(request, Perm.PROMOTIONS_VIEW)
    end = query.end or clock.now()
    start = query.start or end - timedelta(days=365)
    if start.tzinfo is None or end.tzinfo is None:
        reason = "Give a time zone (e.g. 2026-01-01T00:00:00+08:00)."
        raise InvalidInput(reason, fields={"start" if start.tzinfo is None else "end": reason})
    if end <= start:
        raise InvalidInput(
            "The end must come after the start.",
            fields={"end": "The end must come after the start."},
        )
    found = selectors.results(start, end)
    return {
        **found.__dict__,
        "blocked_by_reason": [
            {"reason": r, "label": label, "count": n} for r, label, n in found.blocked_by_reason
        ],
    }


@router.get(
    "/customers/{customer_id}/tree",
    response={200: ReferralTreeOut, **ERROR_RESPONSES},
    summary="A customer's referral tree",
    description="The friends they brought, and those friends' friends, at every level "
    "(blocked referrals are not part of it): size, depth, customers per level, who is above "
    "them, and the members depth first.",
)
def customer_tree(request: HttpRequest, customer_id: int) -> Any:
    actor_of(request, Perm.PROMOTIONS_VIEW)
    root = Customer.objects.filter(pk=customer_id).first()
    if root is None:
        raise NotFound("Not found.")
    view = selectors.tree_of(root)
    return {
        "customer_id": root.pk,
        "size": view.shape.size,
        "depth": view.shape.depth,
        "levels": [{"level": d, "customers": n} for d, n in view.shape.per_level],
        "ancestors": [c.pk for c in view.ancestors],
        "nodes": [
            {
                "customer_id": r["customer"].pk,
                "parent_id": r["parent_id"],
                "depth": r["depth"],
                "name": r["customer"].name,
                "phone": masked_e164(r["customer"].phone),
                "status": r["status"],
            }
            for r in view.rows
        ],
        "truncated": view.truncated,
    }
