"""Customer statistics from order events (through the sales facts), their idempotency, the
set-based recompute and RFM. More on the facts, imports and refunds: test_stats_facts.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Max

from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.models import DomainEvent, Merchant
from siyu.core.outbox import dispatch_pending
from siyu.core.tenancy import merchant_context
from siyu.customers import stats
from siyu.customers.crm_consumers import order_statistics
from siyu.customers.models import Customer, TimelineEntry
from siyu.customers.testing import make_customer
from siyu.orders.models import Order
from siyu.orders.testing import make_order, make_shop
from siyu.payments import services as payments
from siyu.payments.models import Refund
from siyu.payments.testing import deliver_pending, make_paid_order

Kind = TimelineEntry.Kind


def _kinds(customer: Customer) -> list[str]:
    return sorted(
        TimelineEntry.unscoped.filter(customer=customer)
        .exclude(kind=Kind.CREATED)
        .values_list("kind", flat=True)
    )


def _fresh(customer: Customer) -> Customer:
    return Customer.unscoped.get(pk=customer.pk)


def test_paid_orders_count_and_unpaid_or_cancelled_do_not(merchant: Merchant) -> None:
    shop = make_shop(merchant, price=1800)
    customer = make_customer(merchant)
    make_order(merchant, status="paid", customer=customer, shop=shop, quantity=2)
    make_order(merchant, status="completed", customer=customer, shop=shop)
    make_order(merchant, status="pending_payment", customer=customer, shop=shop)
    make_order(merchant, status="cancelled", customer=customer, shop=shop)
    dispatch_pending()
    row = _fresh(customer)
    assert row.order_count == 2
    assert row.total_spent == 3600 + 1800
    assert row.average_order_value == (3600 + 1800) // 2
    with merchant_context(merchant):
        paid = Order.objects.filter(customer=customer, paid_at__isnull=False)
        assert row.last_order_at == paid.aggregate(m=Max("placed_at"))["m"]
    assert row.stats_updated_at is not None
    assert _kinds(customer).count(Kind.ORDERED) == 4
    assert _kinds(customer).count(Kind.PAID) == 2
    line = TimelineEntry.unscoped.filter(customer=customer, kind=Kind.PAID).first()
    assert line is not None
    assert line.data["total"] in (3600, 1800)


def test_refund_takes_money_off_and_is_on_the_timeline(
    merchant: Merchant, owner: Actor, django_capture_on_commit_callbacks: Any
) -> None:
    customer = make_customer(merchant)
    order = make_paid_order(merchant, customer=customer, shop=make_shop(merchant, price=5000))
    dispatch_pending()
    assert _fresh(customer).total_spent == 5000
    with django_capture_on_commit_callbacks(execute=True), merchant_context(merchant):
        payments.refund(owner, order, amount=1200, reason="cold coffee")
    deliver_pending()
    assert Refund.unscoped.get(order=order).status == "succeeded"
    dispatch_pending()
    row = _fresh(customer)
    assert (row.order_count, row.total_spent, row.average_order_value) == (1, 3800, 3800)
    refunded = TimelineEntry.unscoped.get(customer=customer, kind=Kind.REFUNDED)
    assert refunded.data["amount"] == 1200
    assert refunded.data["number"] == order.number


def test_replayed_events_do_not_duplicate_the_timeline(merchant: Merchant) -> None:
    customer = make_customer(merchant)
    make_order(merchant, status="paid", customer=customer)
    dispatch_pending()
    before = (_kinds(customer), _fresh(customer).total_spent)
    for event in DomainEvent.unscoped.filter(event_type__startswith="orders.order."):
        with merchant_context(merchant):
            order_statistics(event)
            order_statistics(event)
    assert (_kinds(customer), _fresh(customer).total_spent) == before
    assert before[0] == [Kind.ORDERED, Kind.PAID]


def test_customer_created_starts_the_timeline_once(merchant: Merchant) -> None:
    customer = make_customer(merchant, join_channel="store_qr")
    dispatch_pending()
    DomainEvent.unscoped.update(dispatched_at=None)
    dispatch_pending()  # replayed
    created = TimelineEntry.unscoped.filter(customer=customer, kind=Kind.CREATED)
    assert [e.data["channel"] for e in created] == ["store_qr"]


def _seed(merchant: Merchant) -> list[Customer]:
    """Five customers with 0..4 paid orders of different totals; one with an unpaid order."""
    shop = make_shop(merchant, price=1000, quantity=500)
    people = [make_customer(merchant) for _ in range(6)]
    now = clock.now()
    for n, person in enumerate(people[:5]):
        for k in range(n):
            make_order(
                merchant,
                status="paid",
                customer=person,
                shop=shop,
                quantity=k + 1,
                paid_at=now - timedelta(days=10 * (5 - n)),
            )
    make_order(merchant, status="pending_payment", customer=people[5], shop=shop)
    dispatch_pending()  # the sales facts the statistics read
    return people


def _snapshot(merchant: Merchant) -> list[tuple]:
    return list(
        Customer.unscoped.filter(merchant=merchant)
        .order_by("pk")
        .values_list(
            "pk",
            "first_order_at",
            "last_order_at",
            "order_count",
            "total_spent",
            "average_order_value",
        )
    )


def test_recompute_all_equals_per_customer_recompute(
    merchant: Merchant, other_merchant: Merchant
) -> None:
    people = _seed(merchant)
    rival = make_customer(other_merchant)
    make_order(other_merchant, status="paid", customer=rival)
    dispatch_pending()
    assert _fresh(rival).order_count == 1
    Customer.unscoped.filter(pk=rival.pk).update(order_count=0)
    with merchant_context(merchant):
        for person in people:
            stats.recompute(person.pk)
    expected = _snapshot(merchant)
    # wreck the stored numbers, then rebuild them set-based
    Customer.unscoped.filter(merchant=merchant).update(
        order_count=99, total_spent=7, average_order_value=1, last_order_at=clock.now()
    )
    assert stats.recompute_all(merchant) == 6  # every row was wrecked: 4 buyers, 2 reset
    assert _snapshot(merchant) == expected
    assert _fresh(people[0]).order_count == 0
    assert _fresh(people[0]).last_order_at is None
    assert _fresh(people[4]).order_count == 4
    assert _fresh(people[4]).total_spent == 1000 * (1 + 2 + 3 + 4)
    assert _fresh(rival).order_count == 0  # the other merchant is untouched until its own run


def test_rfm_quintiles(merchant: Merchant) -> None:
    people = _seed(merchant)
    stats.recompute_all(merchant)
    assert stats.score_rfm(merchant) == 4
    scores = {
        p.pk: (r.rfm_recency, r.rfm_frequency, r.rfm_monetary) for p in people for r in [_fresh(p)]
    }
    # 4 customers with orders, 0..3 of them strictly worse: 1 + 5 × worse ÷ 4 → 1, 2, 3, 4;
    # every order was placed today, so the last order days tie and R is 1 for all
    assert scores[people[1].pk] == (1, 1, 1)
    assert scores[people[2].pk] == (1, 2, 2)
    assert scores[people[3].pk] == (1, 3, 3)
    assert scores[people[4].pk] == (1, 4, 4)
    assert scores[people[0].pk] == (0, 0, 0)
    assert scores[people[5].pk] == (0, 0, 0)


def test_rfm_equal_values_share_a_score(merchant: Merchant) -> None:
    shop = make_shop(merchant, price=1000, quantity=100)
    people = [make_customer(merchant) for _ in range(5)]
    for person in people:
        make_order(merchant, status="paid", customer=person, shop=shop)
    dispatch_pending()
    stats.recompute_all(merchant)
    stats.score_rfm(merchant)
    frequencies = {_fresh(p).rfm_frequency for p in people}
    monetary = {_fresh(p).rfm_monetary for p in people}
    assert frequencies == {1}
    assert monetary == {1}


@pytest.mark.parametrize(
    ("spent", "orders", "aov"),
    [(0, 0, 0), (16001, 3, 5334), (16000, 3, 5333), (5, 2, 3), (7, 1, 7)],
)
def test_average_order_value_is_rounded_half_up(spent: int, orders: int, aov: int) -> None:
    assert stats.average(spent, orders) == aov
