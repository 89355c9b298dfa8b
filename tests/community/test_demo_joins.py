"""The community demo seats exactly the group members the orders' behavioural model simulated.

The model raises a member's purchase rate from the moment they join, so analytics can only find
that uplift if the memberships in the database carry the model's join times.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

import pytest

from siyu.catalog.testing import make_product, make_store
from siyu.community import demo as community_demo
from siyu.community.models import GroupMember
from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.demo import DemoContext
from siyu.core.models import Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_staff
from siyu.customers.models import Customer
from siyu.orders import demo as orders_demo
from siyu.orders import demo_model

pytestmark = pytest.mark.django_db


def _shop(merchant: Merchant) -> None:
    make_store(merchant, code="A1", latitude="31.224261", longitude="121.446512")
    make_store(merchant, code="B1", latitude="31.193270", longitude="121.436740")
    make_product(merchant, "拿铁", status="on_sale")
    make_product(merchant, "可颂", status="on_sale")


def test_memberships_are_the_simulated_joins_at_the_simulated_times(merchant, monkeypatch):
    _shop(merchant)
    simulated: list[tuple[demo_model.History, date]] = []
    real_simulate = demo_model.simulate

    def spy(rng, **kwargs):
        history = real_simulate(rng, **kwargs)
        simulated.append((history, kwargs["start"]))
        return history

    monkeypatch.setattr(demo_model, "simulate", spy)
    ctx = DemoContext(
        merchant=merchant,
        owner=Actor.for_membership(make_staff(merchant, Role.OWNER)),
        rng=random.Random(4),
        options={"customers": 300},
    )
    orders_demo.seed(ctx)
    community_demo.seed(ctx)

    [(history, first_day)] = simulated
    with merchant_context(merchant):
        customers = list(Customer.objects.values_list("pk", "created_at", "home_store_id"))
        # the window's first local midnight, in UTC: model times count seconds from it
        local_midnight = datetime.combine(first_day, time(0), tzinfo=clock.zone(merchant.time_zone))
        start = local_midnight.astimezone(UTC)
        by_signup = {created: pk for pk, created, _home in customers}
        assert len(by_signup) == len(customers) == 300  # sign-up times tell customers apart
        expected = {}
        for person in history.customers:
            pk = by_signup[start + timedelta(seconds=person.joined_at)]
            if person.group_joined_at is not None:
                expected[pk] = start + timedelta(seconds=person.group_joined_at)
        assert expected
        assert any(p.channel != demo_model.GROUP_CHANNEL for p in history.customers)
        members = GroupMember.objects.select_related("group")
        assert {m.customer_id: m.joined_at for m in members} == expected
        # in their home store's group
        homes = {pk: home for pk, _created, home in customers}
        for member in members:
            if homes[member.customer_id] is not None:
                assert member.group.store_id == homes[member.customer_id]
            assert member.group.created_at <= member.joined_at
    # what the orders' demo handed over is what was seated
    planned = {pk: join[0] for pk, join in ctx.shared["group_joins"].items() if join}
    assert planned == expected
    assert set(ctx.shared["community_members"]) == set(expected)
