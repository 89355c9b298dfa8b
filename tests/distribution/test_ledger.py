"""The commission ledger through the real order and refund events."""

from __future__ import annotations

from datetime import timedelta

import pytest

from siyu.catalog.testing import make_category
from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.models import ConsumerFailure, DomainEvent
from siyu.core.outbox import dispatch_pending
from siyu.core.tenancy import merchant_context
from siyu.distribution import selectors, services
from siyu.distribution.consumers import order_commission
from siyu.distribution.models import CommissionEntry
from siyu.distribution.testing import (
    distributed_order,
    ledger,
    make_distributor,
    set_default_rate,
)
from siyu.orders import services as orders
from siyu.orders.models import OrderLine
from siyu.orders.testing import make_customer, make_shop

pytestmark = pytest.mark.django_db


def refund(order, amount, reference, *, quantity=0):
    line = OrderLine.unscoped.filter(order=order).get()
    with merchant_context(order.merchant):
        orders.apply_refund(
            order,
            lines=[(line.pk, quantity, amount)],
            amount=amount,
            restock=False,
            reference=reference,
        )
    dispatch_pending()


def later(days):
    return clock.now() + timedelta(days=days)


@pytest.fixture
def seller(bound):
    set_default_rate(bound, 1000)  # 10 %
    return make_distributor(bound)


def test_a_paid_order_earns_pending_commission_once(bound, seller):
    order = distributed_order(bound, seller, shop=make_shop(bound, price=2999))
    assert ledger(order) == [(seller.pk, 1, "pending", 299, False)]
    paid = DomainEvent.unscoped.get(event_type="orders.order.paid")
    with merchant_context(bound):
        order_commission(paid)  # a replayed paid event adds nothing
    assert len(ledger(order)) == 1
    assert not ConsumerFailure.objects.exists()
    event = DomainEvent.unscoped.get(event_type="distribution.commission.recorded")
    assert event.payload["amount"] == 299
    b = selectors.balances(seller)
    assert (b.earned, b.pending, b.settled, b.available) == (299, 299, 0, 0)


def test_a_refund_before_settlement_reverses_its_share_and_the_rest_settles(bound, seller):
    order = distributed_order(bound, seller, status="completed", shop=make_shop(bound, price=3000))
    refund(order, 1000, "R1")
    refund(order, 1000, "R1")  # the same refund again: nothing more
    assert ledger(order) == [
        (seller.pk, 1, "pending", 300, False),
        (seller.pk, 1, "reversed", -100, False),
    ]
    assert services.settle_merchant(bound, now=later(6)) == 0  # the return window (7 days)
    assert services.settle_merchant(bound, now=later(8)) == 1
    assert services.settle_merchant(bound, now=later(9)) == 0
    assert ledger(order)[-1] == (seller.pk, 1, "settled", 200, False)
    b = selectors.balances(seller)
    assert (b.earned, b.pending, b.settled, b.available) == (200, 0, 200, 200)


def test_a_refund_after_settlement_is_a_negative_entry_against_settled_money(bound, seller):
    order = distributed_order(bound, seller, status="completed", shop=make_shop(bound, price=3000))
    services.settle_merchant(bound, now=later(8))
    refund(order, 3000, "R-ALL", quantity=1)
    assert ledger(order) == [
        (seller.pk, 1, "pending", 300, False),
        (seller.pk, 1, "settled", 300, False),
        (seller.pk, 1, "reversed", -300, True),
    ]
    b = selectors.balances(seller)
    assert (b.earned, b.pending, b.settled) == (0, 0, 0)


def test_an_unpaid_or_unattributed_order_earns_nothing(bound, seller):
    unpaid = distributed_order(bound, seller, status="pending_payment")
    plain = distributed_order(bound, seller, status="paid")
    CommissionEntry.unscoped.filter(order=plain).delete()  # as if it had no distributor
    assert ledger(unpaid) == []


def test_self_purchase_earns_only_when_switched_on(bound, seller):
    own = distributed_order(bound, seller, customer=seller.customer)
    assert ledger(own) == []
    with merchant_context(bound):
        services.update_settings(Actor.system(bound), {"self_purchase": True})
    again = distributed_order(
        bound, seller, customer=seller.customer, shop=make_shop(bound, price=1000)
    )
    assert ledger(again) == [(seller.pk, 1, "pending", 100, False)]


