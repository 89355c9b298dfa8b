"""Concurrency of the centre's withdrawals on PostgreSQL: one client key, one withdrawal."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection

from siyu.core import clock
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_merchant
from siyu.distribution import centre_services, selectors, services
from siyu.distribution.models import Withdrawal, WithdrawalKey
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


def test_ten_concurrent_retries_of_one_request_withdraw_once():
    merchant = make_merchant()
    set_default_rate(merchant, 1000)
    distributor = make_distributor(merchant)
    distributed_order(
        merchant, distributor, status="completed", shop=make_shop(merchant, price=50_000)
    )
    services.settle_merchant(merchant, now=clock.now() + timedelta(days=8))
    start = threading.Barrier(10, timeout=30)
    made: list[int] = []

    def request() -> str:
        start.wait()
        with merchant_context(merchant):
            w = centre_services.request_withdrawal_once(distributor.pk, 1000, "tap-1")
        made.append(w.pk)
        return "requested"

    outcomes = run_together(*([request] * 10))
    assert outcomes.count("requested") == 10  # every retry answers…
    assert len(set(made)) == 1  # …the same withdrawal
    assert Withdrawal.unscoped.filter(distributor=distributor).count() == 1
    assert WithdrawalKey.unscoped.count() == 1
    with merchant_context(merchant):
        b = selectors.balances(distributor)
    assert (b.held, b.available) == (1000, 4000)
