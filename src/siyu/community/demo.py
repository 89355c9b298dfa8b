"""Demo community: store groups, join codes (活码), auto-replies, members, scans and chat history.

Runs after the orders' demo, which writes the customers with their join channel and time
(the guides' and marketing's demos come after). Per open store 1–2 groups (capacity 500)
owned by the store's guide (or manager); a door-poster code (``store_door``, opening a new
group when all are full) and a table-card code (``table_card``) per store; one brand-wide
store-finder code (``parcel_insert``); a personal code per guide (``guide_card``);
brand-wide auto-replies. The customers the orders' behavioural model simulated sit in their
home store's groups exactly as it decided (``ctx.shared["group_joins"]``: who joined and when;
their purchase rate rose from that moment, so analytics finds the uplift in the data); any
other customer without a membership (the named demo customers, or every customer when the
orders' demo did not run) joins by chance as before: most of those who came through a group
or a store's QR code, at a time drawn here. A store whose groups are full opens the next one,
as the door code would. The scans that brought them (plus visits without login and repeat scans), the codes'
counters, the customers' ``join_channel`` where empty, "joined" timeline entries, and a
little chat per group (the staff's post with a product card, welcome messages of the latest
members, customers' replies) complete it.

Everything is written in bulk. Leaves ``ctx.shared["community_members"]``:
``{customer_id: (group_id, joined_at)}`` (every customer who joined, with their first group).
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Q

from siyu.community import cards
from siyu.community.models import (
    AutoReply,
    CommunityGroup,
    Conversation,
    GroupMember,
    JoinCode,
    JoinCodeGroup,
    JoinCodeScan,
    Message,
)
from siyu.core import clock
from siyu.core.demo import DemoContext, insert_rows
from siyu.core.models import Membership
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.customers import phones, timeline
from siyu.customers.models import Customer
from siyu.stores.models import Store, StoreStaff

STEPS = 4
CAPACITY = 500
BATCH = 2000
# Share of customers who join a group, by the channel they came through.
JOIN_SHARE = {"group": 0.9, "store_qr": 0.6}
OTHER_JOIN_SHARE = 0.2
LEFT_SHARE = 0.06  # of members later left
VISIT_SHARE = 0.15  # visits without login, per join
RESCAN_SHARE = 0.05  # members who scanned again later ("already a member")
TIMELINE_DAYS = timedelta(days=30)  # members of these last days get a timeline entry
WELCOMES_SHOWN = 5  # welcome messages kept per group (the latest members)
ANNOUNCEMENT = "📢 本群每周三会员日双倍积分，群内专享券每天 10 点发放；请勿发布广告，谢谢配合～"
WELCOME = "这里是门店福利群：新品、优惠券和到店自提提醒都会第一时间发在群里☕"
BANNED = ["代购", "加微信", "刷单", "兼职"]
STAFF_POSTS = (
    "新品上架！今天下单立减 3 元，门店自提 5 分钟出餐👇",
    "本周会员日福利：这款第二杯半价，小程序下单即可👇",
)
CUSTOMER_REPLIES = (
    "收到！",
    "今天有燕麦拿铁吗？",
    "昨天买的很好喝👍",
    "自提要等多久呀",
    "求周末优惠券🙏",
    "门店几点开门？",
    "已下单～",
    "冰的少冰可以吗",
)
AUTO_REPLIES = (
    (
        "营业时间",
        "contains",
        "门店营业时间在小程序「门店」页可以查看，大部分门店 7:30–22:00 营业～",
    ),
    ("优惠券", "contains", "群内专享券每天 10 点发放，记得在小程序「我的-优惠券」查看哦🎁"),
    ("会员", "contains", "每周三会员日双倍积分，积分可兑换饮品和周边～"),
)


@dataclass
class Plan:
    """What the steps share: groups per store and the codes."""

    groups: dict[int, list[CommunityGroup]] = field(default_factory=dict)  # store id → groups
    door: dict[int, JoinCode] = field(default_factory=dict)  # store id → door-poster code
    table: dict[int, JoinCode] = field(default_factory=dict)
    finder: JoinCode | None = None
    guide_codes: dict[int, JoinCode] = field(default_factory=dict)  # membership id → code
    stores: list[Store] = field(default_factory=list)


# --- groups, codes, auto-replies ------------------------------------------


def seed(ctx: DemoContext) -> None:
    with merchant_context(ctx.merchant), transaction.atomic():
        plan = _setup(ctx)
        ctx.advance(1)
        ctx.shared["community_members"] = {}
        populate(ctx, plan)
        ctx.advance(2)
        _chat(ctx, plan, clock.now())
        ctx.advance(1)


def _store_staff(stores: list[Store]) -> dict[int, Membership]:
    """The owner of each store's groups: its shopping guide, else its manager."""
    rank: dict[str, int] = {Role.SHOPPING_GUIDE.value: 0, Role.STORE_MANAGER.value: 1}
    best: dict[int, tuple[int, Membership]] = {}
    rows = StoreStaff.objects.filter(
        store__in=stores, membership__is_active=True, membership__role__in=list(rank)
    ).select_related("membership__user")
    for row in rows.order_by("pk"):
        r = rank[row.membership.role]
        if row.store_id not in best or r < best[row.store_id][0]:
            best[row.store_id] = (r, row.membership)
    return {store_id: m for store_id, (_r, m) in best.items()}


