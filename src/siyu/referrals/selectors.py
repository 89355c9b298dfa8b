"""Reads of referrals that the pages and the API share: a customer's invitations, what a side
gets, the operators' list and results, and a customer's referral tree."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from siyu.core import clock
from siyu.core.tenancy import current_merchant
from siyu.customers.models import Customer
from siyu.customers.phones import mask, masked_e164
from siyu.referrals import rules, tree
from siyu.referrals.models import (
    InviteCode,
    Referral,
    ReferralProgramme,
    ReferralReward,
    RewardKind,
)
from siyu.referrals.services_programme import programme

Status = Referral.Status


def invite_path(code: InviteCode | str, slug: str) -> str:
    value = code if isinstance(code, str) else code.code
    return f"/s/{slug}/invite/{value}/"


def invite_link(code: InviteCode | str, slug: str) -> str:
    """The absolute link printed on posters and copied into chats."""
    return f"{settings.PUBLIC_URL}{invite_path(code, slug)}"


def reward_text(current: ReferralProgramme, side: str) -> str:
    """What one side gets, in words: "¥5 off", "100 points" or empty for nothing."""
    kind = getattr(current, f"{side}_reward")
    if kind == RewardKind.COUPON:
        template = getattr(current, f"{side}_template")
        if template is None:
            return ""
        from siyu.promotions.selectors import summary

        return _("A coupon: %(what)s") % {"what": summary(template, current_merchant().currency)}
    if kind == RewardKind.POINTS:
        points = getattr(current, f"{side}_points")
        return ngettext("%(n)d point", "%(n)d points", points) % {"n": points}
    return ""


def display_name(customer: Customer) -> str:
    """How a friend is shown to another customer: their name, or their masked number."""
    return customer.name or mask(customer.phone)


def arrival_message(referral: Referral) -> str:
    """What a newly arrived invitee reads after the login."""
    if referral.status == Status.BLOCKED:
        return _("Welcome! This invitation cannot earn rewards.")
    name = display_name(referral.inviter)
    reward = (
        ReferralReward.objects.filter(referral=referral, side=ReferralReward.Side.INVITEE)
        .exclude(status=ReferralReward.Status.FAILED)
        .first()
    )
    if reward is not None and reward.kind == RewardKind.COUPON:
        return _("Welcome! You joined through %(name)s's invitation: your coupon is waiting.") % {
            "name": name
        }
    if reward is not None and reward.kind == RewardKind.POINTS:
        return _("Welcome! You joined through %(name)s's invitation: your points are added.") % {
            "name": name
        }
    return _("Welcome! You joined through %(name)s's invitation.") % {"name": name}


def friend_status(referral: Referral) -> str:
    """A referral's state as the inviter reads it (never the guard's reason)."""
    if referral.status == Status.BLOCKED:
        return _("Not counted")
    if referral.status == Status.REGISTERED:
        return _("Joined — waiting for their first order")
    if referral.status == Status.QUALIFIED:
        return _("First order completed")
    return _("Reward earned")


@dataclass
class MyInvites:
    code: InviteCode
    link: str
    path: str
    friends: list[dict[str, Any]] = field(default_factory=list)
    rewards: list[ReferralReward] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    inviter_reward: str = ""
    invitee_reward: str = ""
    running: bool = False
    invited_by: Referral | None = None
    may_enter_code: bool = False


def my_invites(customer: Customer, *, code: InviteCode, limit: int = 100) -> MyInvites:
    from siyu.orders.models import Order
    from siyu.referrals.services import running

    merchant = current_merchant()
    current = programme()
    now = clock.now()
    friends = Referral.objects.filter(inviter=customer).select_related("invitee")
    counts = dict.fromkeys(Status.values, 0)
    for status, n in friends.values_list("status").annotate(n=Count("id")).order_by():
        counts[status] = n
    invited_by = Referral.objects.filter(invitee=customer).select_related("inviter").first()
    is_running = running(current, now)
    paid = Order.objects.filter(customer=customer, paid_at__isnull=False).exists()
    return MyInvites(
        code=code,
        link=invite_link(code, merchant.slug),
        path=invite_path(code, merchant.slug),
        friends=[
            {
                "referral": r,
                "name": r.invitee.name,
                "phone": mask(r.invitee_phone),
                "phone_e164": masked_e164(r.invitee_phone),
                "status": r.status,
                "status_text": friend_status(r),
                "joined_at": r.created_at,
            }
            for r in friends.order_by("-created_at", "-id")[:limit]
        ],
        rewards=list(
            ReferralReward.objects.filter(customer=customer, status=ReferralReward.Status.ISSUED)
            .select_related("coupon__template")
            .order_by("-created_at", "-id")[:limit]
        ),
        counts=counts,
        inviter_reward=reward_text(current, "inviter"),
        invitee_reward=reward_text(current, "invitee"),
        running=is_running,
        invited_by=invited_by,
        may_enter_code=is_running
        and invited_by is None
        and rules.may_type_code(
            customer.created_at, now, current.code_entry_days, has_paid_order=paid
        ),
    )


def reward_label(reward: ReferralReward) -> str:
    if reward.kind == RewardKind.POINTS:
        return ngettext("%(n)d point", "%(n)d points", reward.points) % {"n": reward.points}
    if reward.coupon is not None:
        from siyu.promotions.selectors import summary

        return summary(reward.coupon.template, current_merchant().currency)
    return _("A coupon")


# --- operators ---------------------------------------------------------------------------------


def referrals(
    *,
    status: str | None = None,
    reason: str | None = None,
    inviter_id: int | None = None,
    invitee_id: int | None = None,
    reward_failed: bool = False,
) -> QuerySet[Referral]:
    """Newest first, with their rewards; ``reward_failed``: only those with a reward that
    could not be issued (to try again)."""
    found = Referral.objects.select_related("inviter", "invitee").prefetch_related("rewards")
    if reward_failed:
        found = found.filter(rewards__status=ReferralReward.Status.FAILED).distinct()
    if status:
        found = found.filter(status=status)
    if reason:
        found = found.filter(block_reason=reason)
    if inviter_id is not None:
        found = found.filter(inviter_id=inviter_id)
    if invitee_id is not None:
        found = found.filter(invitee_id=invitee_id)
    return found.order_by("-created_at", "-id")


@dataclass
class Results:
    start: datetime
    end: datetime
    inviters: int
    registered: int
    bought: int
    blocked: int
    orders: int
    sales: int
    reward_cost: int  # fen: what reward coupons took off orders
    coupons_issued: int
    points_awarded: int
    k_factor: float | None
    blocked_by_reason: list[tuple[str, str, int]]
    months: list[dict[str, Any]]


def results(start: datetime, end: datetime) -> Results:
    """The programme's results for the friends who arrived in ``[start, end)``: inviters,
    friends registered, friends who bought (first order completed), their paid orders and sales
    (net of refunds), what the rewards cost, the K-factor and the months."""
    from siyu.orders.models import Order

    cohort = Referral.objects.filter(created_at__gte=start, created_at__lt=end)
    counted = cohort.exclude(status=Status.BLOCKED)
    inviters = counted.values("inviter_id").distinct().count()
    registered = counted.count()
    bought = counted.filter(status__in=[Status.QUALIFIED, Status.REWARDED]).count()
    blocked_rows = list(
        cohort.filter(status=Status.BLOCKED)
        .values_list("block_reason")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    labels = dict(Referral.Reason.choices)
    orders = Order.objects.filter(
        customer_id__in=counted.values("invitee_id"), paid_at__isnull=False
    ).aggregate(n=Count("id"), total=Sum("total"), refunded=Sum("refunded_total"))
    rewards = ReferralReward.objects.filter(
        referral__in=counted, status=ReferralReward.Status.ISSUED
    ).aggregate(
        cost=Sum("discount_used"),
        coupons=Count("id", filter=Q(kind=RewardKind.COUPON)),
        points=Sum("points"),
    )
    return Results(
        start=start,
        end=end,
        inviters=inviters,
        registered=registered,
        bought=bought,
        blocked=sum(n for _r, n in blocked_rows),
        orders=orders["n"] or 0,
        sales=(orders["total"] or 0) - (orders["refunded"] or 0),
        reward_cost=rewards["cost"] or 0,
        coupons_issued=rewards["coupons"] or 0,
        points_awarded=rewards["points"] or 0,
        k_factor=rules.k_factor(registered, inviters),
        blocked_by_reason=[(r, str(labels.get(r, r)), n) for r, n in blocked_rows],
        months=_months(cohort, start, end),
    )


def _months(cohort: QuerySet[Referral], start: datetime, end: datetime) -> list[dict[str, Any]]:
    zone = current_merchant().time_zone
    months: dict[str, dict[str, Any]] = {}
    cursor = rules.month_start(start, zone)
    while cursor < end and len(months) < 36:
        key = cursor.strftime("%Y-%m")
        months[key] = {"month": key, "registered": 0, "bought": 0, "blocked": 0}
        cursor = rules.month_start(cursor + timedelta(days=32), zone)
    for created_at, status in cohort.values_list("created_at", "status").iterator():
        key = clock.local(created_at, zone).strftime("%Y-%m")
        row = months.get(key)
        if row is None:
            continue
        if status == Status.BLOCKED:
            row["blocked"] += 1
        else:
            row["registered"] += 1
            if status in (Status.QUALIFIED, Status.REWARDED):
                row["bought"] += 1
    return list(months.values())


def results_chart(found: Results) -> dict[str, Any]:
    """An ECharts option: friends registered, who bought and blocked attempts per month."""
    months = [m["month"] for m in found.months]
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 40, "right": 16, "top": 36, "bottom": 28},
        "xAxis": {"type": "category", "data": months},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [
            {
                "name": _("Friends registered"),
                "type": "bar",
                "data": [m["registered"] for m in found.months],
            },
            {
                "name": _("Friends who bought"),
                "type": "bar",
                "data": [m["bought"] for m in found.months],
            },
            {
                "name": _("Blocked attempts"),
                "type": "line",
                "data": [m["blocked"] for m in found.months],
            },
        ],
    }


@dataclass
class TreeView:
    root: Customer
    shape: tree.Shape
    rows: list[dict[str, Any]]
    ancestors: list[Customer]
    truncated: bool


def tree_of(root: Customer, *, limit: int = tree.MAX_NODES) -> TreeView:
    """The customer's referral tree: its shape, its members depth first, who is above them."""
    merchant_id = current_merchant().pk
    found = tree.nodes(merchant_id, root.pk, limit)
    shape = tree.shape(merchant_id, root.pk)
    order = tree.ordered(found, root.pk)
    people = Customer.objects.in_bulk([n.customer_id for n in order])
    status_of = dict(
        Referral.objects.filter(invitee_id__in=list(people)).values_list("invitee_id", "status")
    )
    labels = {k: str(v) for k, v in Status.choices}
    up = tree.ancestors(merchant_id, root.pk)
    above = Customer.objects.in_bulk(up)
    return TreeView(
        root=root,
        shape=shape,
        rows=[
            {
                "customer": people[n.customer_id],
                "parent_id": n.parent_id,
                "depth": n.depth,
                "status": status_of.get(n.customer_id, ""),
                "status_label": labels.get(status_of.get(n.customer_id, ""), ""),
            }
            for n in order
            if n.customer_id in people
        ],
        ancestors=[above[c] for c in up if c in above],
        truncated=shape.size > len(found),
    )
