"""The loyalty demo: settings and tiers, the points of a year of paid orders (refunds taken back
from the order's own lot), sign-ins, balances equal to the entries, every customer's tier."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.db.models import Sum

from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.demo import DemoContext
from siyu.core.models import Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_staff
from siyu.customers.testing import make_customer
from siyu.loyalty import demo, ledger, rules, selectors
from siyu.loyalty.models import CustomerTier, MemberTier, PointsAccount, PointsEntry, SignIn
from siyu.orders import services as order_services
from siyu.orders.models import OrderLine
from siyu.orders.testing import make_order, make_shop

pytestmark = pytest.mark.django_db


def test_the_generator_writes_a_sound_ledger_and_tiers(merchant: Merchant) -> None:
    shop = make_shop(merchant, price=40_000, quantity=500)
    customers = [make_customer(merchant) for _n in range(30)]
    paid = []
    for n, customer in enumerate(customers):
        for _k in range(1 + n % 3):
            paid.append(
                make_order(
                    merchant,
                    status="paid",
                    customer=customer,
                    shop=shop,
                    quantity=1 + n % 4,
                    paid_at=clock.now() - timedelta(days=n * 5),
                )
            )
    with merchant_context(merchant):
        line = OrderLine.objects.get(order=paid[0])
        order_services.apply_refund(
            paid[0], lines=[(line.pk, 0, 10_000)], amount=10_000, restock=False, reference="r1"
        )
        owner = Actor.for_membership(make_staff(merchant, Role.OWNER))
    ctx = DemoContext(merchant=merchant, owner=owner, rng=random.Random(5))
    ctx.shared["customers"] = [customers[0]]
    demo.seed(ctx)
    with merchant_context(merchant):
        assert MemberTier.objects.count() == 3
        assert PointsEntry.objects.filter(kind="first_order").count() == 30
        assert PointsEntry.objects.filter(kind="earn_order").count() == len(paid)
        assert ledger.order_figures(paid[0].pk) == {
            "earned": 400,
            "taken": 100,
            "spent": 0,
            "returned": 0,
        }
        for account in PointsAccount.objects.all():
            assert account.balance == ledger.derived_balance(account.customer_id)
        total = PointsEntry.objects.aggregate(s=Sum("points"))["s"]
        assert PointsAccount.objects.aggregate(s=Sum("balance"))["s"] == total
        assert SignIn.objects.count() == PointsEntry.objects.filter(kind="sign_in").count()
        # each customer's tier is what evaluating them would decide
        ruled = selectors.tier_rules()
        for row in CustomerTier.objects.all():
            spend, points = selectors.figures_of(row.customer_id, clock.now())
            want = rules.tier_for(ruled, spend, points)
            assert row.tier_id == (want.id if want else None)
        assert CustomerTier.objects.filter(tier__isnull=False).exists()
        # the demo's login has a referral reward and signed in the last six days
        award = PointsEntry.objects.get(kind="award", customer=customers[0])
        assert selectors.entry_label(award) == "Invited a friend"
        assert selectors.points_overview(customers[0]).streak >= 6
    assert "/points/" in ctx.logins[0].note
