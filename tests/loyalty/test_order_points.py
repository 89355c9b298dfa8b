"""Points on orders, driven through the real order services and the outbox consumer.

The property test runs any sequence of pay, partial refund, complete, expire, cancel and
spending elsewhere on orders that spent points at checkout, and checks after every step: the
cached balance equals the sum of the entries and is never negative, every debit is backed by
lots exactly, no order gets back more earned points than it earned, nor more spent points
than it spent.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.errors import DomainError
from siyu.core.models import Merchant
from siyu.core.outbox import dispatch_pending
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import actor_for
from siyu.customers.models import Customer, TimelineEntry
from siyu.customers.testing import make_customer
from siyu.loyalty import ledger, selectors, services
from siyu.loyalty.models import (
    CustomerTier,
    LoyaltySettings,
    MemberTier,
    PointsAllocation,
    PointsEntry,
)
from siyu.orders import services as order_services
from siyu.orders.models import Order, OrderLine
from siyu.orders.testing import Shop, make_shop
from siyu.promotions import checkout as offers_checkout

pytestmark = pytest.mark.django_db

Kind = PointsEntry.Kind


def place(shop: Shop, customer: Customer, *, quantity: int = 2, points: int = 0) -> Order:
    return offers_checkout.checkout(
        customer,
        choices=offers_checkout.Choices(points=points),
        fulfilment="pickup",
        store_id=shop.store.pk,
        items=[(shop.sku.pk, quantity)],
    )


def pay(order: Order) -> Order:
    return order_services.mark_paid(order, payment_reference=f"pay-{order.pk}", paid_at=clock.now())


def refund(order: Order, amount: int, n: int) -> Order:
    order = Order.objects.get(pk=order.pk)
    line = OrderLine.objects.filter(order=order).order_by("pk").first()
    assert line is not None
    amount = min(amount, line.line_total - line.refunded_amount)
    if amount <= 0:
        return order
    return order_services.apply_refund(
        order,
        lines=[(line.pk, 0, amount)],
        amount=amount,
        restock=False,
        reference=f"r{order.pk}-{n}",
    )


def check(customer: Customer) -> None:
    balance = selectors.balance_of(customer)
    assert balance == ledger.derived_balance(customer.pk)
    assert balance >= 0
    for entry in PointsEntry.objects.filter(customer=customer, points__lt=0):
        backed = PointsAllocation.objects.filter(debit=entry).aggregate(s=Sum("points"))["s"]
        assert backed == -entry.points
    for entry in PointsEntry.objects.filter(customer=customer, points__gt=0):
        used = PointsAllocation.objects.filter(lot=entry).aggregate(s=Sum("points"))["s"] or 0
        assert used <= entry.points
    for order_id in set(
        PointsEntry.objects.filter(customer=customer, order__isnull=False).values_list(
            "order_id", flat=True
        )
    ):
        figures = ledger.order_figures(order_id)
        assert 0 <= figures["taken"] <= figures["earned"]
        assert 0 <= figures["returned"] <= figures["spent"]


def test_paid_order_earns_a_refund_takes_back_in_proportion(bound: Merchant) -> None:
    LoyaltySettings.objects.create(earn_per_yuan=2, first_order_points=0)
    shop = make_shop(bound, price=5_000)
    customer = make_customer(bound)
    order = pay(place(shop, customer, quantity=2))  # ¥100 paid
    dispatch_pending()
    dispatch_pending()  # a replay writes nothing
    assert selectors.balance_of(customer) == 200
    refund(order, 2_500, 1)  # a quarter back
    dispatch_pending()
    assert ledger.order_figures(order.pk) == {"earned": 200, "taken": 50, "spent": 0, "returned": 0}
    refund(order, 10_000, 2)  # the rest
    dispatch_pending()
    assert ledger.order_figures(order.pk)["taken"] == 200
    assert selectors.balance_of(customer) == 0
    check(customer)


def test_points_pay_at_checkout_and_come_back_when_cancelled_unpaid(bound: Merchant) -> None:
    LoyaltySettings.objects.create(fen_per_point=10, max_redeem_bp=5_000)
    shop = make_shop(bound, price=5_000)
    customer = make_customer(bound)
    services.award(customer, 1_000, reason="gift", reference="g1")
    order = place(shop, customer, quantity=2, points=800)  # at most ¥50 = 500 points
    assert order.total == 10_000 - 5_000
    assert ledger.order_figures(order.pk)["spent"] == 500
    assert selectors.balance_of(customer) == 500
    (points,) = [d for d in order.pricing["discounts"] if d["code"] == "points"]
    assert points["note"]["params"] == {"points": 500, "amount": 5_000}
    order_services.cancel(order, actor=customer, reason="changed my mind")
    dispatch_pending()
    assert selectors.balance_of(customer) == 1_000
    # the returned points keep the expiry of the lot they came from
    returned = PointsEntry.objects.get(kind=Kind.REFUND_REDEEM)
    assert returned.expires_at == PointsEntry.objects.get(kind=Kind.AWARD).expires_at
    check(customer)


def test_short_balance_is_refused_on_points_and_nothing_is_written(bound: Merchant) -> None:
    shop = make_shop(bound, price=5_000)
    customer = make_customer(bound)
    services.award(customer, 10, reason="gift", reference="g1")
    from siyu.core.errors import InvalidInput

    with pytest.raises(InvalidInput) as caught:
        place(shop, customer, points=11)
    assert caught.value.fields == {"points": "You have only 10 points."}
    assert not Order.objects.exists()
    assert PointsEntry.objects.count() == 1


def test_first_order_points_and_tier_upgrade_on_the_timeline(bound: Merchant) -> None:
    LoyaltySettings.objects.create(first_order_points=100, earn_per_yuan=1)
    MemberTier.objects.create(name="Silver", rank=1, basis="spend", threshold=0)
    gold = MemberTier.objects.create(
        name="Gold", rank=2, basis="spend", threshold=10_000, points_multiplier_bp=20_000
    )
    shop = make_shop(bound, price=10_000)
    customer = make_customer(bound)
    first = pay(place(shop, customer, quantity=1))
    dispatch_pending()
    assert CustomerTier.objects.get(customer=customer).tier_id == gold.pk
    assert selectors.balance_of(customer) == 100 + 100
    second = pay(place(shop, customer, quantity=1))
    dispatch_pending()
    # Gold doubles the points; the first-order points come once
    assert ledger.order_figures(second.pk)["earned"] == 200
    assert PointsEntry.objects.filter(kind=Kind.FIRST_ORDER).count() == 1
    notes = TimelineEntry.objects.filter(customer=customer, kind="note")
    assert notes.count() == 1
    assert notes.get().data["to_tier"] == "Gold"
    refund(first, 10_000, 1)
    refund(second, 10_000, 1)
    dispatch_pending()
    row = CustomerTier.objects.get(customer=customer)
    assert row.tier is not None
    assert row.tier.name == "Silver"
    assert TimelineEntry.objects.filter(customer=customer, kind="note").count() == 2
    check(customer)


def test_the_member_discount_is_explained_with_the_tier_name(bound: Merchant) -> None:
    gold = MemberTier.objects.create(
        name="Gold", rank=1, basis="spend", threshold=0, discount_bp=1_000
    )
    customer = make_customer(bound)
    CustomerTier.objects.create(customer=customer, tier=gold, evaluated_at=clock.now())
    shop = make_shop(bound, price=5_000)
    order = place(shop, customer, quantity=1)
    assert order.total == 4_500
    (tier,) = [d for d in order.pricing["discounts"] if d["code"] == "tier"]
    assert tier["note"] == {
        "key": "Member %(tier)s: %(percent)s%% off",
        "params": {"tier": "Gold", "percent": "10"},
    }


def test_the_nightly_run_moves_customers_whose_spend_left_the_window(bound: Merchant) -> None:
    from siyu.loyalty import tiers

    MemberTier.objects.create(name="Gold", rank=1, basis="spend", threshold=5_000)
    shop = make_shop(bound, price=5_000)
    customer = make_customer(bound)
    pay(place(shop, customer, quantity=1))
    dispatch_pending()
    assert selectors.customer_tier(customer) is not None
    assert tiers.evaluate_all(clock.now()) == 0
    assert tiers.evaluate_all(clock.now() + timedelta(days=366)) == 1
    assert selectors.customer_tier(customer) is None


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("pay"), st.integers(0, 2)),
        st.tuples(st.just("refund"), st.integers(0, 2), st.integers(1, 6_000)),
        st.tuples(st.just("complete"), st.integers(0, 2)),
        st.tuples(st.just("cancel"), st.integers(0, 2)),
        st.tuples(st.just("expire"), st.integers(0, 800)),
        st.tuples(st.just("spend"), st.integers(1, 400)),
    ),
    max_size=12,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    ops=OPS,
    start=st.integers(0, 600),
    spends=st.lists(st.integers(0, 500), min_size=3, max_size=3),
)
def test_any_sequence_of_order_events_keeps_the_ledger_sound(
    merchant: Merchant, ops: list[tuple[Any, ...]], start: int, spends: list[int]
) -> None:
    with merchant_context(merchant):
        if not LoyaltySettings.objects.exists():
            LoyaltySettings.objects.create(
                expiry=LoyaltySettings.Expiry.DAYS, expiry_days=365, first_order_points=30
            )
        shop = make_shop(merchant, price=3_000)
        customer = make_customer(merchant)
        staff = Actor.system(merchant, label="test staff")
        owner = actor_for(merchant, Role.OWNER)
        if start:
            services.award(customer, start, reason="gift", reference=f"start:{customer.pk}")
        orders: list[Order] = []
        for want in spends:
            usable = min(want, selectors.available_of(customer))
            orders.append(place(shop, customer, quantity=2, points=usable))
        now = clock.now()
        for n, op in enumerate(ops):
            order = (
                Order.objects.get(pk=orders[op[1] % len(orders)].pk)
                if op[0] != "expire" and op[0] != "spend"
                else None
            )
            with contextlib.suppress(DomainError):  # a refused step changes nothing
                if op[0] == "pay" and order is not None and order.status == "pending_payment":
                    pay(order)
                elif op[0] == "refund" and order is not None and order.paid_at is not None:
                    refund(order, op[2], n)
                elif op[0] == "complete" and order is not None and order.status == "paid":
                    order = order_services.mark_ready_for_pickup(staff, order)
                    order_services.verify_pickup(staff, order, order.pickup_code)
                elif op[0] == "cancel" and order is not None and order.status == "pending_payment":
                    order_services.cancel(order, actor=customer, reason="test")
                elif op[0] == "expire":
                    services.expire_due(now + timedelta(days=op[1]))
                elif op[0] == "spend":
                    balance = selectors.available_of(customer)
                    if balance:
                        services.adjust(owner, customer, -min(op[1], balance), reason="spent")
            dispatch_pending()
            check(customer)