def _product_card(ctx: DemoContext, group: CommunityGroup) -> dict[str, Any] | None:
    products = [
        p for p in ctx.shared.get("products") or [] if getattr(p, "status", "") == "on_sale"
    ]
    if not products:
        return None
    product = ctx.rng.choice(products)
    via = cards.Via("group", group_id=group.pk, guide_id=group.owner_id)
    return cards.product_card(product, via=via)


def _setup(ctx: DemoContext) -> Plan:
    merchant = ctx.merchant
    rng = ctx.rng
    now = clock.now()
    plan = Plan()
    stores = list(ctx.shared.get("stores") or Store.objects.order_by("code"))
    plan.stores = [s for s in stores if s.status != Store.Status.CLOSED]
    owners = _store_staff(plan.stores)
    products = [p for p in ctx.shared.get("products") or [] if p.status == "on_sale"]
    welcome: dict[str, Any] = {"text": WELCOME}
    if products:
        welcome["card"] = {"type": "product", "id": products[0].pk}
    created = now - timedelta(days=360)
    planned = [join[0] for join in (ctx.shared.get("group_joins") or {}).values() if join]
    if planned:  # the groups existed before their first planned member joined
        created = min(created, min(planned) - timedelta(hours=1))
    groups = []
    for store in plan.stores:
        for number in range(1, rng.choice((1, 2, 2)) + 1):
            groups.append(
                CommunityGroup(
                    merchant=merchant,
                    name=_group_name(store, number),
                    store=store,
                    owner=owners.get(store.pk, ctx.owner.membership),
                    capacity=CAPACITY,
                    announcement=ANNOUNCEMENT,
                    welcome=welcome,
                    banned_words=BANNED,
                )
            )
    CommunityGroup.objects.bulk_create(groups)
    CommunityGroup.objects.filter(pk__in=[g.pk for g in groups]).update(created_at=created)
    Conversation.objects.bulk_create(
        Conversation(merchant=merchant, kind=Conversation.Kind.GROUP, group=g) for g in groups
    )
    for group in groups:
        assert group.store_id is not None
        plan.groups.setdefault(group.store_id, []).append(group)

    codes: list[JoinCode] = []
    for store in plan.stores:
        plan.door[store.pk] = JoinCode(
            merchant=merchant,
            kind=JoinCode.Kind.GROUPS,
            name=f"{store.name} 门口海报",
            token=secrets.token_urlsafe(6),
            state="store_door",
            store=store,
            auto_create=True,
            base_name=f"{store.name}福利群",
            new_group_capacity=CAPACITY,
            poster_message="扫码进群 领新人券",
        )
        plan.table[store.pk] = JoinCode(
            merchant=merchant,
            kind=JoinCode.Kind.GROUPS,
            name=f"{store.name} 桌贴",
            token=secrets.token_urlsafe(6),
            state="table_card",
            store=store,
            poster_message="扫码进群 每周三会员日",
        )
        codes += [plan.door[store.pk], plan.table[store.pk]]
    plan.finder = JoinCode(
        merchant=merchant,
        kind=JoinCode.Kind.STORE_FINDER,
        name="包裹卡 · 附近门店群",
        token=secrets.token_urlsafe(6),
        state="parcel_insert",
        auto_create=True,
        new_group_capacity=CAPACITY,
        poster_message="扫码加入离你最近的门店福利群",
    )
    codes.append(plan.finder)
    guides = Membership.objects.filter(
        merchant=merchant, role=Role.SHOPPING_GUIDE, is_active=True
    ).select_related("user")
    for guide in guides.order_by("pk"):
        plan.guide_codes[guide.pk] = JoinCode(
            merchant=merchant,
            kind=JoinCode.Kind.GUIDE,
            name=f"{guide.user} 的专属码",
            token=secrets.token_urlsafe(6),
            state="guide_card",
            guide=guide,
            poster_message="扫码添加你的专属导购",
        )
        codes.append(plan.guide_codes[guide.pk])
    JoinCode.objects.bulk_create(codes)
    JoinCode.objects.filter(pk__in=[c.pk for c in codes]).update(created_at=created)
    JoinCodeGroup.objects.bulk_create(
        JoinCodeGroup(merchant=merchant, code=code[store_id], group=group, position=i)
        for code in (plan.door, plan.table)
        for store_id, store_groups in plan.groups.items()
        for i, group in enumerate(store_groups, start=1)
    )
    AutoReply.objects.bulk_create(
        AutoReply(merchant=merchant, keyword=k, match=m, reply={"text": t})
        for k, m, t in AUTO_REPLIES
    )
    return plan


