"""Concurrent points writes on PostgreSQL: a customer's account row is locked by every write,
so concurrent spends never take the balance below zero, the balance stays the sum of the
entries, and an award retried concurrently with one reference is written once.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection

from siyu.core.errors import InvalidInput
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import actor_for, make_merchant
from siyu.core.testing import run_in_pool as pool
from siyu.customers.testing import make_customer
from siyu.loyalty import ledger, selectors, services
from siyu.loyalty.models import PointsEntry

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="a real race between database connections needs PostgreSQL",
    ),
    pytest.mark.django_db(transaction=True),
]

THREADS = 20


def run_in_pool(calls: list[Callable[[], object]]) -> list[object]:
    return pool(calls, threads=THREADS, timeout=30)


def test_concurrent_spends_never_overdraw() -> None:
    merchant = make_merchant()
    customer = make_customer(merchant)
    owner = actor_for(merchant, Role.OWNER)
    with merchant_context(merchant):
        services.award(customer, 1_000, reason="gift", reference="start")

    def spend() -> object:
        with merchant_context(merchant):
            return services.adjust(owner, customer, -30, reason="race")

    outcomes = run_in_pool([spend for _n in range(60)])
    spent = [o for o in outcomes if isinstance(o, PointsEntry)]
    refused = [o for o in outcomes if isinstance(o, InvalidInput)]
    assert len(spent) == 33  # 33 × 30 = 990 of 1,000
    assert len(refused) == 27
    with merchant_context(merchant):
        assert selectors.balance_of(customer) == 10
        assert ledger.derived_balance(customer.pk) == 10


def test_one_award_reference_retried_concurrently_is_written_once() -> None:
    merchant = make_merchant()
    customers = [make_customer(merchant) for _n in range(3)]

    def award(n: int) -> Callable[[], object]:
        def call() -> object:
            with merchant_context(merchant):
                return services.award(
                    customers[n % 3], 10, reason="referral_inviter", reference=f"r:{n % 3}"
                )

        return call

    outcomes = run_in_pool([award(n) for n in range(60)])
    assert all(isinstance(o, PointsEntry) for o in outcomes), outcomes
    with merchant_context(merchant):
        assert PointsEntry.objects.count() == 3
        for customer in customers:
            assert selectors.balance_of(customer) == 10


def test_concurrent_checkouts_spending_points_never_overdraw() -> None:
    from siyu.orders.models import Order
    from siyu.orders.testing import make_shop
    from siyu.promotions import checkout as offers_checkout

    merchant = make_merchant()
    shop = make_shop(merchant, price=10_000, quantity=500)
    customer = make_customer(merchant)
    with merchant_context(merchant):
        services.award(customer, 1_000, reason="gift", reference="start")

    def place() -> object:
        with merchant_context(merchant):
            return offers_checkout.checkout(
                customer,
                choices=offers_checkout.Choices(points=300),
                fulfilment="pickup",
                store_id=shop.store.pk,
                items=[(shop.sku.pk, 1)],
            )

    outcomes = run_in_pool([place for _n in range(20)])
    placed = [o for o in outcomes if isinstance(o, Order)]
    refused = [o for o in outcomes if isinstance(o, InvalidInput)]
    assert len(placed) == 3  # 3 × 300 = 900 of 1,000
    assert len(refused) == 17
    assert all(set(o.fields) == {"points"} for o in refused)
    with merchant_context(merchant):
        assert Order.objects.count() == 3
        assert selectors.balance_of(customer) == 100
        assert ledger.derived_balance(customer.pk) == 100
