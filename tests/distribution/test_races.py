"""Concurrency of distribution on PostgreSQL: withdrawals never overdraw."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection

from siyu.core import clock
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_merchant
from siyu.distribution import selectors, services
from siyu.distribution.models import Withdrawal
from siyu.distribution.testing import distributed_order, make_distributor, set_default_rate
from siyu.orders.testing import make_shop
from tests.orders.test_races import run_together

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="a real race between database connections needs PostgreSQL",
    ),
    pytest.mark.django_db(transaction=True),
]


def test_twenty_concurrent_requests_never_withdraw_more_than_is_settled():
    merchant = make_merchant()
    set_default_rate(merchant, 1000)
    distributor = make_distributor(merchant)
    distributed_order(
        merchant, distributor, status="completed", shop=make_shop(merchant, price=50_000)
    )
    services.settle_merchant(merchant, now=clock.now() + timedelta(days=8))
    start = threading.Barrier(20, timeout=30)

    def request() -> str:
        start.wait()
        with merchant_context(merchant):
            services.request_withdrawal(distributor.pk, 1000)
        return "requested"

    outcomes = run_together(*([request] * 20))
    assert outcomes.count("requested") == 5  # ¥50.00 settled, ¥10.00 each
    assert outcomes.count("invalid") == 15
    assert Withdrawal.unscoped.filter(distributor=distributor).count() == 5
    with merchant_context(merchant):
        assert selectors.balances(distributor).available == 0
