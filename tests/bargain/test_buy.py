"""Buying a bargain through the one checkout: the price line by line, preview = charge, the
activity's stock, and an unpaid order cancelled reopening the bargain."""

from __future__ import annotations

from datetime import timedelta

import pytest

from siyu.bargain import events as bargain_events
from siyu.bargain import services
from siyu.bargain.models import Bargain, BargainActivity
from siyu.bargain.testing import make_activity
from siyu.core import clock
from siyu.core.errors import Conflict
from siyu.core.models import DomainEvent, Merchant
from siyu.core.outbox import dispatch_pending
from siyu.core.tenancy import merchant_context
from siyu.customers.models import Customer
from siyu.orders import services as order_services
from siyu.orders.models import Order
from siyu.orders.testing import Shop

pytestmark = pytest.mark.django_db


def started_and_cut(
    merchant: Merchant, activity: BargainActivity, starter: Customer, helpers: list[Customer]
) -> Bargain:
    with merchant_context(merchant):
        bargain = services.start(starter, activity.pk)
        for helper in helpers:
            services.help_cut(helper, bargain.pk)
        bargain.refresh_from_db()
    return bargain


def buy(merchant: Merchant, customer: Customer, bargain: Bargain, shop: Shop) -> Order:
    with merchant_context(merchant):
        return services.buy(customer, bargain.pk, fulfilment="pickup", store_id=shop.store.pk)


def test_buying_at_the_current_price_explains_it_and_preview_equals_charge(
    merchant: Merchant,
    shop: Shop,
    activity: BargainActivity,
    starter: Customer,
    friends: list[Customer],
) -> None:
    bargain = started_and_cut(merchant, activity, starter, friends[:1])
    assert 100 < bargain.current_price < 5000
    with merchant_context(merchant):
        preview = services.preview(starter, bargain.pk, fulfilment="pickup", store_id=shop.store.pk)
    order = buy(merchant, starter, bargain, shop)
    assert preview.priced.total == order.total == bargain.current_price
    (discount,) = order.pricing["discounts"]
    assert discount["code"] == f"bargain:{bargain.pk}"
    assert discount["amount"] == 5000 - bargain.current_price
    assert discount["note"]["key"] == "Bargain price %(unit_price)s: −%(amount)s"
    with merchant_context(merchant):
        bargain.refresh_from_db()
        activity.refresh_from_db()
        bought = DomainEvent.objects.get(event_type=bargain_events.BARGAIN_BOUGHT)
    assert (bargain.status, bargain.order_id) == ("bought", order.pk)
    assert activity.stock_left == 9
    assert bought.payload["order_id"] == order.pk
    # bought: closed to cuts and to a second purchase
    with merchant_context(merchant):
        with pytest.raises(Conflict) as cut:
            services.help_cut(friends[1], bargain.pk)
        with pytest.raises(Conflict) as again:
            services.buy(starter, bargain.pk, fulfilment="pickup", store_id=shop.store.pk)
    assert (cut.value.code, again.value.code) == ("closed", "closed")


def test_only_the_starter_buys_and_a_floor_only_activity_waits_for_the_floor(
    merchant: Merchant, shop: Shop, starter: Customer, friends: list[Customer]
) -> None:
    activity = make_activity(merchant, shop.sku, helpers_needed=2, buy_before_floor=False)
    bargain = started_and_cut(merchant, activity, starter, friends[:1])
    with merchant_context(merchant):
        with pytest.raises(Conflict) as early:
            services.buy(starter, bargain.pk, fulfilment="pickup", store_id=shop.store.pk)
        assert early.value.code == "floor_not_reached"
        from siyu.core.errors import NotFound

        with pytest.raises(NotFound):
            services.buy(friends[0], bargain.pk, fulfilment="pickup", store_id=shop.store.pk)
        services.help_cut(friends[1], bargain.pk)
    assert buy(merchant, starter, bargain, shop).total == 100


def test_no_activity_stock_left_refuses_and_writes_nothing(
    merchant: Merchant,
    shop: Shop,
    activity: BargainActivity,
    starter: Customer,
    friends: list[Customer],
) -> None:
    bargain = started_and_cut(merchant, activity, starter, friends[:1])
    with merchant_context(merchant):
        BargainActivity.objects.filter(pk=activity.pk).update(stock_left=0)
        with pytest.raises(Conflict) as refused:
            services.buy(starter, bargain.pk, fulfilment="pickup", store_id=shop.store.pk)
        assert refused.value.code == "sold_out"
        assert not Order.objects.exists()
        bargain.refresh_from_db()
    assert bargain.status == "open"


def test_a_bad_store_is_refused_by_the_checkout_and_gives_the_stock_back(
    merchant: Merchant,
    shop: Shop,
    activity: BargainActivity,
    starter: Customer,
) -> None:
    bargain = started_and_cut(merchant, activity, starter, [])
    from siyu.core.errors import InvalidInput

    with merchant_context(merchant), pytest.raises(InvalidInput) as refused:
        services.buy(starter, bargain.pk, fulfilment="pickup", store_id=987654)
    assert "store_id" in refused.value.fields
    with merchant_context(merchant):
        activity.refresh_from_db()
        bargain.refresh_from_db()
    assert (activity.stock_left, bargain.status) == (10, "open")


def test_an_unpaid_order_cancelled_reopens_the_bargain_and_returns_the_stock(
    merchant: Merchant,
    shop: Shop,
    activity: BargainActivity,
    starter: Customer,
    friends: list[Customer],
) -> None:
    bargain = started_and_cut(merchant, activity, starter, friends[:1])
    order = buy(merchant, starter, bargain, shop)
    with merchant_context(merchant):
        order_services.cancel(order, actor=starter, reason="changed my mind")
    dispatch_pending()
    dispatch_pending()  # replayed: nothing more changes
    with merchant_context(merchant):
        bargain.refresh_from_db()
        activity.refresh_from_db()
    assert (bargain.status, bargain.order_id, activity.stock_left) == ("open", None, 10)
    # cuts go on, and it can be bought again
    with merchant_context(merchant):
        services.help_cut(friends[1], bargain.pk)
    assert buy(merchant, starter, bargain, shop).pk != order.pk


def test_a_cancelled_order_of_an_expired_bargain_expires_it(
    merchant: Merchant,
    shop: Shop,
    activity: BargainActivity,
    starter: Customer,
) -> None:
    bargain = started_and_cut(merchant, activity, starter, [])
    order = buy(merchant, starter, bargain, shop)
    with merchant_context(merchant):
        Bargain.objects.filter(pk=bargain.pk).update(expires_at=clock.now() - timedelta(minutes=1))
        order_services.cancel(order, actor=starter, reason="too late")
    dispatch_pending()
    with merchant_context(merchant):
        bargain.refresh_from_db()
        activity.refresh_from_db()
    assert (bargain.status, activity.stock_left) == ("expired", 10)
