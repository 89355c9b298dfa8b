"""Concurrent helpers on PostgreSQL: never below the floor, never more helpers than needed,
one cut per helper; concurrent buyers never take more than the activity's stock."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections

from siyu.bargain import services
from siyu.bargain.models import Bargain, BargainActivity, BargainCut
from siyu.bargain.testing import make_activity
from siyu.core.errors import Conflict
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_merchant
from siyu.customers.testing import make_customer
from siyu.orders.models import Order
from siyu.orders.testing import make_shop

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="a real race between database connections needs PostgreSQL",
    ),
    pytest.mark.django_db(transaction=True),
]

THREADS = 30


def run_together(calls: list[Callable[[], object]]) -> list[object]:
    """Run every call in its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(calls), timeout=30)
    outcomes: list[object] = [None] * len(calls)

    def worker(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as exc:  # counted by the assertions
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_thirty_helpers_at_once_on_the_last_five_cuts_stop_exactly_at_the_floor() -> None:
    merchant = make_merchant()
    shop = make_shop(merchant, price=9999)
    activity = make_activity(merchant, shop.sku, floor_price=1, helpers_needed=8)
    starter = make_customer(merchant)
    early = [make_customer(merchant) for _n in range(3)]
    with merchant_context(merchant):
        bargain = services.start(starter, activity.pk)
        for helper in early:
            services.help_cut(helper, bargain.pk)
    helpers = [make_customer(merchant) for _n in range(THREADS)]

    def cut(helper: object) -> Callable[[], object]:
        def call() -> object:
            with merchant_context(merchant):
                return services.help_cut(helper, bargain.pk)  # type: ignore[arg-type]

        return call

    # every helper twice: the second of a pair must be refused too
    outcomes = run_together([cut(h) for h in helpers] + [cut(h) for h in helpers[:5]])
    made = [o for o in outcomes if isinstance(o, BargainCut)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(made) == 5
    assert len(refused) == len(outcomes) - 5
    assert {o.code for o in refused} <= {"complete", "already_helped"}
    with merchant_context(merchant):
        bargain.refresh_from_db()
        amounts = list(BargainCut.objects.filter(bargain=bargain).values_list("amount", flat=True))
        helper_ids = list(
            BargainCut.objects.filter(bargain=bargain).values_list("helper_id", flat=True)
        )
    assert len(amounts) == 8 == len(set(helper_ids))
    assert all(a >= 1 for a in amounts)
    assert sum(amounts) == 9999 - 1
    assert (bargain.status, bargain.current_price, bargain.helper_count) == ("reached", 1, 8)


def test_buyers_of_the_last_units_never_take_more_than_the_activity_stock() -> None:
    merchant = make_merchant()
    shop = make_shop(merchant, price=3000)
    activity = make_activity(merchant, shop.sku, helpers_needed=1, stock=3)
    starters = [make_customer(merchant) for _n in range(10)]
    with merchant_context(merchant):
        bargains = [services.start(s, activity.pk) for s in starters]

    def buy(bargain: Bargain) -> Callable[[], object]:
        def call() -> object:
            with merchant_context(merchant):
                return services.buy(
                    bargain.customer, bargain.pk, fulfilment="pickup", store_id=shop.store.pk
                )

        return call

    outcomes = run_together([buy(b) for b in bargains])
    orders = [o for o in outcomes if isinstance(o, Order)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(orders) == 3
    assert len(refused) == 7
    assert {o.code for o in refused} == {"sold_out"}
    with merchant_context(merchant):
        activity = BargainActivity.objects.get(pk=activity.pk)
        assert activity.stock_left == 0
        assert Bargain.objects.filter(status="bought").count() == 3
