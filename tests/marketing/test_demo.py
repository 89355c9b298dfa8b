"""The marketing demo generator: the policy, past messages with consistent funnels, one
scheduled for tomorrow."""

from __future__ import annotations

import random
from datetime import time, timedelta

import pytest

from siyu.catalog.testing import make_product
from siyu.community.models import Message, ReadState
from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.demo import DemoContext
from siyu.core.permissions import Role
from siyu.core.testing import make_staff
from siyu.customers import segment_services
from siyu.customers.models import Customer
from siyu.customers.testing import make_tag
from siyu.marketing import demo, selectors
from siyu.marketing.models import Broadcast, Delivery, MessagingPolicy, Touch
from siyu.marketing.testing import make_customers, make_group_with, refuse
from siyu.orders.models import Order
from siyu.orders.testing import make_order
from siyu.stores.testing import make_store

pytestmark = pytest.mark.django_db


def test_demo_seeds_the_policy_past_messages_and_a_scheduled_one(bound):
    merchant = bound
    owner = Actor.for_membership(make_staff(merchant, Role.OWNER))
    store = make_store(merchant)
    product = make_product(merchant, name="樱花拿铁", status="on_sale")
    ids = make_customers(merchant, 40)
    make_group_with(merchant, ids[:15], store=store, name="静安店福利群")
    Customer.objects.filter(pk=ids[1]).update(status=Customer.Status.BLOCKED)
    students = make_tag(merchant, name="学生")
    latte = make_tag(merchant, name="拿铁控")
    from siyu.customers.models import CustomerTag

    now = clock.now()
    CustomerTag.objects.bulk_create(
        [
            CustomerTag(merchant=merchant, customer_id=c, tag=students, added_at=now)
            for c in ids[10:30]
        ]
        + [CustomerTag(merchant=merchant, customer_id=c, tag=latte, added_at=now) for c in ids[:5]]
    )
    refuse(merchant, ids[10:12])  # refused 1:1 messages
    segment_services.create_segment(
        owner,
        name="沉睡高价值",
        rule={"field": "tag", "op": "has_any", "value": [students.pk]},
    )
    # orders placed shortly after the tag message (six days ago, 11:30 in Shanghai)
    zone = clock.zone(merchant.time_zone)
    sent_at = (clock.now().astimezone(zone) - timedelta(days=6)).replace(
        hour=11, minute=30, second=0, microsecond=0
    )
    buyers = ids[14:24]
    for customer_id in buyers:
        order = make_order(merchant, status="paid", customer=Customer.objects.get(pk=customer_id))
        Order.objects.filter(pk=order.pk).update(placed_at=sent_at + timedelta(hours=3))

    steps: list[int] = []
    ctx = DemoContext(merchant, owner, random.Random(3), advance=steps.append)
    ctx.shared["products"] = [product]
    ctx.shared["tags"] = {"学生": students, "拿铁控": latte}
    demo.seed(ctx)
    assert sum(steps) == demo.STEPS

    rules = MessagingPolicy.objects.get()
    assert (rules.cap_count, rules.cap_period) == (1, "day")
    assert (rules.quiet_start, rules.quiet_end) == (time(21, 30), time(8, 30))

    post, tagged, segmented = Broadcast.objects.filter(status="sent").order_by("started_at")
    scheduled = Broadcast.objects.get(status="scheduled")
    assert scheduled.scheduled_at > clock.now()
    assert scheduled.tag_id == latte.pk

    # the group post: one post in the group, every active member listed, the blocked skipped
    assert post.delivery == "group_post"
    assert Message.objects.filter(broadcast_id=post.pk).count() == 1
    assert post.targeted_count == 15
    assert dict(
        Delivery.objects.filter(broadcast=post, status="skipped").values_list(
            "customer_id", "skip_reason"
        )
    ) == {ids[1]: "blocked"}

    # the tag: refusals skipped, everyone else messaged in their inbox
    assert tagged.targeted_count == 20
    assert tagged.skipped_count == 2
    assert tagged.sent_count == 18
    assert Message.objects.filter(broadcast_id=tagged.pk).count() == 18
    assert set(
        Delivery.objects.filter(broadcast=tagged, skip_reason="opted_out").values_list(
            "customer_id", flat=True
        )
    ) == set(ids[10:12])

    # the segment the same afternoon: the morning's customers are capped (one a day)
    reasons = selectors.funnel(segmented).reasons
    assert reasons["capped"] == 18
    assert reasons["opted_out"] == 2
    assert segmented.sent_count == 0

    # the funnel: read, clicked and ordered, consistent with each other
    funnel = selectors.funnel(tagged)
    assert 0 < funnel.read <= funnel.sent
    assert funnel.ordered <= funnel.clicked <= funnel.sent
    assert funnel.ordered >= 1
    linked = Delivery.objects.filter(broadcast=tagged, order_id__isnull=False)
    assert set(linked.values_list("customer_id", flat=True)) <= set(buyers)
    assert Touch.objects.filter(broadcast=tagged).count() == funnel.clicked
    assert ReadState.objects.exists()
    assert all(d.clicked_at > tagged.started_at for d in linked)
    assert tagged.created_at < tagged.started_at < clock.now()
