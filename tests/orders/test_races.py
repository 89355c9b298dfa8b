"""Concurrency rules of orders, proven with real database connections (PostgreSQL).

Each thread has its own connection. Interleavings that matter are forced with
events (one side holds the order's row lock while the other arrives), so the
outcome does not depend on timing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection, connections

from siyu.core import clock
from siyu.core.errors import DomainError
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_merchant
from siyu.inventory import services as inventory
from siyu.inventory.models import StockLevel, StockReservation
from siyu.inventory.testing import ledger_problems
from siyu.orders import services
from siyu.orders.models import Order, OrderEvent, OrderLine
from siyu.orders.testing import make_customer, make_shop

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="a real race between database connections needs PostgreSQL",
    ),
    pytest.mark.django_db(transaction=True),
]


def run_together(*calls: Callable[[], str]) -> list[str]:
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(call: Callable[[], str]) -> None:
        try:
            result = call()
        except DomainError as exc:
            result = exc.code
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return sorted(outcomes)


def counts(shop):
    level = StockLevel.unscoped.get(location=shop.location, sku=shop.sku)
    return level.on_hand, level.reserved


def test_fifty_buyers_for_ten_in_stock_make_exactly_ten_paid_orders():
    merchant = make_merchant()
    shop = make_shop(merchant, quantity=10)
    customers = [make_customer(merchant) for _ in range(50)]
    start = threading.Barrier(50, timeout=30)

    def buyer(customer) -> Callable[[], str]:
        def buy() -> str:
            start.wait()
            with merchant_context(merchant):
                order = services.checkout(
                    customer, fulfilment="pickup", store_id=shop.store.pk, items=[(shop.sku.pk, 1)]
                )
                services.mark_paid(order, payment_reference=f"PAY-{order.pk}", paid_at=clock.now())
            return "paid"

        return buy

    outcomes = run_together(*(buyer(c) for c in customers))
    assert outcomes.count("paid") == 10
    assert outcomes.count("out_of_stock") == 40
    assert counts(shop) == (0, 0)
    # the refused checkouts left nothing behind: no order, line, timeline or reservation
    assert Order.unscoped.count() == 10
    assert Order.unscoped.filter(status="paid").count() == 10
    assert OrderLine.unscoped.count() == 10
    assert OrderEvent.unscoped.count() == 20
    assert StockReservation.unscoped.filter(status="committed").count() == 10
    assert StockReservation.unscoped.count() == 10
    assert ledger_problems(merchant) == []


def overdue_order(merchant):
    shop = make_shop(merchant, quantity=5)
    customer = make_customer(merchant)
    with merchant_context(merchant):
        order = services.checkout(
            customer, fulfilment="pickup", store_id=shop.store.pk, items=[(shop.sku.pk, 2)]
        )
    Order.unscoped.filter(pk=order.pk).update(payment_deadline=clock.now() - timedelta(seconds=1))
    return shop, order


def test_a_payment_holding_the_order_wins_over_the_overdue_job(monkeypatch):
    merchant = make_merchant()
    shop, order = overdue_order(merchant)
    paying = threading.Event()
    job_done = threading.Event()
    real_commit = inventory.commit

    def commit_and_hold(reference: str) -> None:
        paying.set()  # the payment holds the order's row lock now
        job_done.wait(timeout=10)
        real_commit(reference)

    monkeypatch.setattr(inventory, "commit", commit_and_hold)

    def pay() -> str:
        with merchant_context(merchant):
            services.mark_paid(order, payment_reference="PAY-1", paid_at=clock.now())
        return "paid"

    def job() -> str:
        paying.wait(timeout=10)
        try:
            return f"cancelled {services.cancel_overdue()}"
        finally:
            job_done.set()

    assert run_together(pay, job) == ["cancelled 0", "paid"]
    order.refresh_from_db()
    assert order.status == "paid"
    assert counts(shop) == (3, 0)


def test_the_overdue_job_holding_the_order_wins_over_a_payment(monkeypatch):
    merchant = make_merchant()
    shop, order = overdue_order(merchant)
    cancelling = threading.Event()
    real_release = inventory.release

    def release_and_hold(reference: str, **kwargs) -> int:
        cancelling.set()  # the job holds the order's row lock now
        threading.Event().wait(0.5)  # give the payment time to queue on the lock
        return real_release(reference, **kwargs)

    monkeypatch.setattr(inventory, "release", release_and_hold)

    def pay() -> str:
        cancelling.wait(timeout=10)
        with merchant_context(merchant):
            services.mark_paid(order, payment_reference="PAY-1", paid_at=clock.now())
        return "paid"

    def job() -> str:
        return f"cancelled {services.cancel_overdue()}"

    assert run_together(pay, job) == ["cancelled 1", "order_cancelled"]
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert order.paid_at is None
    assert counts(shop) == (5, 0)


def test_payments_and_the_overdue_job_racing_freely_never_both_win():
    merchant = make_merchant()
    start = threading.Barrier(2, timeout=10)
    for _round in range(8):
        shop, order = overdue_order(merchant)

        def pay(order=order) -> str:
            start.wait()
            with merchant_context(merchant):
                services.mark_paid(order, payment_reference=f"PAY-{order.pk}", paid_at=clock.now())
            return "paid"

        def job() -> str:
            start.wait()
            return f"cancelled {services.cancel_overdue()}"

        outcome = run_together(pay, job)
        order.refresh_from_db()
        assert outcome in (["cancelled 0", "paid"], ["cancelled 1", "order_cancelled"])
        if outcome[1] == "paid":
            assert (order.status, counts(shop)) == ("paid", (3, 0))
        else:
            assert (order.status, counts(shop)) == ("cancelled", (5, 0))
    assert ledger_problems(merchant) == []


def test_the_same_order_paid_twice_at_once_sells_its_stock_once():
    merchant = make_merchant()
    shop = make_shop(merchant, quantity=5)
    customer = make_customer(merchant)
    with merchant_context(merchant):
        order = services.checkout(
            customer, fulfilment="pickup", store_id=shop.store.pk, items=[(shop.sku.pk, 2)]
        )
    start = threading.Barrier(3, timeout=10)

    def pay(reference: str) -> Callable[[], str]:
        def call() -> str:
            start.wait()
            with merchant_context(merchant):
                services.mark_paid(order, payment_reference=reference, paid_at=clock.now())
            return "paid"

        return call

    outcomes = run_together(pay("PAY-1"), pay("PAY-1"), pay("PAY-2"))
    assert outcomes.count("order_already_paid") in (1, 2)
    assert outcomes.count("paid") == 3 - outcomes.count("order_already_paid")
    order.refresh_from_db()
    assert order.status == "paid"
    assert counts(shop) == (3, 0)
    assert OrderEvent.unscoped.filter(order=order, kind="paid").count() == 1
    assert ledger_problems(merchant) == []
