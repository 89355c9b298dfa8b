"""Starting, helping and expiring bargains through the services."""

from __future__ import annotations

from datetime import timedelta

import pytest

from siyu.bargain import cuts, services
from siyu.bargain import events as bargain_events
from siyu.bargain.models import Bargain, BargainActivity, BargainCut
from siyu.bargain.tasks import expire_bargains
from siyu.bargain.testing import make_activity
from siyu.core import clock
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.models import DomainEvent, Merchant
from siyu.core.tenancy import merchant_context
from siyu.customers.models import Customer
from siyu.customers.testing import make_customer
from siyu.orders.testing import Shop
from siyu.payments.testing import make_paid_order

pytestmark = pytest.mark.django_db


def start(merchant: Merchant, customer: Customer, activity: BargainActivity) -> Bargain:
    with merchant_context(merchant):
        return services.start(customer, activity.pk)


def cut(merchant: Merchant, helper: Customer, bargain: Bargain) -> BargainCut:
    with merchant_context(merchant):
        return services.help_cut(helper, bargain.pk)


def test_start_snapshots_the_activity_and_a_second_start_answers_the_same_bargain(
    merchant: Merchant, activity: BargainActivity, starter: Customer
) -> None:
    bargain = start(merchant, starter, activity)
    assert (bargain.status, bargain.original_price, bargain.floor_price) == ("open", 5000, 100)
    assert bargain.current_price == 5000
    assert bargain.expires_at == bargain.started_at + timedelta(hours=24)
    assert start(merchant, starter, activity).pk == bargain.pk
    with merchant_context(merchant):
        assert Bargain.objects.count() == 1
        event = DomainEvent.objects.get(event_type=bargain_events.BARGAIN_STARTED)
    assert event.payload["bargain_id"] == bargain.pk


def test_three_helpers_cut_exactly_to_the_floor_and_a_fourth_is_refused(
    merchant: Merchant, activity: BargainActivity, starter: Customer, friends: list[Customer]
) -> None:
    bargain = start(merchant, starter, activity)
    amounts = [cut(merchant, friend, bargain).amount for friend in friends[:3]]
    assert all(a >= 1 for a in amounts)
    assert sum(amounts) == 5000 - 100
    # the cuts are the ones the seed gives
    assert amounts == [c.amount for c in cuts.replay(4900, 3, bargain.seed, [1, 1, 1])]
    with merchant_context(merchant):
        bargain.refresh_from_db()
        assert (bargain.status, bargain.current_price, bargain.helper_count) == ("reached", 100, 3)
        with pytest.raises(Conflict) as refused:
            services.help_cut(friends[3], bargain.pk)
    assert refused.value.code == "complete"


def test_a_helper_cuts_once_and_the_starter_never(
    merchant: Merchant, activity: BargainActivity, starter: Customer, friends: list[Customer]
) -> None:
    bargain = start(merchant, starter, activity)
    cut(merchant, friends[0], bargain)
    with merchant_context(merchant):
        with pytest.raises(Conflict) as twice:
            services.help_cut(friends[0], bargain.pk)
        assert twice.value.code == "already_helped"
        with pytest.raises(InvalidInput) as own:
            services.help_cut(starter, bargain.pk)
        assert "own bargain" in own.value.fields["bargain"]
        assert BargainCut.objects.count() == 1


def test_an_expired_bargain_is_closed_to_cuts_and_the_job_expires_it(
    merchant: Merchant, activity: BargainActivity, starter: Customer, friends: list[Customer]
) -> None:
    bargain = start(merchant, starter, activity)
    with merchant_context(merchant):
        Bargain.objects.filter(pk=bargain.pk).update(expires_at=clock.now() - timedelta(seconds=1))
        with pytest.raises(Conflict) as refused:
            services.help_cut(friends[0], bargain.pk)
        assert refused.value.code == "expired"
    assert expire_bargains.call() == 1
    assert expire_bargains.call() == 0
    with merchant_context(merchant):
        bargain.refresh_from_db()
        assert bargain.status == "expired"
        assert DomainEvent.objects.filter(event_type=bargain_events.BARGAIN_EXPIRED).count() == 1
    # the customer may start a new one only within the limit (1)
    with merchant_context(merchant), pytest.raises(InvalidInput) as limit:
        services.start(starter, activity.pk)
    assert "activity_id" in limit.value.fields


