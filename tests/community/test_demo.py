"""The community's demo generator: groups and codes per store, members, scans, chat."""

from __future__ import annotations

import random

import pytest
from django.db.models import Count, Q

from siyu.catalog.testing import make_product
from siyu.community import demo
from siyu.community.models import (
    CommunityGroup,
    Conversation,
    GroupMember,
    JoinCode,
    JoinCodeScan,
    Message,
)
from siyu.core.demo import DemoContext
from siyu.customers.models import Customer
from siyu.customers.testing import make_customer
from siyu.stores import demo as stores_demo
from siyu.stores.models import Store

pytestmark = pytest.mark.django_db


def run(bound, owner, *, customers: int, capacity: int | None = None, monkeypatch=None):
    if capacity is not None:
        monkeypatch.setattr(demo, "CAPACITY", capacity)
    steps: list[int] = []
    ctx = DemoContext(bound, owner, random.Random(3), advance=steps.append)
    stores_demo.seed(ctx)
    ctx.shared["products"] = [make_product(bound, name="Latte", status="on_sale")]
    channels = ["group", "store_qr", "storefront", "guide", ""]
    stores = [s for s in ctx.shared["stores"] if s.status != Store.Status.CLOSED]
    for i in range(customers):  # what the orders' demo writes, with home stores
        customer = make_customer(bound, join_channel=channels[i % len(channels)])
        if i % 7:
            Customer.objects.filter(pk=customer.pk).update(home_store=stores[i % len(stores)])
    demo.seed(ctx)
    return ctx, steps


def test_demo_builds_groups_codes_members_scans_and_chat(bound, owner):
    ctx, steps = run(bound, owner, customers=300)
    assert sum(steps) == stores_demo.STEPS + demo.STEPS
    open_stores = Store.objects.exclude(status=Store.Status.CLOSED)
    for store in open_stores:
        assert 1 <= CommunityGroup.objects.filter(store=store).count() <= 2
        assert JoinCode.objects.filter(store=store, state="store_door").count() == 1
        assert JoinCode.objects.filter(store=store, state="table_card").count() == 1
    assert JoinCode.objects.filter(kind="store_finder", state="parcel_insert").count() == 1
    assert JoinCode.objects.filter(kind="guide", state="guide_card").count() == 2
    # owners: the store's guide or manager
    assert not CommunityGroup.objects.filter(owner__isnull=True).exists()
    # about half the customers joined; counters agree with the rows
    members = GroupMember.objects.count()
    assert 0.3 * 300 < members < 0.7 * 300
    for group in CommunityGroup.objects.annotate(
        active=Count("members", filter=Q(members__left_at__isnull=True))
    ):
        assert group.member_count == group.active <= group.capacity
    for member in GroupMember.objects.select_related("customer"):
        assert member.joined_at >= member.customer.created_at
        assert member.source_code_id is not None
        assert member.state in {"store_door", "table_card", "parcel_insert"}
    assert not Customer.objects.filter(
        pk__in=GroupMember.objects.values("customer_id"), join_channel=""
    ).exists()
    for code in JoinCode.objects.all():
        scans = JoinCodeScan.objects.filter(code=code)
        assert code.scan_count == scans.count()
        assert code.join_count == scans.filter(outcome="joined").count()
    assert JoinCodeScan.objects.filter(outcome="joined").count() == members
    assert JoinCodeScan.objects.filter(outcome="visited").exists()
    # chat: a staff post with a product card, welcomes and replies in every group
    for conversation in Conversation.objects.filter(kind="group"):
        chat = Message.objects.filter(conversation=conversation)
        assert chat.filter(sender_kind="staff", card__type="product").count() == 1
        assert conversation.last_message_id == chat.order_by("-id").first().pk
    assert Message.objects.filter(sender_kind="system").exists()
    assert Message.objects.filter(sender_kind="customer").exists()
    shared = ctx.shared["community_members"]
    assert set(shared) == set(GroupMember.objects.values_list("customer_id", flat=True))


def test_full_groups_open_the_next_one_as_the_door_code_would(bound, owner, monkeypatch):
    run(bound, owner, customers=200, capacity=5, monkeypatch=monkeypatch)
    assert not CommunityGroup.objects.filter(member_count__gt=5).exists()
    opened = CommunityGroup.objects.filter(opened_by_code__isnull=False)
    assert opened.exists()
    for group in opened:
        assert group.opened_by_code.state == "store_door"
        assert group.routes.filter(code=group.opened_by_code).exists()
