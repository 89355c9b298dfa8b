"""The demo generator: a believable chain, every role, through the services."""

from __future__ import annotations

import random

import pytest

from siyu.core.actors import Actor
from siyu.core.demo import DEMO_PASSWORD, DemoContext
from siyu.core.models import DomainEvent, Membership, User
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_merchant, make_staff
from siyu.stores import demo, selectors
from siyu.stores.models import Store, StoreStaff

pytestmark = pytest.mark.django_db


def run_seed(merchant):
    owner = make_staff(merchant, Role.OWNER)
    steps: list[int] = []
    ctx = DemoContext(
        merchant=merchant,
        owner=Actor.for_membership(owner),
        rng=random.Random(1),
        advance=steps.append,
    )
    demo.seed(ctx)
    return ctx, steps


def test_seed_builds_the_chain_and_its_staff(merchant):
    ctx, steps = run_seed(merchant)
    assert sum(steps) == demo.STEPS
    with merchant_context(merchant):
        stores = list(Store.objects.all())
        assert len(stores) == 12
        assert ctx.shared["stores"] == sorted(stores, key=lambda s: s.pk)
        assert {s.district for s in stores} >= {
            "静安区",
            "徐汇区",
            "黄浦区",
            "浦东新区",
            "长宁区",
            "杨浦区",
            "闵行区",
        }
        assert [s.code for s in stores if s.status == Store.Status.TEMPORARILY_CLOSED] == [
            "SH-XH-002"
        ]
        assert sum(s.pickup_enabled for s in stores) >= 9
        assert all(s.phone.startswith("+8621") for s in stores)
        assert len({tuple(map(tuple, s.opening_hours["fri"])) for s in stores}) > 3  # varied hours
        # from People's Square, the People's Square store is the nearest
        nearest = selectors.nearest_stores(31.230416, 121.473701, limit=3)
        assert nearest[0].store.code == "SH-HP-001"
        assert nearest[0].distance_m < 1_000
        assert DomainEvent.objects.filter(event_type="stores.store.created").count() == 12
    roles = {login.role for login in ctx.logins}
    assert roles == {Role.OPERATOR, Role.FINANCE, Role.STORE_MANAGER, Role.SHOPPING_GUIDE}
    for login in ctx.logins:
        user = User.objects.get(username=login.username)
        assert login.password == DEMO_PASSWORD
        assert user.check_password(DEMO_PASSWORD)
        member = Membership.objects.get(user=user, merchant=merchant)
        assert member.role == login.role
    manager = Membership.objects.get(merchant=merchant, role=Role.STORE_MANAGER)
    assert StoreStaff.unscoped.filter(membership=manager).count() == 2
    guides = Membership.objects.filter(merchant=merchant, role=Role.SHOPPING_GUIDE)
    assert guides.count() == 2
    assert all(StoreStaff.unscoped.filter(membership=g).exists() for g in guides)


def test_a_second_demo_in_the_same_database_gets_its_own_logins(merchant):
    run_seed(merchant)
    second = make_merchant(slug="second-bean")
    ctx, _steps = run_seed(second)
    assert all(login.username.endswith(".second-bean") for login in ctx.logins)
    with merchant_context(second):
        assert Store.objects.count() == 12
