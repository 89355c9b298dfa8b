"""The same notification delivered by ten clients at once moves the order once (PostgreSQL)."""

from __future__ import annotations

import threading

import httpx
import pytest
from django.db import connection, connections

from siyu.core.tenancy import merchant_context
from siyu.inventory.models import StockMovement
from siyu.orders.models import Order, OrderEvent
from siyu.orders.testing import make_order
from siyu.payments import services
from siyu.payments.models import Payment, PaymentNotification, SandboxNotification
from siyu.payments.sandbox import provider
from siyu.payments.testing import start, token_of

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="a real race between database connections needs PostgreSQL",
    ),
    pytest.mark.django_db(transaction=True),
]

CLIENTS = 10


def paid_at_the_provider(merchant):
    order = make_order(merchant)
    payment = start(order)
    with merchant_context(merchant):
        provider.pay(token_of(payment))
    return order, SandboxNotification.unscoped.get()


def together(call):
    barrier = threading.Barrier(CLIENTS, timeout=10)
    results: list[str] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            barrier.wait()
            outcome = call()
        except Exception as exc:  # recorded: the assertion below shows it
            outcome = repr(exc)
        finally:
            connections.close_all()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(results)


def assert_moved_once(order):
    assert PaymentNotification.unscoped.count() == 1
    assert Payment.unscoped.filter(status=Payment.Status.SUCCEEDED).count() == 1
    assert OrderEvent.unscoped.filter(order_id=order.pk, kind="paid").count() == 1
    assert StockMovement.unscoped.filter(kind=StockMovement.Kind.SALE).count() == 1
    assert Order.unscoped.get(pk=order.pk).status == Order.Status.PAID


def test_ten_threads_handing_in_one_notification_pay_the_order_once(merchant):
    order, note = paid_at_the_provider(merchant)
    headers, body = provider.signed_headers(note), note.body.encode()

    def deliver() -> str:
        return services.handle_notification("sandbox", headers, body).result

    assert together(deliver) == ["duplicate"] * (CLIENTS - 1) + ["processed"]
    assert_moved_once(order)


def test_ten_http_deliveries_at_once_all_answer_success_and_pay_once(merchant, live_server):
    order, note = paid_at_the_provider(merchant)
    headers, body = provider.signed_headers(note), note.body.encode()
    url = f"{live_server.url}/api/v1/payments/notify/sandbox"

    def deliver() -> str:
        answer = httpx.post(url, content=body, headers=headers, timeout=30)
        return f"{answer.status_code} {answer.text}"

    assert together(deliver) == ['200 {"code":"SUCCESS"}'] * CLIENTS
    assert_moved_once(order)
