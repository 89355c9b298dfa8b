"""The sandbox provider: its pay page, its records, and how it sends and retries notifications."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from siyu.core.tenancy import merchant_context
from siyu.orders.models import Order
from siyu.orders.testing import make_order, make_shop
from siyu.payments.gateways.sandbox import SandboxGateway
from siyu.payments.models import Payment, SandboxNotification, SandboxTransaction
from siyu.payments.sandbox import provider, signing
from siyu.payments.tasks import sweep_sandbox_notifications
from siyu.payments.testing import pay, start, token_of
from siyu.webhooks.testing import Receiver, Reply

NS = SandboxNotification.Status


@pytest.fixture
def order(merchant):
    return make_order(merchant, shop=make_shop(merchant, price=1234))


@pytest.fixture
def payment(order):
    return start(order)


def page(payment, language="en"):
    return Client().get(payment.pay_url, headers={"Accept-Language": language})


# --- the pay page -------------------------------------------------------------------------------------


def test_the_pay_page_shows_merchant_amount_and_the_sandbox_warning(merchant, order, payment):
    answer = page(payment)
    html = answer.content.decode()
    assert answer.status_code == 200
    assert "Sandbox — no real money" in html
    assert "Lucky Coffee" in html
    assert "¥12.34" in html
    assert f"Order {order.number}" in html
    assert 'value="pay"' in html
    assert 'value="fail"' in html
    assert answer["Referrer-Policy"] == "same-origin"  # "no-referrer" breaks the form's CSRF
    assert "no-store" in answer["Cache-Control"] or "max-age=0" in answer["Cache-Control"]
    assert 'name="viewport"' in html


def test_the_pay_page_speaks_chinese(payment):
    html = page(payment, "zh-hans").content.decode()
    assert "模拟支付" in html
    assert "不涉及真实资金" in html
    assert "支付 ¥12.34" in html


def test_paying_records_it_notifies_and_returns_to_the_shop(
    merchant, payment, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        answer = Client().post(payment.pay_url, {"action": "pay"})
    assert answer.status_code == 302
    assert answer["Location"] == "http://127.0.0.1:9/s/shop/orders/return/"
    tx = SandboxTransaction.unscoped.get()
    assert tx.status == SandboxTransaction.Status.PAID
    note = SandboxNotification.unscoped.get()
    body = json.loads(note.body)
    assert body["type"] == "payment.succeeded"
    assert body["out_trade_no"] == payment.out_trade_no
    assert body["transaction_id"] == tx.transaction_id
    assert (body["amount"], body["currency"]) == (1234, "CNY")
    assert body["id"] == note.notification_id
    # the first attempt went out at once (to a closed port here): recorded, retried later
    note.refresh_from_db()
    assert note.attempts == 1
    assert "ConnectError" in note.last_error
    assert note.status == NS.PENDING
    # a double click pays nothing twice
    Client().post(payment.pay_url, {"action": "pay"})
    assert SandboxNotification.unscoped.count() == 1


def test_failing_notifies_a_failure(payment):
    answer = Client().post(payment.pay_url, {"action": "fail"})
    assert answer.status_code == 302
    assert SandboxTransaction.unscoped.get().status == SandboxTransaction.Status.FAILED
    assert json.loads(SandboxNotification.unscoped.get().body)["type"] == "payment.failed"
    html = page(payment).content.decode()
    assert "The payment failed" in html
    assert 'value="pay"' not in html


def test_after_expiry_the_page_only_closes(merchant, payment):
    SandboxTransaction.unscoped.update(expires_at=timezone.now() - timedelta(seconds=1))
    html = page(payment).content.decode()
    assert "The time to pay has passed" in html
    assert 'value="pay"' not in html
    assert 'value="close"' in html
    refused = Client().post(payment.pay_url, {"action": "pay"})
    assert refused.status_code == 409
    assert SandboxTransaction.unscoped.get().status == SandboxTransaction.Status.OPEN
    closed = Client().post(payment.pay_url, {"action": "close"})
    assert closed.status_code == 302
    assert SandboxTransaction.unscoped.get().status == SandboxTransaction.Status.CLOSED
    assert SandboxNotification.unscoped.count() == 0


def test_an_unknown_token_is_404_and_a_strange_action_422(payment):
    assert Client().get("/sandbox/pay/not-a-token/").status_code == 404
    assert Client().post(payment.pay_url, {"action": "refund"}).status_code == 422
    assert SandboxTransaction.unscoped.get().status == SandboxTransaction.Status.OPEN


def test_a_post_without_csrf_token_is_refused(payment):
    client = Client(enforce_csrf_checks=True)
    assert client.post(payment.pay_url, {"action": "pay"}).status_code == 403
    assert SandboxTransaction.unscoped.get().status == SandboxTransaction.Status.OPEN


# --- the provider's records ----------------------------------------------------------------------------


def test_transactions_and_refunds_are_idempotent_per_the_merchants_numbers(merchant, order):
    payment = pay(order)
    tx = SandboxTransaction.unscoped.get()
    again = provider.open_transaction(
        merchant,
        out_trade_no=payment.out_trade_no,
        amount=payment.amount,
        currency="CNY",
        description="again",
        notify_url="http://x/",
        return_url="",
        expires_at=None,
    )
    assert again.pk == tx.pk
    with pytest.raises(provider.SandboxRefusal):
        provider.open_transaction(
            merchant,
            out_trade_no=payment.out_trade_no,
            amount=1,
            currency="CNY",
            description="",
            notify_url="http://x/",
            return_url="",
            expires_at=None,
        )
    with merchant_context(merchant):
        first = provider.refund(out_trade_no=payment.out_trade_no, out_refund_no="R1", amount=1000)
        repeat = provider.refund(out_trade_no=payment.out_trade_no, out_refund_no="R1", amount=1000)
        assert repeat.pk == first.pk
        with pytest.raises(provider.SandboxRefusal, match="exceeds"):
            provider.refund(out_trade_no=payment.out_trade_no, out_refund_no="R2", amount=235)
        provider.refund(out_trade_no=payment.out_trade_no, out_refund_no="R3", amount=234)
    assert SandboxTransaction.unscoped.get().refunded == 1234


def test_an_unpaid_transaction_cannot_be_refunded(merchant, payment):
    with merchant_context(merchant), pytest.raises(provider.SandboxRefusal, match="not paid"):
        provider.refund(out_trade_no=payment.out_trade_no, out_refund_no="R9", amount=1)


def test_query_reads_the_providers_transaction(merchant, order):
    payment = start(order)
    assert SandboxGateway().query(payment).status == "pending"
    with merchant_context(merchant):
        provider.pay(token_of(payment))
    result = SandboxGateway().query(payment)
    assert (result.status, result.amount, result.provider_reference) == (
        "succeeded",
        1234,
        payment.provider_reference,
    )
    assert result.paid_at is not None


# --- sending notifications ----------------------------------------------------------------------------


@pytest.fixture
def receiver():
    started = []

    def make(replies):
        server = Receiver(replies).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


def paid_notification(merchant, payment, url):
    SandboxTransaction.unscoped.update(notify_url=url)
    with merchant_context(merchant):
        provider.pay(token_of(payment))
    return SandboxNotification.unscoped.get()


def test_the_notification_is_signed_and_retried_until_the_merchant_answers_2xx(
    merchant, payment, receiver
):
    server = receiver([Reply(500, b"busy"), Reply(200, b'{"code":"SUCCESS"}')])
    note = paid_notification(merchant, payment, server.url("/notify"))
    assert provider.send(note.pk) == NS.PENDING
    note.refresh_from_db()
    assert (note.attempts, note.last_status_code, note.last_error) == (1, 500, "busy")
    assert note.next_attempt_at > timezone.now()
    assert provider.send(note.pk) is None  # not due yet
    assert sweep_sandbox_notifications.call() == 0
    SandboxNotification.unscoped.update(next_attempt_at=timezone.now())
    assert sweep_sandbox_notifications.call() == 1  # due again: the sweep sends it
    note.refresh_from_db()
    assert (note.status, note.attempts, note.last_status_code) == (NS.DELIVERED, 2, 200)
    first, second = server.received
    assert first.body == second.body == note.body.encode()  # the same bytes every time
    assert first.header("Siyu-Sandbox-Notification") == note.notification_id
    for request in server.received:
        signing.verify(request.header(signing.SIGNATURE_HEADER), request.body, "sandbox-test-key")
    with pytest.raises(signing.SignatureError):
        signing.verify(first.header(signing.SIGNATURE_HEADER), first.body, "another-key")


def test_the_provider_gives_up_after_the_last_attempt(merchant, payment, receiver, caplog):
    server = receiver([Reply(503, b"down")])
    note = paid_notification(merchant, payment, server.url("/notify"))
    SandboxNotification.unscoped.filter(pk=note.pk).update(attempts=provider.MAX_ATTEMPTS - 1)
    assert provider.send(note.pk) == NS.FAILED
    note.refresh_from_db()
    assert (note.status, note.next_attempt_at) == (NS.FAILED, None)
    assert "gave up" in caplog.text
    assert Payment.unscoped.get().status == Payment.Status.PENDING  # the merchant never heard


def test_an_unreachable_merchant_is_an_attempt_with_the_error(merchant, payment):
    note = paid_notification(merchant, payment, "http://127.0.0.1:9/api/v1/payments/notify/sandbox")
    assert provider.send(note.pk) == NS.PENDING
    note.refresh_from_db()
    assert note.last_status_code is None
    assert "ConnectError" in note.last_error
    assert Order.unscoped.get().status == Order.Status.PENDING_PAYMENT