def _group_name(store: Store, number: int) -> str:
    base = f"{store.name}福利群"
    return (base if number <= 1 else f"{base} {number}")[:60]


def _touch_conversations(conversation_ids: list[int]) -> None:
    """``last_message_id``/``last_message_at`` from the messages (one query per conversation)."""
    latest = (
        Message.objects.filter(conversation_id__in=set(conversation_ids))
        .order_by("conversation_id", "-created_at", "-id")
        .values_list("conversation_id", "id", "created_at")
    )
    seen: set[int] = set()
    for conversation_id, message_id, at in latest:
        if conversation_id in seen:
            continue
        seen.add(conversation_id)
        Conversation.objects.filter(pk=conversation_id).update(
            last_message_id=message_id, last_message_at=at
        )


MEMBER_COLUMNS = (
    "merchant_id",
    "group_id",
    "customer_id",
    "source_code_id",
    "state",
    "joined_at",
    "left_at",
    "leave_reason",
    "muted_until",
    "welcomed_at",
)
SCAN_COLUMNS = ("merchant_id", "code_id", "customer_id", "group_id", "outcome", "scanned_at")


# --- members, scans, chat ---------------------------------------------------------


@dataclass(slots=True)
class Seat:
    """One membership to write (plain values: no model instances for tens of thousands)."""

    customer_id: int
    joined_at: datetime
    code: JoinCode
    store_id: int
    group: CommunityGroup | None = None
    left_at: datetime | None = None
    muted_until: datetime | None = None


def _join_time(ctx: DemoContext, channel: str, created: datetime, now: datetime) -> datetime:
    room = max(0.0, (now - created).total_seconds() - 3600)
    if channel == "group":  # joined on their first visit
        offset = ctx.rng.uniform(60, 1800)
    else:
        offset = ctx.rng.expovariate(1 / (20 * 86400))
    return created + timedelta(seconds=min(offset, room))


def populate(ctx: DemoContext, plan: Plan) -> None:
    """Seat the customers without a membership yet in their home store's groups: those the
    orders' model simulated as it planned (``ctx.shared["group_joins"]``), any other by chance.
    """
    rng = ctx.rng
    now = clock.now()
    if not plan.groups:
        return
    store_ids = sorted(plan.groups)
    planned: dict[int, tuple[datetime, int] | None] = ctx.shared.get("group_joins") or {}
    members_before = set(GroupMember.objects.values_list("customer_id", flat=True))
    seats: list[Seat] = []
    rows = Customer.objects.order_by("pk").values_list(
        "pk", "join_channel", "home_store_id", "created_at"
    )
    for pk, channel, home, created in rows.iterator(chunk_size=BATCH):
        if pk in members_before:
            continue
        if pk in planned:
            join = planned[pk]
            if join is None:  # simulated, never joined: their purchases say so
                continue
            joined_at, near = join
            if home not in plan.groups:  # no orders (or a closed store): the model's nearest
                home = near
        elif rng.random() < JOIN_SHARE.get(channel, OTHER_JOIN_SHARE):
            joined_at = _join_time(ctx, channel, created, now)
        else:
            continue
        store_id = home if home in plan.groups else rng.choice(store_ids)
        if channel in JOIN_SHARE or plan.finder is None:
            code = plan.door[store_id] if rng.random() < 0.6 else plan.table[store_id]
        else:
            code = plan.finder
        seats.append(Seat(pk, joined_at, code, store_id))
    seats.sort(key=lambda seat: seat.joined_at)
    _seat(ctx, plan, seats, now)
    _scans(ctx, plan, seats, now)
    channels: dict[str, list[int]] = defaultdict(list)
    for seat in seats:
        channels[seat.code.state].append(seat.customer_id)
    for state, ids in channels.items():
        for start in range(0, len(ids), BATCH):
            Customer.objects.filter(pk__in=ids[start : start + BATCH], join_channel="").update(
                join_channel=state
            )
    shared = ctx.shared.setdefault("community_members", {})
    for seat in seats:
        assert seat.group is not None
        shared.setdefault(seat.customer_id, (seat.group.pk, seat.joined_at))


