"""Starting payments and handling the provider's notifications: verified, once, amounts checked."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.core.errors import Conflict, InvalidInput
from siyu.core.models import AuditEntry, DomainEvent
from siyu.core.tenancy import merchant_context
from siyu.inventory.models import StockMovement
from siyu.orders import services as order_services
from siyu.orders.models import Order, OrderEvent
from siyu.orders.testing import make_order, make_shop
from siyu.payments import services
from siyu.payments.gateways import UnknownGateway
from siyu.payments.gateways.base import NotificationKind
from siyu.payments.models import (
    Payment,
    PaymentNotification,
    Refund,
    SandboxNotification,
    SandboxTransaction,
)
from siyu.payments.sandbox import provider
from siyu.payments.testing import deliver_pending, pay, sandbox_notification, start, token_of

Status = Payment.Status


@pytest.fixture
def order(merchant):
    return make_order(merchant, shop=make_shop(merchant, price=1800), quantity=2)


def fresh(obj):
    obj.refresh_from_db()
    return obj


def paid_transitions(order) -> int:
    return OrderEvent.unscoped.filter(order_id=order.pk, kind="paid").count()


# --- start_payment -----------------------------------------------------------------------------


def test_start_payment_opens_a_sandbox_transaction_for_the_order_total(merchant, order):
    payment = start(order)
    assert (payment.status, payment.amount, payment.currency) == (Status.PENDING, 3600, "CNY")
    assert payment.expires_at == order.payment_deadline
    assert payment.pay_url == f"/sandbox/pay/{token_of(payment)}/"
    tx = SandboxTransaction.unscoped.get(out_trade_no=payment.out_trade_no)
    assert tx.transaction_id == payment.provider_reference
    assert tx.amount == 3600
    assert tx.notify_url == "http://127.0.0.1:9/api/v1/payments/notify/sandbox"
    assert tx.return_url == "http://127.0.0.1:9/s/shop/orders/return/"
    assert order.number in tx.description


def test_start_payment_reuses_the_open_payment_of_the_gateway(merchant, order):
    first = start(order)
    again = start(order, return_url="/s/shop/orders/other/")
    assert again.pk == first.pk
    assert again.pay_url == first.pay_url
    assert Payment.unscoped.count() == 1
    assert SandboxTransaction.unscoped.count() == 1


def test_only_orders_waiting_for_payment_within_their_deadline_can_be_paid(merchant, order):
    with merchant_context(merchant):
        Order.objects.filter(pk=order.pk).update(
            payment_deadline=timezone.now() - timedelta(seconds=1)
        )
    with pytest.raises(Conflict) as caught:
        start(order)
    assert caught.value.code == "payment_deadline_passed"
    cancelled = make_order(merchant, status="cancelled")
    with pytest.raises(Conflict) as caught:
        start(cancelled)
    assert caught.value.code == "not_payable"
    assert Payment.unscoped.count() == 0


@pytest.mark.parametrize(
    "url",
    [
        "",
        "//evil.example/x",
        "https://evil.example/s/shop/",
        "javascript:alert(1)",
        "/" + "x" * 400,
    ],
)
def test_the_return_url_stays_on_this_site(merchant, order, url):
    with pytest.raises(InvalidInput) as caught:
        start(order, return_url=url)
    assert "return_url" in caught.value.fields
    assert Payment.unscoped.count() == 0


def test_an_absolute_return_url_under_the_public_url_is_accepted(merchant, order):
    payment = start(order, return_url="http://127.0.0.1:9/s/shop/orders/1/")
    assert SandboxTransaction.unscoped.get(out_trade_no=payment.out_trade_no).return_url.endswith(
        "/s/shop/orders/1/"
    )


def test_an_unknown_or_disabled_gateway_is_refused(merchant, order, settings):
    with merchant_context(merchant), pytest.raises(UnknownGateway) as caught:
        services.start_payment(order, gateway="wechat", return_url="/s/x/")
    assert caught.value.status == 422
    assert "gateway" in caught.value.fields
    settings.PAYMENT_GATEWAYS = []
    with merchant_context(merchant), pytest.raises(UnknownGateway):
        services.start_payment(order, gateway="sandbox", return_url="/s/x/")


# --- the happy path and idempotency --------------------------------------------------------------


def test_paying_in_the_sandbox_pays_the_order_once(merchant, order):
    payment = pay(order)
    order = fresh(order)
    assert (payment.status, payment.paid_order) == (Status.SUCCEEDED, True)
    assert order.status == Order.Status.PAID
    assert order.payment_reference == payment.out_trade_no
    assert paid_transitions(order) == 1
    assert DomainEvent.unscoped.filter(event_type="payments.payment.succeeded").count() == 1
    assert AuditEntry.unscoped.filter(action="payments.payment.succeeded").count() == 1
    [record] = PaymentNotification.unscoped.all()
    assert (record.kind, record.payment_id, record.outcome) == (
        "payment.succeeded",
        payment.pk,
        "paid: the order is paid",
    )


def test_a_notification_replayed_ten_times_gives_one_payment_and_one_paid_transition(
    merchant, order
):
    payment = start(order)
    with merchant_context(merchant):
        provider.pay(token_of(payment))
    note = SandboxNotification.unscoped.get()
    results = []
    for _ in range(10):
        outcome = services.handle_notification(
            "sandbox", provider.signed_headers(note), note.body.encode()
        )
        results.append(outcome.result)
        assert outcome.acknowledgement.body == b'{"code":"SUCCESS"}'
    assert results == ["processed"] + ["duplicate"] * 9
    assert PaymentNotification.unscoped.count() == 1
    assert Payment.unscoped.filter(status=Status.SUCCEEDED).count() == 1
    assert paid_transitions(order) == 1
    assert fresh(order).status == Order.Status.PAID
    # the stock was sold once: one sale movement for the order's reservation
    assert StockMovement.unscoped.filter(kind=StockMovement.Kind.SALE).count() == 1
    assert DomainEvent.unscoped.filter(event_type="orders.order.paid").count() == 1


def test_a_second_notification_of_the_same_payment_changes_nothing(merchant, order):
    payment = pay(order)
    headers, body = sandbox_notification(payment)  # another id, same payment
    outcome = services.handle_notification("sandbox", headers, body)
    assert (outcome.result, outcome.message) == ("ignored", "already paid")
    assert paid_transitions(order) == 1
    assert PaymentNotification.unscoped.count() == 2


# --- refused notifications -------------------------------------------------------------------------


def assert_nothing_moved(order, payment):
    assert fresh(order).status == Order.Status.PENDING_PAYMENT
    assert fresh(payment).status == Status.PENDING
    assert PaymentNotification.unscoped.count() == 0
    assert not DomainEvent.unscoped.filter(event_type__startswith="payments.").exists()
    assert paid_transitions(order) == 0


def test_a_tampered_notification_is_refused_and_changes_nothing(merchant, order, caplog):
    payment = start(order)
    headers, body = sandbox_notification(payment, amount=1)
    tampered = body.replace(b'"amount":1,', b'"amount":3600,')
    assert tampered != body
    with pytest.raises(services.NotificationRefused) as caught:
        services.handle_notification("sandbox", headers, tampered)
    assert (caught.value.status, caught.value.code) == (400, "invalid_signature")
    assert "does not match" in caplog.text  # the reason is logged, not answered
    assert "does not match" not in caught.value.message
    assert_nothing_moved(order, payment)


def test_a_notification_signed_with_another_key_is_refused(merchant, order):
    payment = start(order)
    headers, body = sandbox_notification(payment, key="not-the-sandbox-key")
    with pytest.raises(services.NotificationRefused):
        services.handle_notification("sandbox", headers, body)
    assert_nothing_moved(order, payment)


def test_a_replayed_old_notification_outside_the_tolerance_is_refused(merchant, order, caplog):
    payment = start(order)
    headers, body = sandbox_notification(payment, timestamp=int(time.time()) - 3600)
    with pytest.raises(services.NotificationRefused):
        services.handle_notification("sandbox", headers, body)
    assert "away from now" in caplog.text
    assert_nothing_moved(order, payment)


def test_an_unsigned_or_unreadable_notification_is_refused(merchant, order):
    payment = start(order)
    _headers, body = sandbox_notification(payment)
    with pytest.raises(services.NotificationRefused) as caught:
        services.handle_notification("sandbox", {}, body)
    assert caught.value.code == "invalid_signature"
    for bad in (b"not json", b"[1, 2]", b'{"type": "payment.refunded"}'):
        headers, _body = sandbox_notification(payment)
        from siyu.payments.sandbox import signing

        headers[signing.SIGNATURE_HEADER] = signing.sign(bad, "sandbox-test-key", int(time.time()))
        with pytest.raises(services.NotificationRefused) as caught:
            services.handle_notification("sandbox", headers, bad)
        assert caught.value.code == "invalid_notification"
    assert_nothing_moved(order, payment)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", -1),
        ("amount", "3600"),
        ("amount", True),
        ("currency", "cny"),
        ("occurred_at", "yesterday"),
        ("occurred_at", "2026-01-01T00:00:00"),
        ("notification_id", ""),
    ],
)
def test_malformed_fields_are_refused(merchant, order, field, value):
    payment = start(order)
    headers, body = sandbox_notification(payment, **{field: value})
    with pytest.raises(services.NotificationRefused) as caught:
        services.handle_notification("sandbox", headers, body)
    assert caught.value.code == "invalid_notification"
    assert_nothing_moved(order, payment)


def test_an_amount_mismatch_is_refused_logged_and_the_order_is_not_moved(merchant, order, caplog):
    payment = start(order)
    headers, body = sandbox_notification(payment, amount=1)
    with pytest.raises(services.AmountMismatch) as caught:
        services.handle_notification("sandbox", headers, body)
    assert caught.value.status == 409
    assert "says 1 CNY, expected 3600 CNY" in caplog.text
    assert_nothing_moved(order, payment)
    headers, body = sandbox_notification(payment, currency="USD")
    with pytest.raises(services.AmountMismatch):
        services.handle_notification("sandbox", headers, body)
    assert_nothing_moved(order, payment)


def test_a_notification_for_an_unknown_payment_is_refused_and_logged(merchant, order, caplog):
    payment = start(order)
    payment.out_trade_no = "P20260101NOSUCHPAYMENT"
    headers, body = sandbox_notification(payment)
    with pytest.raises(services.UnknownPayment) as caught:
        services.handle_notification("sandbox", headers, body)
    assert caught.value.status == 404
    assert "unknown out_trade_no 'P20260101NOSUCHPAYMENT'" in caplog.text
    payment.refresh_from_db()
    assert_nothing_moved(order, payment)


# --- failures and late payments ------------------------------------------------------------------------


def test_a_failed_payment_leaves_the_order_waiting_and_the_customer_may_pay_again(merchant, order):
    first = start(order)
    with merchant_context(merchant):
        provider.fail(token_of(first))
    [outcome] = deliver_pending()
    assert outcome.message == "failed: the order still waits for payment"
    first = fresh(first)
    assert (first.status, first.failure_reason) == (Status.FAILED, "declined by the customer")
    assert fresh(order).status == Order.Status.PENDING_PAYMENT
    assert DomainEvent.unscoped.filter(event_type="payments.payment.failed").count() == 1
    second = pay(order)
    assert second.pk != first.pk
    assert second.out_trade_no != first.out_trade_no
    assert second.status == Status.SUCCEEDED
    assert fresh(order).status == Order.Status.PAID


def test_a_payment_after_the_order_was_cancelled_is_refunded_automatically(
    merchant, order, django_capture_on_commit_callbacks, caplog
):
    payment = start(order)
    with merchant_context(merchant):
        order_services.cancel(order, actor=None, reason="customer changed their mind")
        provider.pay(token_of(payment))  # the customer still had the pay page open
    with django_capture_on_commit_callbacks(execute=True):
        [outcome] = deliver_pending()
    assert outcome.message.startswith("paid, refunding automatically")
    payment = fresh(payment)
    assert (payment.status, payment.paid_order, payment.refunded_total) == (
        Status.SUCCEEDED,
        False,
        3600,
    )
    [refund] = Refund.unscoped.all()
    assert (refund.status, refund.amount, refund.automatic, refund.restock) == (
        Refund.Status.SUCCEEDED,
        3600,
        True,
        False,
    )
    assert refund.reason == "The order was cancelled before the payment arrived."
    assert SandboxTransaction.unscoped.get(out_trade_no=payment.out_trade_no).refunded == 3600
    order = fresh(order)
    assert order.status == Order.Status.CANCELLED
    assert order.refunded_total == 0
    assert paid_transitions(order) == 0
    assert "refunding automatically" in caplog.text
    # the provider's refund.succeeded notification, when it arrives, changes nothing more
    [refund_note] = SandboxNotification.unscoped.filter(kind="refund.succeeded")
    outcome = services.handle_notification(
        "sandbox", provider.signed_headers(refund_note), refund_note.body.encode()
    )
    assert (outcome.result, outcome.message) == ("ignored", "already refunded")
    assert fresh(payment).refunded_total == 3600


def test_a_second_payment_of_a_paid_order_is_refunded_automatically(
    merchant, order, django_capture_on_commit_callbacks
):
    first = start(order)
    headers, body = sandbox_notification(first, NotificationKind.PAYMENT_FAILED)
    services.handle_notification("sandbox", headers, body)  # we think the first one failed...
    second = pay(order)
    with merchant_context(merchant):
        provider.pay(token_of(first))  # ...but the customer paid it after all
    with django_capture_on_commit_callbacks(execute=True):
        deliver_pending()
    first, second = fresh(first), fresh(second)
    assert (second.paid_order, first.paid_order) == (True, False)
    assert first.refunded_total == 3600
    assert second.refunded_total == 0
    [refund] = Refund.unscoped.all()
    assert refund.payment_id == first.pk
    assert refund.reason.startswith("The order was already paid")
    assert fresh(order).status == Order.Status.PAID
    assert paid_transitions(order) == 1


def test_query_catches_up_a_lost_notification(merchant, order):
    from siyu.core.testing import actor_for

    payment = start(order)
    with merchant_context(merchant):
        provider.pay(token_of(payment))
        SandboxNotification.unscoped.update(status=SandboxNotification.Status.FAILED)  # lost
        payment = services.refresh_payment(actor_for(merchant), payment)
    assert payment.status == Status.SUCCEEDED
    assert payment.paid_order
    assert fresh(order).status == Order.Status.PAID
    # the real notification arriving later is a no-op
    note = SandboxNotification.unscoped.get()
    outcome = services.handle_notification(
        "sandbox", provider.signed_headers(note), note.body.encode()
    )
    assert outcome.message == "already paid"
    assert paid_transitions(order) == 1


def test_handling_a_notification_takes_a_bounded_number_of_queries(
    merchant, order, django_assert_max_num_queries
):
    """The notify endpoint is hot: pin its queries (savepoints included; mark_paid's ~10)."""
    payment = start(order)
    with merchant_context(merchant):
        provider.pay(token_of(payment))
    note = SandboxNotification.unscoped.get()
    headers, body = provider.signed_headers(note), note.body.encode()
    with django_assert_max_num_queries(26):
        services.handle_notification("sandbox", headers, body)
    with django_assert_max_num_queries(7):
        assert services.handle_notification("sandbox", headers, body).duplicate
