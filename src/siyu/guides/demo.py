"""Demo data of guides: owners for a share of the customers, a transfer in the history,
materials with pictures, shares, and today's tasks. Bulk writes only (fast at 20,000
customers)."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image, ImageDraw

from siyu.core import clock
from siyu.core.demo import DemoContext, insert_rows
from siyu.core.models import Membership
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.customers import timeline
from siyu.customers.models import Customer
from siyu.guides import followups, services
from siyu.guides.models import Material, MaterialImage, MaterialShare, OwnershipChange, Transfer

STEPS = 4
OWNED_SHARE = 0.35  # of customers have a guide
BUCKETS = 12  # customers bound on 12 different days (one UPDATE per guide and day)
CHANGE_COLUMNS = ("merchant_id", "customer_id", "to_guide_id", "kind", "state", "changed_at")

MATERIALS = [
    (
        "春日樱花拿铁上新",
        "🌸 春日限定樱花拿铁今日上新！粉嫩奶泡配轻盈樱花香，第二杯半价，到店或小程序下单都可以哦～",
        (244, 183, 196),
    ),
    (
        "周末早餐组合",
        "周末睡个懒觉也不怕错过早餐☕ 美式 + 可颂组合仅 ¥19.9，门店自提 5 分钟出餐。",
        (214, 170, 110),
    ),
    (
        "会员日双倍积分",
        "每周三会员日，全场消费双倍积分！积分可兑换饮品和周边，快来看看你的积分吧～",
        (120, 170, 140),
    ),
    (
        "燕麦拿铁回归",
        "大家念念不忘的燕麦拿铁回来啦！0 乳糖更轻盈，私聊我领一张 5 元券🎁",
        (200, 190, 170),
    ),
]


def _picture(color: tuple[int, int, int], label: str) -> bytes:
    image = Image.new("RGB", (480, 480), color)
    draw = ImageDraw.Draw(image)
    draw.ellipse((140, 140, 340, 340), fill=(255, 255, 255))
    draw.text((24, 440), label, fill=(40, 40, 40))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def seed(ctx: DemoContext) -> None:
    with merchant_context(ctx.merchant), transaction.atomic():
        guides = list(
            Membership.objects.filter(
                merchant=ctx.merchant, role=Role.SHOPPING_GUIDE, is_active=True
            )
            .select_related("user")
            .order_by("pk")
        )
        services.guide_settings(ctx.merchant)
        if not guides:
            ctx.advance(STEPS)
            return
        now = clock.now()
        ids = list(Customer.objects.filter(owner_guide__isnull=True).values_list("pk", flat=True))
        chosen = [pk for pk in ids if ctx.rng.random() < OWNED_SHARE]
        changes: list[tuple[int, int, int, str, str, datetime]] = []
        bound = OwnershipChange.Kind.BOUND.value
        rows: list[tuple[int, int, int]] = []  # (bucket, guide index, customer id)
        for pk in chosen:
            rows.append((ctx.rng.randrange(BUCKETS), ctx.rng.randrange(len(guides)), pk))
        for bucket in range(BUCKETS):
            when = now - timedelta(days=bucket * 7 + 1, hours=ctx.rng.randrange(10))
            if bucket == 0:
                when = now - timedelta(hours=3)  # today's new customers
            for index, guide in enumerate(guides):
                group = [pk for b, g, pk in rows if b == bucket and g == index]
                if not group:
                    continue
                Customer.objects.filter(pk__in=group).update(owner_guide=guide, owner_since=when)
                changes += [
                    (ctx.merchant.pk, pk, guide.pk, bound, "guide_card", when) for pk in group
                ]
                timeline.record_many(
                    [
                        (
                            pk,
                            "transferred",
                            {"from_guide": "", "to_guide": str(guide.user), "kind": "bound"},
                        )
                        for pk in group
                    ],
                    actor=str(guide.user),
                    at=when,
                )
        insert_rows(OwnershipChange, CHANGE_COLUMNS, changes)
        ctx.advance(1)
        if len(guides) >= 2:
            _history_transfer(ctx, guides[0], guides[1], now)
        ctx.advance(1)
        _materials(ctx, guides, now)
        ctx.advance(1)
    followups.generate_tasks(ctx.merchant)
    # the history's orders, now that groups and owners exist, attributed as checkout does
    from siyu.orders.demo import attribute_history

    with merchant_context(ctx.merchant), transaction.atomic():
        attribute_history(ctx.merchant.pk)
    ctx.advance(1)


def _history_transfer(
    ctx: DemoContext, from_guide: Membership, to_guide: Membership, now: datetime
) -> None:
    moved = list(
        Customer.objects.filter(owner_guide=to_guide)
        .order_by("pk")
        .values_list("pk", flat=True)[:25]
    )
    if not moved:
        return
    when = now - timedelta(days=20)
    transfer = Transfer.objects.create(
        merchant=ctx.merchant,
        from_guide=from_guide,
        to_guide=to_guide,
        kind=Transfer.Kind.IN_SERVICE,
        reason="门店调整：陆家嘴店客户交由刘洋服务",
        message="您好，我是您的新专属导购，有需要随时找我～",
        customers_moved=len(moved),
        total=len(moved),
        processed=len(moved),
        status=Transfer.Status.DONE,
        created_by=ctx.owner.label,
        created_at=when,
        finished_at=when,
    )
    OwnershipChange.objects.bulk_create(
        OwnershipChange(
            merchant=ctx.merchant,
            customer_id=pk,
            from_guide=from_guide,
            to_guide=to_guide,
            kind=OwnershipChange.Kind.TRANSFER,
            transfer=transfer,
            reason=transfer.reason,
            changed_at=when,
        )
        for pk in moved
    )


def _materials(ctx: DemoContext, guides: list[Membership], now: datetime) -> None:
    for title, text, color in MATERIALS:
        material = Material.objects.create(
            merchant=ctx.merchant, title=title, text=text, created_by=ctx.owner.label
        )
        for position in range(ctx.rng.randint(1, 2)):
            row = MaterialImage(merchant=ctx.merchant, material=material, position=position)
            row.image.save(
                f"demo-{material.pk}-{position}.png",
                ContentFile(_picture(color, title)),
                save=False,
            )
            row.save()
        shares = [
            MaterialShare(
                merchant=ctx.merchant,
                material=material,
                guide=guide,
                shared_on=(now - timedelta(days=day)).date(),
                shared_at=now - timedelta(days=day),
            )
            for guide in guides
            for day in range(1, 8)
            if ctx.rng.random() < 0.4
        ]
        MaterialShare.objects.bulk_create(shares)
        Material.objects.filter(pk=material.pk).update(share_count=len(shares))