def _seat(ctx: DemoContext, plan: Plan, seats: list[Seat], now: datetime) -> None:
    """Members in join order; a store's groups fill in order, a new one opens when all are full."""
    rng = ctx.rng
    counts = dict(
        GroupMember.objects.filter(left_at__isnull=True)
        .values("group_id")
        .annotate(n=Count("pk"))
        .values_list("group_id", "n")
    )
    rows = []
    for seat in seats:
        groups = plan.groups[seat.store_id]
        group = next((g for g in groups if counts.get(g.pk, 0) < g.capacity), None)
        if group is None:
            group = _open_group(ctx, plan, seat.store_id, len(groups) + 1, seat.joined_at)
        seat.group = group
        counts[group.pk] = counts.get(group.pk, 0) + 1
        if rng.random() < LEFT_SHARE:
            left = seat.joined_at + timedelta(days=rng.uniform(1, 90))
            if left < now:
                seat.left_at = left
                counts[group.pk] -= 1
        elif rng.random() < 0.003:
            seat.muted_until = now + timedelta(hours=rng.randint(2, 20))
        rows.append(
            (
                ctx.merchant.pk,
                group.pk,
                seat.customer_id,
                seat.code.pk,
                seat.code.state,
                seat.joined_at,
                seat.left_at,
                GroupMember.LeaveReason.LEFT.value if seat.left_at else "",
                seat.muted_until,
                seat.joined_at,
            )
        )
    insert_rows(GroupMember, MEMBER_COLUMNS, rows)
    groups = [g for store_groups in plan.groups.values() for g in store_groups]
    for group in groups:
        group.member_count = counts.get(group.pk, 0)
    CommunityGroup.objects.bulk_update(groups, ["member_count"])
    _timeline(seats, now)


def _open_group(
    ctx: DemoContext, plan: Plan, store_id: int, number: int, at: datetime
) -> CommunityGroup:
    """What the door code's auto_create does: the next group of the store's series."""
    groups = plan.groups[store_id]
    first = groups[0]
    code = plan.door[store_id]
    assert first.store is not None
    group = CommunityGroup.objects.create(
        merchant=ctx.merchant,
        name=_group_name(first.store, number),
        store_id=store_id,
        owner_id=first.owner_id,
        capacity=code.new_group_capacity,
        announcement=first.announcement,
        welcome=first.welcome,
        banned_words=first.banned_words,
        opened_by_code=code,
    )
    CommunityGroup.objects.filter(pk=group.pk).update(created_at=at)
    Conversation.objects.create(merchant=ctx.merchant, kind=Conversation.Kind.GROUP, group=group)
    JoinCodeGroup.objects.create(merchant=ctx.merchant, code=code, group=group, position=number)
    groups.append(group)
    return group


def _timeline(seats: list[Seat], now: datetime) -> None:
    """A "joined" entry for the members of the last weeks (timelines are pruned by age),
    written per day (at the day's first join time)."""
    since = now - TIMELINE_DAYS
    by_day: dict[Any, list[Seat]] = defaultdict(list)
    for seat in seats:
        if seat.joined_at >= since:
            by_day[seat.joined_at.date()].append(seat)
    for day in by_day.values():
        timeline.record_many(
            [
                (
                    seat.customer_id,
                    "joined",
                    {
                        "group_id": seat.group.pk,
                        "group_name": seat.group.name,
                        "state": seat.code.state,
                    },
                )
                for seat in day
                if seat.group is not None
            ],
            at=day[0].joined_at,
        )