def test_the_second_level_earns_when_switched_on_and_never_a_third(bound, seller):
    with merchant_context(bound):
        services.update_settings(
            Actor.system(bound), {"second_level": True, "second_level_rate_bp": 200}
        )
    child = make_distributor(bound, invited_by=seller)
    grandchild = make_distributor(bound, invited_by=child)
    order = distributed_order(bound, grandchild, shop=make_shop(bound, price=10_000))
    assert ledger(order) == [
        (grandchild.pk, 1, "pending", 1000, False),
        (child.pk, 2, "pending", 200, False),
    ]


def test_category_and_product_rules_win_over_the_default(bound, seller):
    drinks = make_category(bound, "Drinks")
    coffee = make_category(bound, "Coffee", parent=drinks)
    shop = make_shop(bound, price=10_000, category_id=coffee.pk)
    other = make_shop(bound, price=10_000)
    system = Actor.system(bound)
    services.set_rule(system, scope="category", kind="percent", rate_bp=500, category_id=drinks.pk)
    a = distributed_order(bound, seller, shop=shop)
    services.set_rule(
        system, scope="product", kind="fixed", fixed_fen=120, product_id=shop.product.pk
    )
    b = distributed_order(bound, seller, shop=shop, quantity=2)
    c = distributed_order(bound, seller, shop=other)
    assert [ledger(o)[0][3] for o in (a, b, c)] == [500, 240, 1000]
    # a rule changed after payment does not rewrite what the order earned
    services.set_rule(
        system, scope="product", kind="fixed", fixed_fen=999, product_id=shop.product.pk
    )
    refund(b, 10_000, "R-B", quantity=1)
    assert [e[3] for e in ledger(b)] == [240, -120]


def test_a_suspended_distributor_earns_nothing_on_new_orders(bound, seller):
    services.decide(Actor.system(bound), seller.pk, "suspended", reason="fraud check")
    order = distributed_order(bound, seller)
    assert ledger(order) == []


def test_settling_is_per_merchant_and_leaves_other_merchants_alone(other_merchant, bound, seller):
    set_default_rate(other_merchant, 500)
    theirs = make_distributor(other_merchant)
    with merchant_context(other_merchant):
        services.update_settings(Actor.system(other_merchant), {"settlement_delay_days": 30})
        other_order = distributed_order(other_merchant, theirs, status="completed")
    mine = distributed_order(bound, seller, status="completed")
    assert services.settle_due(now=later(8)) == 1
    assert ledger(mine)[-1][2] == "settled"
    assert [e[2] for e in ledger(other_order)] == ["pending"]
    assert services.settle_due(now=later(31)) == 1
    assert [e[2] for e in ledger(other_order)] == ["pending", "settled"]


def test_a_customer_who_is_not_a_distributors_customer_is_not_attributed(bound, seller):
    customer = make_customer(bound)
    assert selectors.distributor_for_checkout(customer) is None
    assert services.bind(customer, seller.share_code) is True
    assert selectors.distributor_for_checkout(customer) == seller.pk


def test_a_refund_consumed_before_the_payment_only_makes_the_pending_entry_smaller(bound, seller):
    order = distributed_order(bound, seller, shop=make_shop(bound, price=3000))
    CommissionEntry.unscoped.filter(order=order).delete()  # as if the paid event had waited
    line = OrderLine.unscoped.get(order=order)
    with merchant_context(bound):
        orders.apply_refund(
            order, lines=[(line.pk, 0, 1000)], amount=1000, restock=False, reference="EARLY"
        )
        assert services.sync_order_commission(order.pk, cause="EARLY") == 0  # nothing yet
        assert services.sync_order_commission(order.pk, cause=services.PAID) == 200
    assert ledger(order) == [(seller.pk, 1, "pending", 200, False)]


def test_a_rule_set_after_payment_never_reaches_back_to_the_order(bound):
    distributor = make_distributor(bound)
    order = distributed_order(bound, distributor, shop=make_shop(bound, price=3000))
    assert ledger(order) == []  # no rule when it was paid
    set_default_rate(bound, 1000)
    refund(order, 1000, "LATE")
    assert ledger(order) == []
