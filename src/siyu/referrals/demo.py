"""Demo data of referrals: a running programme (a welcome coupon for friends, points — or a
coupon without the loyalty app — for inviters), and a year of invitations among the demo's
customers: friends who joined, the ones whose first order completed (rewarded), some
pending, some blocked by the guards, and a few champions with trees several levels deep.

Referrals follow the customers' own history: a friend's referral is dated when they joined,
their inviter joined before them, and a referral is rewarded only when the friend has a
completed order. Rewards go through the real services (coupons claimed, points awarded) and
are dated with their referral.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Min

from siyu.core import clock, ids
from siyu.core.demo import DemoContext
from siyu.core.tenancy import current_merchant, merchant_context
from siyu.customers.models import Customer
from siyu.referrals import rules, services
from siyu.referrals.models import CODE_LENGTH, InviteCode, Referral, ReferralReward, RewardKind
from siyu.referrals.services_programme import points_available

STEPS = 3
SHARE = 0.03  # of the customers arrived through a friend
MAX_REFERRALS = 250  # each referral's rewards go through the real services: ~8 ms each
SEED_INVITERS = 45
CHAMPIONS = 3
FRIEND_OF_FRIEND = 0.35  # a referral's inviter is an earlier invitee (trees grow deeper)
BLOCKED_SHARE = 0.08
BLOCK_REASONS = [
    (rules.SAME_DEVICE, "inviter"),
    (rules.SAME_DEVICE, "another invitee"),
    (rules.SAME_PHONE, "another invitee"),
    (rules.CAP_MONTH, "20/20"),
    (rules.SAME_ADDRESS, "order"),
]


def seed(ctx: DemoContext) -> None:
    with merchant_context(ctx.merchant), transaction.atomic():
        current = _programme(ctx)
        ctx.advance(1)
        made = _referrals(ctx)
        ctx.advance(1)
        _rewards(current, made)
        ctx.advance(1)


def _programme(ctx: DemoContext) -> Any:
    from siyu.promotions import templates_admin

    welcome = templates_admin.create_template(
        ctx.owner,
        {
            "name": "好友邀请新人礼",
            "description": "通过好友邀请注册即得，满 30 元减 10 元",
            "kind": "threshold",
            "amount": 1000,
            "threshold": 3000,
            "total_quantity": 5000,
            "valid_days": 30,
        },
    )
    templates_admin.set_status(ctx.owner, welcome.pk, "active")
    changes: dict[str, Any] = {
        "message": "我在这家店买咖啡，新人注册就送满 30 减 10 券，一起来喝一杯吧☕",
        "invitee_reward": RewardKind.COUPON,
        "invitee_template_id": welcome.pk,
        "cap_per_month": 20,
        "cap_total": 200,
        "code_entry_days": 7,
    }
    if points_available():
        changes.update({"inviter_reward": RewardKind.POINTS, "inviter_points": 200})
    else:
        thanks = templates_admin.create_template(
            ctx.owner,
            {
                "name": "邀请有礼",
                "kind": "fixed",
                "amount": 1500,
                "total_quantity": 5000,
                "per_customer_limit": 99,
                "valid_days": 30,
            },
        )
        templates_admin.set_status(ctx.owner, thanks.pk, "active")
        changes.update({"inviter_reward": RewardKind.COUPON, "inviter_template_id": thanks.pk})
    from siyu.referrals import services_programme

    services_programme.update_programme(ctx.owner, changes)
    return services_programme.set_status(ctx.owner, "active")


def _referrals(ctx: DemoContext) -> list[Referral]:
    from siyu.orders.models import Order

    rng = ctx.rng
    people = list(
        Customer.objects.order_by("created_at", "pk").values_list("pk", "phone", "created_at")
    )
    if len(people) < 50:
        return []
    early = people[: int(len(people) * 0.6)]
    seeds = rng.sample(early, min(SEED_INVITERS, len(early)))
    champions = seeds[:CHAMPIONS]
    joined = {pk: at for pk, _phone, at in people}
    target = min(MAX_REFERRALS, max(30, int(len(people) * SHARE)))
    seed_ids = {pk for pk, _phone, _at in seeds}
    candidates = [p for p in people[len(people) // 5 :] if p[0] not in seed_ids]
    invitees = sorted(rng.sample(candidates, min(target, len(candidates))), key=lambda p: p[2])
    earlier_invitees: list[int] = []
    rows: list[tuple[int, int, str, datetime]] = []  # inviter, invitee, phone, at
    for pk, phone, at in invitees:
        pool: list[int]
        if earlier_invitees and rng.random() < FRIEND_OF_FRIEND:
            pool = earlier_invitees[-80:]
        elif rng.random() < 0.4:
            pool = [c[0] for c in champions]
        else:
            pool = [s[0] for s in seeds]
        choices = [c for c in pool if joined[c] < at - timedelta(hours=1)]
        if not choices:
            continue
        rows.append((rng.choice(choices), pk, phone, at))
        earlier_invitees.append(pk)
    first_completed = {
        row["customer_id"]: row["first"]
        for row in Order.objects.filter(
            customer_id__in=[r[1] for r in rows], status=Order.Status.COMPLETED
        )
        .values("customer_id")
        .annotate(first=Min("completed_at"))
    }
    first_order = dict(
        Order.objects.filter(
            customer_id__in=list(first_completed),
            status=Order.Status.COMPLETED,
        )
        .order_by("-completed_at")
        .values_list("customer_id", "pk")
    )
    codes = _codes({r[0] for r in rows})
    now = clock.now()
    made: list[Referral] = []
    for inviter, invitee, phone, at in rows:
        completed = first_completed.get(invitee)
        blocked = rng.random() < BLOCKED_SHARE
        referral = Referral(
            merchant=ctx.merchant,
            inviter_id=inviter,
            invitee_id=invitee,
            code=codes[inviter],
            source=Referral.Source.LINK if rng.random() < 0.85 else Referral.Source.CODE,
            invitee_phone=phone,
            tapped_at=at - timedelta(minutes=rng.randint(1, 600)),
            created_at=at,
        )
        if blocked:
            reason, detail = rng.choice(BLOCK_REASONS)
            referral.status = Referral.Status.BLOCKED
            referral.block_reason = reason
            referral.block_detail = detail
            referral.blocked_at = completed if reason == rules.SAME_ADDRESS and completed else at
            if reason == rules.SAME_ADDRESS and not completed:
                referral.block_reason, referral.block_detail = rules.SAME_DEVICE, "inviter"
        elif completed is not None and completed > at and completed <= now:
            referral.status = Referral.Status.REWARDED
            referral.qualified_at = completed
            referral.rewarded_at = completed
            referral.qualifying_order_id = first_order.get(invitee)
        else:
            referral.status = Referral.Status.REGISTERED
        made.append(referral)
    # blocked friends are not inviters: drop referrals whose inviter was blocked
    blocked_people = {r.invitee_id for r in made if r.status == Referral.Status.BLOCKED}
    made = [r for r in made if r.inviter_id not in blocked_people]
    Referral.objects.bulk_create(made, batch_size=500)
    return list(Referral.objects.select_related("inviter", "invitee").order_by("created_at"))


def _codes(inviters: set[int]) -> dict[int, str]:
    """An invite code for every inviter (the demo's customers have none yet)."""
    taken = set(InviteCode.objects.values_list("code", flat=True))
    merchant = current_merchant()
    rows = []
    for pk in sorted(inviters):
        code = ids.short_code(CODE_LENGTH)
        while code in taken:
            code = ids.short_code(CODE_LENGTH)
        taken.add(code)
        rows.append(InviteCode(merchant=merchant, customer_id=pk, code=code))
    InviteCode.objects.bulk_create(rows, batch_size=500)
    return {row.customer_id: row.code for row in rows}


def _rewards(current: Any, made: list[Referral]) -> None:
    """The rewards through the real services, then dated with their referral."""
    dated: list[ReferralReward] = []
    unpaid: list[int] = []
    for referral in made:
        if referral.status == Referral.Status.BLOCKED:
            continue
        reward = services.give_reward(referral, ReferralReward.Side.INVITEE, current)
        if reward is not None:
            reward.created_at = referral.created_at
            dated.append(reward)
        if referral.status == Referral.Status.REWARDED:
            reward = services.give_reward(referral, ReferralReward.Side.INVITER, current)
            if reward is not None:
                reward.created_at = referral.rewarded_at or referral.created_at
                dated.append(reward)
                if reward.status == ReferralReward.Status.FAILED:
                    unpaid.append(referral.pk)
    ReferralReward.objects.bulk_update(dated, ["created_at"], batch_size=500)
    # an inviter reward that could not be given leaves the referral qualified, as in real life
    Referral.objects.filter(pk__in=unpaid).update(
        status=Referral.Status.QUALIFIED, rewarded_at=None
    )