def _scans(ctx: DemoContext, plan: Plan, seats: list[Seat], now: datetime) -> None:
    rng = ctx.rng
    merchant_id = ctx.merchant.pk
    joined, visited, member = (
        JoinCodeScan.Outcome.JOINED.value,
        JoinCodeScan.Outcome.VISITED.value,
        JoinCodeScan.Outcome.ALREADY_MEMBER.value,
    )
    rows: list[tuple[Any, ...]] = []
    for seat in seats:
        assert seat.group is not None
        code_id, group_id = seat.code.pk, seat.group.pk
        rows.append((merchant_id, code_id, seat.customer_id, group_id, joined, seat.joined_at))
        if rng.random() < VISIT_SHARE:  # opened the link before logging in
            before = seat.joined_at - timedelta(seconds=rng.randint(20, 300))
            rows.append((merchant_id, code_id, None, None, visited, before))
        if seat.left_at is None and rng.random() < RESCAN_SHARE:
            later = seat.joined_at + timedelta(days=rng.uniform(1, 60))
            if later < now:
                rows.append((merchant_id, code_id, seat.customer_id, group_id, member, later))
    # guides' personal codes: the customers bound to a guide scanned their card
    bound = Customer.objects.filter(
        owner_guide_id__in=list(plan.guide_codes), owner_since__isnull=False
    ).values_list("pk", "owner_guide_id", "owner_since")
    done = set(
        JoinCodeScan.objects.filter(outcome=JoinCodeScan.Outcome.BOUND).values_list(
            "customer_id", flat=True
        )
    )
    for pk, guide_id, since in bound:
        if pk not in done:
            code_id = plan.guide_codes[guide_id].pk
            rows.append((merchant_id, code_id, pk, None, JoinCodeScan.Outcome.BOUND.value, since))
    insert_rows(JoinCodeScan, SCAN_COLUMNS, rows)
    counts = JoinCodeScan.objects.values("code_id").annotate(
        scans=Count("pk"), joins=Count("pk", filter=Q(outcome=JoinCodeScan.Outcome.JOINED))
    )
    by_code = {row["code_id"]: row for row in counts}
    codes = list(JoinCode.objects.filter(pk__in=list(by_code)))
    for code in codes:
        code.scan_count = by_code[code.pk]["scans"]
        code.join_count = by_code[code.pk]["joins"]
    JoinCode.objects.bulk_update(codes, ["scan_count", "join_count"])


def _chat(ctx: DemoContext, plan: Plan, now: datetime) -> None:
    """Per group: the staff's post with a product card, welcome messages of the latest members
    and a few replies of members, written in time order (message ids follow time)."""
    rng = ctx.rng
    groups = [g for store_groups in plan.groups.values() for g in store_groups]
    conversations = dict(
        Conversation.objects.filter(group__in=groups).values_list("group_id", "pk")
    )
    active: dict[int, list[tuple[int, datetime]]] = defaultdict(list)
    rows = (
        GroupMember.objects.filter(group__in=groups, left_at__isnull=True)
        .order_by("joined_at", "pk")
        .values_list("group_id", "customer_id", "joined_at")
    )
    for group_id, customer_id, joined_at in rows.iterator(chunk_size=BATCH):
        active[group_id].append((customer_id, joined_at))
    shown = [m for members in active.values() for m in members[-WELCOMES_SHOWN:]]
    labels = {
        pk: name or phones.mask(phone)
        for pk, name, phone in Customer.objects.filter(
            pk__in=[customer_id for customer_id, _at in shown]
        ).values_list("pk", "name", "phone")
    }
    messages: list[Message] = []
    for group in groups:
        conversation_id = conversations[group.pk]
        posted = now - timedelta(days=rng.randint(3, 20), hours=rng.randint(0, 8))
        messages.append(
            Message(
                merchant=ctx.merchant,
                conversation_id=conversation_id,
                sender_kind=Message.SenderKind.STAFF,
                sender_staff_id=group.owner_id,
                text=rng.choice(STAFF_POSTS),
                card=_product_card(ctx, group),
                created_at=posted,
            )
        )
        members = active.get(group.pk, [])
        welcome = (group.welcome or {}).get("text", "")
        for customer_id, joined_at in members[-WELCOMES_SHOWN:]:
            label = labels.get(customer_id, "")
            messages.append(
                Message(
                    merchant=ctx.merchant,
                    conversation_id=conversation_id,
                    sender_kind=Message.SenderKind.SYSTEM,
                    text=f"欢迎 @{label} 加入！{welcome}".strip(),
                    created_at=joined_at,
                )
            )
        for customer_id, joined_at in rng.sample(members, k=min(len(members), rng.randint(3, 6))):
            start = max(joined_at, posted)
            if start >= now:
                continue
            messages.append(
                Message(
                    merchant=ctx.merchant,
                    conversation_id=conversation_id,
                    sender_kind=Message.SenderKind.CUSTOMER,
                    sender_customer_id=customer_id,
                    text=rng.choice(CUSTOMER_REPLIES),
                    created_at=start + (now - start) * rng.random(),
                )
            )
    messages.sort(key=lambda m: m.created_at)
    Message.objects.bulk_create(messages, batch_size=BATCH)
    _touch_conversations(list(conversations.values()))
