"""The sandbox end to end over real HTTP: the provider POSTs its notifications to a live server."""

from __future__ import annotations

import pytest
from django.test import Client

from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import actor_for
from siyu.orders.models import Order, OrderEvent
from siyu.orders.testing import make_order, make_shop
from siyu.payments import services
from siyu.payments.models import Payment, PaymentNotification, Refund, SandboxNotification
from siyu.payments.testing import start

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def public(live_server, settings):
    settings.PUBLIC_URL = live_server.url
    return live_server.url


def test_pay_in_the_sandbox_and_refund_over_real_http(merchant, public):
    order = make_order(merchant, shop=make_shop(merchant, price=2600), quantity=2)
    payment = start(order)
    pay_page = Client().get(payment.pay_url)
    assert pay_page.status_code == 200
    answer = Client().post(payment.pay_url, {"action": "pay"})
    assert answer.status_code == 302
    assert answer["Location"] == f"{public}/s/shop/orders/return/"
    # the provider's task POSTed the signed notification to the live server, which took it
    note = SandboxNotification.unscoped.get()
    assert (note.status, note.attempts, note.last_status_code) == ("delivered", 1, 200)
    assert Payment.unscoped.get().status == Payment.Status.SUCCEEDED
    assert Order.unscoped.get(pk=order.pk).status == Order.Status.PAID
    [received] = PaymentNotification.unscoped.all()
    assert received.notification_id == note.notification_id

    with merchant_context(merchant):
        refund = services.refund(
            actor_for(merchant, Role.FINANCE), order, reason="the customer changed their mind"
        )
    assert refund.status == Refund.Status.SUCCEEDED
    refund_note = SandboxNotification.unscoped.get(kind="refund.succeeded")
    assert (refund_note.status, refund_note.last_status_code) == ("delivered", 200)
    order = Order.unscoped.get(pk=order.pk)
    assert (order.refunded_total, order.refund_state) == (5200, Order.RefundState.FULL)
    assert OrderEvent.unscoped.filter(order_id=order.pk, kind="refunded").count() == 1
    assert Payment.unscoped.get().refunded_total == 5200


def test_a_failed_payment_over_real_http_leaves_the_order_waiting(merchant, public):
    order = make_order(merchant)
    payment = start(order)
    Client().post(payment.pay_url, {"action": "fail"})
    assert SandboxNotification.unscoped.get().status == "delivered"
    assert Payment.unscoped.get().status == Payment.Status.FAILED
    assert Order.unscoped.get(pk=order.pk).status == Order.Status.PENDING_PAYMENT
