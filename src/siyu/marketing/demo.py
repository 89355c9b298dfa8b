"""Demo targeted messages: the messaging policy, three past messages with their delivery logs
and funnels, and one scheduled for tomorrow.

Runs after the orders (customers, tags, segments, orders), the community (store groups) and
the guides. The past messages are written as a send would have left them, in bulk and with
their times in the past (fast at 20,000 customers):

* a group post in the groups of the store with the most members (two weeks ago, 10:00);
* 1:1 messages to a tag's customers (six days ago, 11:30);
* 1:1 messages to a segment (the same day, 15:00: customers who already received the morning
  message are skipped as capped, one message a day being the policy).

Skip reasons follow :mod:`siyu.marketing.policy` (blocked, refused the channel, capped). A
share of the customers reached read the message (their read mark in the conversation), some
tapped its card (a :class:`Touch` and ``clicked_at``), and the orders they placed within two
days afterwards are linked (``Delivery.order_id``; the orders themselves are not changed).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any

from django.db import connection, transaction

from siyu.core import clock
from siyu.core.demo import DemoContext, insert_rows
from siyu.core.tenancy import merchant_context
from siyu.marketing import engine, policy, services
from siyu.marketing.models import Broadcast, Delivery, Touch

STEPS = 5
QUIET = (time(21, 30), time(8, 30))
READ_SHARE = {"inbox": 0.55, "group_post": 0.4}
CLICK_SHARE = 0.18  # of the readers
ORDER_WINDOW = timedelta(hours=48)
ORDER_KEEP = 0.7
DELIVERY_COLUMNS = (
    "merchant_id",
    "broadcast_id",
    "customer_id",
    "status",
    "skip_reason",
    "is_marketing",
    "sent_at",
    "clicked_at",
    "order_id",
)
TOUCH_COLUMNS = (
    "merchant_id",
    "customer_id",
    "source",
    "group_id",
    "broadcast_id",
    "message_id",
    "touched_at",
)  # of the orders placed in the window, those that came from the message

GROUP_POST = (
    "门店群·春季新品上市",
    "🌸 春日限定樱花拿铁今天上新！群内专享第二杯半价，小程序下单门店自提 5 分钟出餐👇",
)
TAG_MESSAGE = (
    "学生专享·周末第二杯半价",
    "同学你好☕ 本周末凭学生身份下单第二杯半价，点下面卡片直接下单～",
    "学生",
)
SEGMENT_MESSAGE = (
    "沉睡会员回归礼",
    "好久不见！我们为你准备了一张回归券，本周内到店或小程序下单立减 8 元🎁",
)
SCHEDULED = (
    "周三会员日双倍积分提醒",
    "明天是会员日：全天双倍积分，积分可兑换饮品和周边，记得来哦～",
    "拿铁控",
)


def seed(ctx: DemoContext) -> None:
    with merchant_context(ctx.merchant), transaction.atomic():
        services.update_policy(
            ctx.owner, cap_count=1, cap_period="day", quiet_start=QUIET[0], quiet_end=QUIET[1]
        )
        ctx.advance(1)
        products = _products(ctx)
        zone = clock.zone(ctx.merchant.time_zone)
        today = clock.now().astimezone(zone).date()

        def at(days_ago: int, hour: int, minute: int = 0) -> datetime:
            return datetime.combine(today - timedelta(days=days_ago), time(hour, minute), zone)

        store_groups = _busiest_store_groups()
        if store_groups:
            name, text = GROUP_POST
            row = _broadcast(
                ctx,
                name=name,
                text=text,
                cards=_card(products, 0),
                audience=Broadcast.Audience.GROUPS,
                group_ids=store_groups,
                delivery=Broadcast.Delivery.GROUP_POST,
            )
            _write(ctx, row, at(14, 10))
        ctx.advance(1)
        tags = ctx.shared.get("tags") or {}
        tag = tags.get(TAG_MESSAGE[2]) or _any_tag()
        if tag is not None:
            row = _broadcast(
                ctx,
                name=TAG_MESSAGE[0],
                text=TAG_MESSAGE[1],
                cards=_card(products, 1),
                audience=Broadcast.Audience.TAG,
                tag=tag,
                delivery=Broadcast.Delivery.INBOX,
            )
            _write(ctx, row, at(6, 11, 30))
        ctx.advance(1)
        segment = _segment()
        if segment is not None:
            row = _broadcast(
                ctx,
                name=SEGMENT_MESSAGE[0],
                text=SEGMENT_MESSAGE[1],
                cards=_card(products, 2) + _store_card(),
                audience=Broadcast.Audience.SEGMENT,
                segment=segment,
                delivery=Broadcast.Delivery.INBOX,
            )
            _write(ctx, row, at(6, 15))
        ctx.advance(1)
        later = tags.get(SCHEDULED[2]) or _any_tag()
        if later is not None:
            services.create_broadcast(
                ctx.owner,
                {
                    "name": SCHEDULED[0],
                    "text": SCHEDULED[1],
                    "cards": _card(products, 3),
                    "audience": Broadcast.Audience.TAG,
                    "tag_id": later.pk,
                    "delivery": Broadcast.Delivery.INBOX,
                    "is_marketing": True,
                    "scheduled_at": at(-1, 10),
                },
            )
        ctx.advance(1)


# --- choices ---------------------------------------------------------------------------


def _products(ctx: DemoContext) -> list[Any]:
    found = [p for p in ctx.shared.get("products") or [] if getattr(p, "status", "") == "on_sale"]
    if found:
        return found
    from siyu.catalog.models import Product

    return list(Product.objects.filter(status=Product.Status.ON_SALE).order_by("pk")[:10])


def _card(products: Sequence[Any], index: int) -> list[dict[str, Any]]:
    if not products:
        return []
    return [{"type": "product", "id": products[index % len(products)].pk}]


def _store_card() -> list[dict[str, Any]]:
    from siyu.stores.models import Store

    store = Store.objects.exclude(status=Store.Status.CLOSED).order_by("code", "pk").first()
    return [{"type": "store", "id": store.pk}] if store else []


def _busiest_store_groups() -> list[int]:
    """The active groups of the store whose groups have the most members."""
    from django.db.models import Sum

    from siyu.community.models import CommunityGroup

    active = CommunityGroup.objects.filter(status=CommunityGroup.Status.ACTIVE)
    top = (
        active.filter(store__isnull=False)
        .values("store_id")
        .annotate(member_total=Sum("member_count"))
        .order_by("-member_total", "store_id")
        .first()
    )
    rows = active.filter(store_id=top["store_id"]) if top else active.filter(member_count__gt=0)
    return list(rows.order_by("pk").values_list("pk", flat=True)[:10])


def _any_tag() -> Any:
    from siyu.customers.models import Tag

    return Tag.objects.filter(customer_count__gt=0).order_by("customer_count", "pk").first()


def _segment() -> Any:
    from siyu.customers.models import Segment

    rows = Segment.objects.order_by("pk")
    return rows.filter(name="沉睡高价值").first() or rows.first()


# --- writing a past send -----------------------------------------------------------------


def _broadcast(ctx: DemoContext, **fields: Any) -> Broadcast:
    return Broadcast.objects.create(
        merchant=ctx.merchant,
        is_marketing=True,
        status=Broadcast.Status.SENT,
        created_by=ctx.owner.label[:150],
        **fields,
    )


def _reasons(row: Broadcast, ids: list[int], sent_at: datetime, cap: int) -> dict[int, str]:
    """customer id → skip reason ('' = sent), by the policy's precedence."""
    from django.db.models import Count

    from siyu.customers.models import Consent, Customer

    blocked = set(
        Customer.objects.filter(pk__in=ids, status=Customer.Status.BLOCKED).values_list(
            "pk", flat=True
        )
    )
    reasons = dict.fromkeys(ids, "")
    for pk in blocked:
        reasons[pk] = policy.BLOCKED
    if row.delivery == Broadcast.Delivery.GROUP_POST:
        return reasons  # every member sees a group post
    refused = set(
        Consent.objects.filter(
            customer_id__in=ids, channel=Consent.Channel.INBOX, status=Consent.Status.REFUSED
        ).values_list("customer_id", flat=True)
    )
    zone = clock.zone(row.merchant.time_zone)
    start = policy.period_start(sent_at, policy.DAY, zone)
    earlier = dict(
        Delivery.objects.filter(
            customer_id__in=ids,
            status=Delivery.Status.SENT,
            is_marketing=True,
            sent_at__gte=start,
            sent_at__lt=sent_at,
        )
        .values_list("customer_id")
        .annotate(n=Count("id"))
        .values_list("customer_id", "n")
    )
    for pk in ids:
        if reasons[pk]:
            continue
        if pk in refused:
            reasons[pk] = policy.OPTED_OUT
        elif earlier.get(pk, 0) >= cap:
            reasons[pk] = policy.CAPPED
    return reasons


