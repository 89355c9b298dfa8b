"""The referrals demo generator: a running programme and a year of consistent referrals."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.demo import DemoContext
from siyu.core.models import Merchant
from siyu.customers.models import Customer
from siyu.customers.testing import make_customer
from siyu.orders.models import Order
from siyu.orders.testing import make_order, make_shop
from siyu.referrals import demo, selectors, services, tree
from siyu.referrals.models import Referral, ReferralReward

pytestmark = pytest.mark.django_db


def test_demo_builds_a_running_programme_and_consistent_referrals(bound: Merchant) -> None:
    now = clock.now()
    customers = [make_customer(bound) for _ in range(220)]
    for i, customer in enumerate(customers):  # joined over the last year, oldest first
        Customer.objects.filter(pk=customer.pk).update(
            created_at=now - timedelta(days=365) + timedelta(hours=39 * i)
        )
    shop = make_shop(bound)
    for customer in customers[60::15]:
        make_order(bound, status="completed", customer=customer, shop=shop)
    steps: list[int] = []
    ctx = DemoContext(bound, Actor.system(bound), random.Random(11), advance=steps.append)
    demo.seed(ctx)
    assert sum(steps) == demo.STEPS
    assert services.running(services.programme(), clock.now())
    referrals = list(Referral.objects.select_related("inviter", "invitee"))
    assert len(referrals) >= 25
    statuses = {r.status for r in referrals}
    assert {"registered", "blocked"} <= statuses
    completed = set(Order.objects.filter(status="completed").values_list("customer_id", flat=True))
    for r in referrals:
        assert r.inviter.created_at < r.invitee.created_at
        if r.status in ("rewarded", "qualified"):
            assert r.invitee_id in completed
        if r.status == "blocked":
            assert r.block_reason
            assert not ReferralReward.objects.filter(referral=r).exists()
        else:
            assert ReferralReward.objects.filter(referral=r, side="invitee").exists()
    depths = [tree.shape(bound.pk, pk).depth for pk in {r.inviter_id for r in referrals}]
    assert max(depths) >= 2  # some trees are several levels deep
    found = selectors.results(now - timedelta(days=400), clock.now())
    assert found.registered == sum(r.status != "blocked" for r in referrals)
    assert found.k_factor is not None
