"""The bargain demo: a running and a finished activity, bargains in every state, cuts that add
up, results the console can show (``check``, also run on the whole ``siyu demo`` build in
``tests/test_whole_demo.py``)."""

from __future__ import annotations

import random

import pytest

from siyu.bargain import demo, selectors
from siyu.bargain.models import Bargain, BargainActivity, BargainCut
from siyu.catalog.testing import make_product
from siyu.core.actors import Actor
from siyu.core.demo import DemoContext
from siyu.core.models import Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_staff
from siyu.customers.testing import make_customer
from siyu.orders.testing import Shop, first_sku, make_shop, stock

pytestmark = pytest.mark.django_db


def check(merchant: Merchant) -> None:
    with merchant_context(merchant):
        activities = list(BargainActivity.objects.order_by("pk"))
        assert [selectors.shown_status(a) for a in activities] == ["running", "ended"]
        statuses = set(Bargain.objects.values_list("status", flat=True))
        assert statuses == {"open", "reached", "bought", "expired"}
        assert Bargain.objects.filter(status="bought", order__paid_at__isnull=False).exists()
        assert Bargain.objects.filter(status="bought", order__paid_at__isnull=True).exists()
        for bargain in Bargain.objects.all():
            cut = sum(BargainCut.objects.filter(bargain=bargain).values_list("amount", flat=True))
            assert cut == bargain.original_price - bargain.current_price
            if bargain.reached_at:
                assert bargain.current_price == bargain.floor_price
        running = selectors.results(activities[0])
        assert running.new_customers >= 1
        assert running.bought >= 2
        assert running.sales > 0


def test_the_generator_seeds_every_state(merchant: Merchant, shop: Shop) -> None:
    from siyu.catalog.services import SkuInput

    second = make_product(merchant, skus=[SkuInput(code="CAKE-1", price=3200)], status="on_sale")
    stock(shop.location, first_sku(second), 50)
    for _n in range(200):
        make_customer(merchant)
    owner = Actor.for_membership(make_staff(merchant, Role.OWNER))
    ctx = DemoContext(merchant=merchant, owner=owner, rng=random.Random(3))
    demo.seed(ctx)
    check(merchant)


@pytest.fixture
def shop(merchant: Merchant) -> Shop:
    return make_shop(merchant, price=5000)