def _write(ctx: DemoContext, row: Broadcast, sent_at: datetime) -> None:
    """The delivery log, messages, read marks, taps and linked orders of ``row`` as if it had
    been sent at ``sent_at``: decided in memory first, then each table written once."""
    ids = list(engine.audience(row).order_by("pk").values_list("pk", flat=True))
    reasons = _reasons(row, ids, sent_at, services.messaging_policy(ctx.merchant.pk).cap_count)
    sent = [pk for pk in ids if not reasons[pk]]
    messages, groups = _post(row, sent, sent_at)
    reached = [pk for pk in sent if pk in messages]
    placed = _orders_after(ctx, reached, sent_at)
    rng = ctx.rng
    share = READ_SHARE.get(row.delivery, 0.5)
    readers = {pk for pk in reached if pk in placed or rng.random() < share}
    clicks: dict[int, datetime] = {}
    for pk in reached:
        if pk in placed:
            placed_at = placed[pk][1]
            gap = max(60, int((placed_at - sent_at).total_seconds()))
            clicks[pk] = placed_at - timedelta(seconds=rng.randint(30, min(gap, 1800)))
        elif pk in readers and rng.random() < CLICK_SHARE:
            clicks[pk] = sent_at + timedelta(minutes=rng.randint(1, 600))
    when = _db_time(sent_at)
    insert_rows(
        Delivery,
        DELIVERY_COLUMNS,
        [
            (
                ctx.merchant.pk,
                row.pk,
                pk,
                Delivery.Status.SKIPPED.value if reasons[pk] else Delivery.Status.SENT.value,
                reasons[pk],
                row.is_marketing,
                None if reasons[pk] else when,
                _db_time(clicks[pk]) if pk in clicks else None,
                placed[pk][0] if pk in placed else None,
            )
            for pk in ids
        ],
    )
    _mark_read(ctx, {pk: messages[pk] for pk in readers})
    insert_rows(
        Touch,
        TOUCH_COLUMNS,
        [
            (
                ctx.merchant.pk,
                pk,
                Touch.Source.BROADCAST.value,
                groups.get(pk),
                row.pk,
                messages[pk][1],
                _db_time(clicked),
            )
            for pk, clicked in clicks.items()
        ],
    )
    Broadcast.objects.filter(pk=row.pk).update(
        targeted_count=len(ids),
        sent_count=len(sent),
        skipped_count=len(ids) - len(sent),
        progress=len(ids),
        created_at=sent_at - timedelta(hours=20),
        started_at=sent_at,
        finished_at=sent_at + timedelta(seconds=2 + len(ids) // 2000),
    )


def _post(
    row: Broadcast, sent: list[int], sent_at: datetime
) -> tuple[dict[int, tuple[int, int]], dict[int, int]]:
    """Post the message (once per group, or in each inbox) at ``sent_at``: customer id →
    (conversation id, message id), and customer id → group id for group posts."""
    from siyu.community import services as community
    from siyu.community.bulk import post_inbox_bulk
    from siyu.community.models import CommunityGroup, Conversation, GroupMember, Message

    messages: dict[int, tuple[int, int]] = {}
    groups: dict[int, int] = {}
    parts = engine.message_parts(row)
    if row.delivery == Broadcast.Delivery.GROUP_POST:
        posted: dict[int, tuple[int, int]] = {}  # group id → (conversation id, message id)
        for group in CommunityGroup.objects.filter(pk__in=row.group_ids).order_by("pk"):
            conversation = community.group_conversation(group)
            last = None
            for text, card in parts:
                last = community.post_message(
                    conversation, text=text, card=card, system=True, broadcast_id=row.pk, at=sent_at
                )
            if last is not None:
                posted[group.pk] = (conversation.pk, last.pk)
        members = GroupMember.objects.filter(
            group_id__in=row.group_ids, left_at__isnull=True, customer_id__in=sent
        ).values_list("customer_id", "group_id")
        for customer_id, group_id in members:
            if group_id in posted and customer_id not in groups:
                groups[customer_id] = group_id
                messages[customer_id] = posted[group_id]
        return messages, groups
    if not sent:
        return messages, groups
    for text, card in parts:
        post_inbox_bulk(sent, text=text, card=card, broadcast_id=row.pk, at=sent_at)
    rows = Message.objects.filter(
        broadcast_id=row.pk, conversation__kind=Conversation.Kind.INBOX
    ).values_list("conversation__customer_id", "conversation_id", "id")
    for customer_id, conversation_id, message_id in rows:
        if customer_id is not None:
            messages[customer_id] = max(
                messages.get(customer_id, (0, 0)), (conversation_id, message_id)
            )
    return messages, groups


def _orders_after(
    ctx: DemoContext, reached: list[int], sent_at: datetime
) -> dict[int, tuple[int, datetime]]:
    """customer id → (order id, placed at): the first paid order within two days after the
    message, for most of the customers who placed one (the rest came another way)."""
    from siyu.orders.models import Order

    placed: dict[int, tuple[int, datetime]] = {}
    if not reached:
        return placed
    orders = (
        Order.objects.filter(placed_at__gt=sent_at, placed_at__lte=sent_at + ORDER_WINDOW)
        .exclude(status__in=[Order.Status.PENDING_PAYMENT, Order.Status.CANCELLED])
        .order_by("placed_at", "pk")
        .values_list("customer_id", "pk", "placed_at")
    )
    wanted = set(reached)
    for customer_id, pk, placed_at in orders:
        if customer_id in wanted and customer_id not in placed and ctx.rng.random() < ORDER_KEEP:
            placed[customer_id] = (pk, placed_at)
    return placed


def _mark_read(ctx: DemoContext, reads: dict[int, tuple[int, int]]) -> None:
    """Read marks at the message (customer id → (conversation id, message id)); a mark already
    past it is kept."""
    from siyu.community.models import ReadState

    if not reads:
        return
    existing = ReadState.objects.filter(
        customer_id__in=list(reads), conversation_id__in={c for c, _m in reads.values()}
    ).values_list("pk", "conversation_id", "customer_id", "last_read_message_id")
    stale, keep = [], set()
    for pk, conversation_id, customer_id, last in existing:
        if reads.get(customer_id, (0, 0))[0] != conversation_id:
            continue
        if last >= reads[customer_id][1]:
            keep.add(customer_id)
        else:
            stale.append(pk)
    ReadState.objects.filter(pk__in=stale).delete()
    now = _db_time(clock.now())
    insert_rows(
        ReadState,
        ("merchant_id", "conversation_id", "customer_id", "last_read_message_id", "updated_at"),
        [
            (ctx.merchant.pk, conversation_id, customer_id, message_id, now)
            for customer_id, (conversation_id, message_id) in reads.items()
            if customer_id not in keep
        ],
    )


# --- database values ----------------------------------------------------------------------


def _db_time(moment: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(moment)
