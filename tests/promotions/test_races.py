"""Concurrent claims on PostgreSQL: never more coupons than the quantity or the per-customer limit.

PostgreSQL here allows 100 connections, so 200 claims run from a pool of 40 threads (one
connection each), all released together by a barrier and claiming back to back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connection

from siyu.core.errors import Conflict, InvalidInput
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_merchant
from siyu.core.testing import run_in_pool as pool
from siyu.customers.testing import make_customer
from siyu.promotions import services
from siyu.promotions.models import Coupon, CouponTemplate
from siyu.promotions.testing import make_template

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="a real race between database connections needs PostgreSQL",
    ),
    pytest.mark.django_db(transaction=True),
]

THREADS = 40


def run_in_pool(calls: list[Callable[[], object]]) -> list[object]:
    return pool(calls, threads=THREADS, timeout=30)


def test_200_concurrent_claims_of_100_left_issue_exactly_100() -> None:
    merchant = make_merchant()
    template = make_template(merchant, quantity=100)
    customers = [make_customer(merchant) for _n in range(200)]

    def claim(customer: object) -> Callable[[], object]:
        def call() -> object:
            with merchant_context(merchant):
                return services.claim(template.pk, customer)  # type: ignore[arg-type]

        return call

    outcomes = run_in_pool([claim(c) for c in customers])
    issued = [o for o in outcomes if isinstance(o, Coupon)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(issued) == 100
    assert len(refused) == 100
    assert {o.code for o in refused} == {"sold_out"}
    with merchant_context(merchant):
        template.refresh_from_db()
        assert (template.remaining, template.issued_count) == (0, 100)
        assert Coupon.objects.filter(template=template).count() == 100
        assert Coupon.objects.filter(template=template).values("customer").distinct().count() == 100


def test_concurrent_claims_by_one_customer_respect_the_limit() -> None:
    merchant = make_merchant()
    template = make_template(merchant, quantity=50, per_customer_limit=3)
    customer = make_customer(merchant)

    def call() -> object:
        with merchant_context(merchant):
            return services.claim(template.pk, customer)

    outcomes = run_in_pool([call] * 40)
    kinds = Counter(type(o).__name__ for o in outcomes)
    assert kinds == {"Coupon": 3, "InvalidInput": 37}, kinds
    assert all("template_id" in o.fields for o in outcomes if isinstance(o, InvalidInput))
    with merchant_context(merchant):
        template.refresh_from_db()
        assert template.remaining == 47
        slots = sorted(Coupon.objects.filter(customer=customer).values_list("slot", flat=True))
        assert slots == [1, 2, 3]
        assert CouponTemplate.objects.get(pk=template.pk).issued_count == 3


def test_concurrent_claims_with_one_client_key_issue_one_coupon() -> None:
    merchant = make_merchant()
    template = make_template(merchant, quantity=50, per_customer_limit=5)
    customer = make_customer(merchant)

    def call() -> object:
        with merchant_context(merchant):
            return services.claim(template.pk, customer, client_key="double-tap")

    outcomes = run_in_pool([call] * 40)
    assert all(isinstance(o, Coupon) for o in outcomes), Counter(map(repr, outcomes))
    assert len({o.pk for o in outcomes if isinstance(o, Coupon)}) == 1
    with merchant_context(merchant):
        template.refresh_from_db()
        assert template.remaining == 49
