"""The group-buy demo: a running group-buy with succeeded and filling teams, a finished one with
succeeded and failed teams whose members were refunded (``check``, also run on the whole
``siyu demo`` build in ``tests/test_whole_demo.py``)."""

from __future__ import annotations

import random

import pytest

from siyu.catalog.services import SkuInput
from siyu.catalog.testing import first_sku, make_product
from siyu.core.actors import Actor
from siyu.core.demo import DemoContext
from siyu.core.models import Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_staff
from siyu.customers.testing import make_customer
from siyu.groupbuy import demo, selectors
from siyu.groupbuy.models import GroupBuy, Member, Team
from siyu.orders.testing import Shop, make_shop, stock
from siyu.payments.models import Refund

from .helpers import after_commit

pytestmark = pytest.mark.django_db


def check(merchant: Merchant) -> None:
    with merchant_context(merchant):
        running, finished = GroupBuy.objects.order_by("pk")
        assert [selectors.phase(running), selectors.phase(finished)] == ["running", "ended"]
        assert set(Team.objects.filter(activity=running).values_list("status", flat=True)) == {
            "open",
            "succeeded",
        }
        assert set(Team.objects.filter(activity=finished).values_list("status", flat=True)) == {
            "succeeded",
            "failed",
        }
        for team in Team.objects.all():
            seated = Member.objects.filter(team=team, status="seated").count()
            assert seated == (team.seats_taken if team.status != "failed" else 0)
            assert team.seats_taken <= team.size
        refunded = Member.objects.filter(status="refunded")
        assert refunded.count() == 3
        assert set(
            Refund.objects.filter(order_id__in=refunded.values("order_id")).values_list(
                "status", flat=True
            )
        ) == {"succeeded"}
        results = selectors.results(running)
        assert results.new_customers >= 1
        assert results.teams_succeeded == 3
        assert results.sales > 0
        assert results.k_factor is not None
        assert len(selectors.results(finished).days) >= 2


@pytest.fixture
def shop(merchant: Merchant) -> Shop:
    return make_shop(merchant, price=5000)


def test_the_generator_seeds_running_and_finished_group_buys(
    merchant: Merchant, shop: Shop
) -> None:
    for price in (3200, 2400):
        product = make_product(merchant, skus=[SkuInput(code=f"GB-{price}", price=price)])
        with merchant_context(merchant):
            product.status = "on_sale"
            product.save(update_fields=["status"])
        stock(shop.location, first_sku(product), 100)
    for _n in range(100):
        make_customer(merchant)
    owner = Actor.for_membership(make_staff(merchant, Role.OWNER))
    ctx = DemoContext(merchant=merchant, owner=owner, rng=random.Random(3))
    with after_commit():
        demo.seed(ctx)
    check(merchant)