def test_a_paused_or_not_started_activity_refuses_starts_and_cuts(
    merchant: Merchant, activity: BargainActivity, starter: Customer, friends: list[Customer]
) -> None:
    bargain = start(merchant, starter, activity)
    with merchant_context(merchant):
        BargainActivity.objects.filter(pk=activity.pk).update(status="paused")
        with pytest.raises(Conflict) as cut_refused:
            services.help_cut(friends[0], bargain.pk)
        with pytest.raises(Conflict) as start_refused:
            services.start(friends[1], activity.pk)
        BargainActivity.objects.filter(pk=activity.pk).update(
            status="active", starts_at=clock.now() + timedelta(hours=1)
        )
        with pytest.raises(Conflict) as early:
            services.start(friends[1], activity.pk)
    assert (cut_refused.value.code, start_refused.value.code, early.value.code) == (
        "paused",
        "paused",
        "not_started",
    )


def test_no_stock_left_refuses_a_start_and_the_limit_counts_every_bargain(
    merchant: Merchant, shop: Shop, starter: Customer
) -> None:
    empty = make_activity(merchant, shop.sku, stock=1)
    with merchant_context(merchant):
        BargainActivity.objects.filter(pk=empty.pk).update(stock_left=0)
        with pytest.raises(Conflict) as sold_out:
            services.start(starter, empty.pk)
    assert sold_out.value.code == "sold_out"
    two = make_activity(merchant, shop.sku, per_customer_limit=2)
    first = start(merchant, starter, two)
    with merchant_context(merchant):
        Bargain.objects.filter(pk=first.pk).update(status="expired")
    second = start(merchant, starter, two)
    assert (first.slot, second.slot) == (1, 2)
    with merchant_context(merchant):
        Bargain.objects.filter(pk=second.pk).update(status="expired")
        with pytest.raises(InvalidInput):
            services.start(starter, two.pk)


def test_new_customers_count_as_several_helpers(
    merchant: Merchant, shop: Shop, starter: Customer, friends: list[Customer]
) -> None:
    activity = make_activity(merchant, shop.sku, helpers_needed=5, new_customer_weight=3)
    bargain = start(merchant, starter, activity)
    old = cut(merchant, friends[0], bargain)
    newcomer = make_customer(merchant)  # signed up after the bargain started
    new = cut(merchant, newcomer, bargain)
    assert (old.shares, old.new_customer) == (1, False)
    assert (new.shares, new.new_customer) == (3, True)
    last = cut(merchant, make_customer(merchant), bargain)  # new too: covers the one share left
    assert last.shares == 1
    with merchant_context(merchant):
        bargain.refresh_from_db()
    assert (bargain.status, bargain.current_price, bargain.helper_count) == ("reached", 100, 3)
    assert old.amount + new.amount + last.amount == 4900


def test_a_customer_with_a_paid_order_is_not_new_and_only_new_ones_may_help_when_asked(
    merchant: Merchant, shop: Shop, starter: Customer
) -> None:
    activity = make_activity(merchant, shop.sku, helpers_must_be_new=True)
    bargain = start(merchant, starter, activity)
    buyer = make_customer(merchant)
    make_paid_order(merchant, customer=buyer, shop=shop)
    with merchant_context(merchant), pytest.raises(InvalidInput) as refused:
        services.help_cut(buyer, bargain.pk)
    assert refused.value.fields == {"bargain": "Only new customers can help cut this bargain."}
    assert cut(merchant, make_customer(merchant), bargain).new_customer


def test_another_merchants_bargain_is_not_found(
    merchant: Merchant, other_merchant: Merchant, activity: BargainActivity, starter: Customer
) -> None:
    bargain = start(merchant, starter, activity)
    stranger = make_customer(other_merchant)
    with merchant_context(other_merchant):
        with pytest.raises(NotFound):
            services.help_cut(stranger, bargain.pk)
        with pytest.raises(NotFound):
            services.start(stranger, activity.pk)


def test_a_cut_takes_a_handful_of_queries(
    merchant: Merchant,
    activity: BargainActivity,
    starter: Customer,
    friends: list[Customer],
    django_assert_max_num_queries: object,
) -> None:
    bargain = start(merchant, starter, activity)
    # lock the bargain with its activity, the duplicate check, the new-customer check, the cut
    # (in a savepoint), the bargain's update, the outbox row
    with merchant_context(merchant), django_assert_max_num_queries(10):  # type: ignore[operator]
        services.help_cut(friends[0], bargain.pk)


def test_the_expiry_job_works_through_every_batch(
    merchant: Merchant,
    activity: BargainActivity,
    friends: list[Customer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bargains = [start(merchant, friend, activity) for friend in friends]
    with merchant_context(merchant):
        Bargain.objects.update(expires_at=clock.now() - timedelta(minutes=1))
    monkeypatch.setattr(services, "EXPIRE_BATCH", 2)
    assert expire_bargains.call() == len(bargains) == 5
    with merchant_context(merchant):
        assert set(Bargain.objects.values_list("status", flat=True)) == {"expired"}
