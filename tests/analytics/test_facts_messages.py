"""The messaged flag, swept from customers' group-chat messages (no event carries them)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.cache import cache

from siyu.analytics.models import ActiveDay
from siyu.analytics.tasks import SWEPT_KEY, sweep_group_messages
from siyu.community import chat
from siyu.community import services as community
from siyu.community.testing import make_group
from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.tenancy import merchant_context
from siyu.orders.testing import make_customer

pytestmark = pytest.mark.django_db


def post(merchant, customer, text, at=None):
    group = make_group(Actor.system(merchant))
    with merchant_context(merchant):
        community.join_group(customer, group)
        return chat.post_message(
            chat.group_conversation(group), text=text, sender_customer=customer, at=at
        )


def test_a_customers_group_message_marks_the_day_messaged(merchant, other_merchant):
    cache.delete(SWEPT_KEY)
    customer, theirs = make_customer(merchant), make_customer(other_merchant)
    post(merchant, customer, "有优惠吗")
    post(other_merchant, theirs, "hello")
    assert sweep_group_messages.call() == 2
    today = clock.local(clock.now(), merchant.time_zone).date()
    mine = ActiveDay.unscoped.get(merchant=merchant, customer_id=customer.pk)
    assert (mine.day, mine.kinds) == (today, ActiveDay.MESSAGED)
    assert ActiveDay.unscoped.filter(merchant=other_merchant, customer_id=theirs.pk).exists()
    assert sweep_group_messages.call() == 0  # nothing new since


def test_the_sweep_reads_on_from_where_it_stopped(merchant):
    cache.delete(SWEPT_KEY)
    first, second = make_customer(merchant), make_customer(merchant)
    post(merchant, first, "早")
    sweep_group_messages.call()
    # an old message posted after the sweep (its time is long past) is still read: by id
    old = datetime(2026, 1, 10, 16, 30, tzinfo=UTC)  # 00:30 on 11 January in Shanghai
    post(merchant, second, "晚", at=old)
    assert sweep_group_messages.call() == 1
    assert ActiveDay.unscoped.get(customer_id=second.pk).day == date(2026, 1, 11)


def test_a_cold_sweep_reads_only_recent_messages(merchant):
    customer = make_customer(merchant)
    post(merchant, customer, "上周的", at=clock.now() - timedelta(days=7))
    cache.delete(SWEPT_KEY)
    assert sweep_group_messages.call() == 0
    assert not ActiveDay.unscoped.exists()
