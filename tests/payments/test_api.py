"""The payments API: lists, refunds by role, tenancy, idempotency, and the notify endpoint."""

from __future__ import annotations

import json
import time

import pytest

from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import api_client
from siyu.orders.models import Order, OrderEvent
from siyu.orders.testing import make_order, make_shop
from siyu.payments.models import Payment, PaymentNotification, Refund, SandboxNotification
from siyu.payments.sandbox import provider, signing
from siyu.payments.testing import make_paid_order, sandbox_notification, start, token_of

NOTIFY = "/api/v1/payments/notify/sandbox"


def post_json(client, path, data, **headers):
    return client.post(
        path, data=json.dumps(data), content_type="application/json", headers=headers
    )


@pytest.fixture
def paid(merchant):
    return make_paid_order(merchant, shop=make_shop(merchant, price=1800), quantity=3)


def line_of(merchant, order):
    with merchant_context(merchant):
        return order.lines.get()


# --- reading -------------------------------------------------------------------------------


def test_payments_are_listed_filtered_and_shown_with_their_history(merchant, paid):
    client = api_client(merchant, Role.FINANCE)
    answer = client.get("/api/v1/payments").json()
    assert answer["count"] == 1
    [item] = answer["items"]
    assert (item["order_number"], item["amount"], item["status"], item["paid_order"]) == (
        paid.number,
        5400,
        "succeeded",
        True,
    )
    assert client.get("/api/v1/payments?status=pending").json()["count"] == 0
    assert client.get("/api/v1/payments?gateway=sandbox").json()["count"] == 1
    assert client.get("/api/v1/payments?since=2000-01-01&until=2000-01-02").json()["count"] == 0
    assert client.get(f"/api/v1/payments?order_id={paid.pk}").json()["count"] == 1
    bad = client.get("/api/v1/payments?status=lost")
    assert bad.status_code == 422
    assert "status" in bad.json()["fields"]
    detail = client.get(f"/api/v1/payments/{item['id']}").json()
    assert [n["kind"] for n in detail["notifications"]] == ["payment.succeeded"]
    assert detail["refunds"] == []


def test_another_merchants_payments_refunds_and_orders_are_404(merchant, other_merchant, paid):
    client = api_client(other_merchant, Role.OWNER)
    payment = Payment.unscoped.get()
    assert client.get(f"/api/v1/payments/{payment.pk}").status_code == 404
    assert client.get("/api/v1/payments").json()["count"] == 0
    answer = post_json(
        client, "/api/v1/payments/refunds", {"order_id": paid.pk, "reason": "not mine"}
    )
    assert answer.status_code == 404
    mine = api_client(merchant, Role.OWNER)
    made = post_json(
        mine, "/api/v1/payments/refunds", {"order_id": paid.pk, "amount": 100, "reason": "x"}
    )
    refund_id = made.json()["id"]
    assert client.get(f"/api/v1/payments/refunds/{refund_id}").status_code == 404
    assert (
        post_json(
            client, f"/api/v1/payments/refunds/{refund_id}/reject", {"reason": "x"}
        ).status_code
        == 404
    )
    assert Refund.unscoped.count() == 1


# --- refunding ------------------------------------------------------------------------------


def test_finance_may_refund_by_line_and_the_answer_shows_the_lines(
    merchant, paid, django_capture_on_commit_callbacks
):
    line = line_of(merchant, paid)
    client = api_client(merchant, Role.FINANCE)
    with django_capture_on_commit_callbacks(execute=True):
        answer = post_json(
            client,
            "/api/v1/payments/refunds",
            {
                "order_id": paid.pk,
                "lines": [{"order_line_id": line.pk, "quantity": 1}],
                "reason": "broken",
            },
        )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    # the provider is asked once the request's transaction has committed
    assert body["status"] == "processing"
    assert body["amount"] == 1800
    assert body["restock"] is True
    assert body["lines"] == [
        {
            "order_line_id": line.pk,
            "product_name": line.product_name,
            "sku_code": line.sku_code,
            "quantity": 1,
            "amount": 1800,
        }
    ]
    refund = Refund.unscoped.get()
    assert refund.status == Refund.Status.SUCCEEDED  # the sandbox answered at once
    assert client.get(f"/api/v1/payments/refunds/{refund.pk}").json()["status"] == "succeeded"


def test_a_guide_may_not_refund_and_nothing_is_written(merchant, paid):
    answer = post_json(
        api_client(merchant, Role.SHOPPING_GUIDE),
        "/api/v1/payments/refunds",
        {"order_id": paid.pk, "reason": "please"},
    )
    assert answer.status_code == 403
    assert answer.json()["error"] == "forbidden"
    assert Refund.unscoped.count() == 0
    # a guide may read
    assert api_client(merchant, Role.SHOPPING_GUIDE).get("/api/v1/payments").status_code == 200


def test_a_retried_refund_with_an_idempotency_key_creates_one_refund(
    merchant, paid, django_capture_on_commit_callbacks
):
    client = api_client(merchant, Role.FINANCE)
    payload = {"order_id": paid.pk, "amount": 700, "reason": "price match"}
    key = {"Idempotency-Key": "rf-1"}
    with django_capture_on_commit_callbacks(execute=True):
        first = post_json(client, "/api/v1/payments/refunds", payload, **key)
    with django_capture_on_commit_callbacks(execute=True):
        again = post_json(client, "/api/v1/payments/refunds", payload, **key)
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Refund.unscoped.count() == 1
    assert Payment.unscoped.get().refunded_total == 700
    other = post_json(
        client,
        "/api/v1/payments/refunds",
        {**payload, "amount": 800},
        **{"Idempotency-Key": "rf-1"},
    )
    assert other.status_code == 422
    assert Refund.unscoped.count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"amount": 0, "reason": "x"}, "amount"),
        ({"amount": 100, "reason": ""}, "reason"),
        ({"amount": 100, "lines": [{"order_line_id": 1, "quantity": 1}], "reason": "x"}, "amount"),
        ({"lines": [], "reason": "x"}, "lines"),
        ({"amount": 999999, "reason": "x"}, "amount"),
        ({"lines": [{"order_line_id": 0, "quantity": 1}], "reason": "x"}, "lines.0.order_line_id"),
        ({"lines": [{"order_line_id": -1, "quantity": 0}], "reason": "x"}, "lines.0.quantity"),
    ],
)
def test_bad_refund_requests_answer_422_naming_the_field(merchant, paid, payload, field):
    answer = post_json(
        api_client(merchant, Role.OWNER),
        "/api/v1/payments/refunds",
        {"order_id": paid.pk, **payload},
    )
    assert answer.status_code == 422, answer.content
    assert field in answer.json()["fields"], answer.json()
    assert Refund.unscoped.count() == 0


def test_an_unpaid_order_answers_409(merchant):
    order = make_order(merchant)
    answer = post_json(
        api_client(merchant), "/api/v1/payments/refunds", {"order_id": order.pk, "reason": "x"}
    )
    assert answer.status_code == 409
    assert answer.json()["error"] == "not_paid"


def test_requests_are_listed_approved_and_rejected(
    merchant, paid, django_capture_on_commit_callbacks
):
    from siyu.payments import services

    with merchant_context(merchant):
        requested = services.request_refund(paid.customer, paid, lines=None, reason="不新鲜")
    client = api_client(merchant, Role.FINANCE)
    listed = client.get("/api/v1/payments/refunds?source=customer&status=requested").json()
    assert [r["number"] for r in listed["items"]] == [requested.number]
    assert client.get("/api/v1/payments/refunds?source=staff").json()["count"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        approved = post_json(
            client, f"/api/v1/payments/refunds/{requested.pk}/approve", {"restock": False}
        )
    assert approved.status_code == 200, approved.content
    assert Refund.unscoped.get().status == Refund.Status.SUCCEEDED
    assert Refund.unscoped.get().restock is False
    again = post_json(client, f"/api/v1/payments/refunds/{requested.pk}/reject", {"reason": "late"})
    assert again.status_code == 409


# --- the notification endpoint -------------------------------------------------------------------


def test_the_provider_is_answered_success_and_ten_deliveries_move_the_order_once(merchant, client):
    order = make_order(merchant)
    payment = start(order)
    with merchant_context(merchant):
        provider.pay(token_of(payment))
    note = SandboxNotification.unscoped.get()
    for _ in range(10):
        answer = client.post(
            NOTIFY,
            data=note.body,
            content_type="application/json",
            headers=provider.signed_headers(note),
        )
        assert answer.status_code == 200
        assert answer.json() == {"code": "SUCCESS"}
    assert PaymentNotification.unscoped.count() == 1
    assert OrderEvent.unscoped.filter(order_id=order.pk, kind="paid").count() == 1
    assert Order.unscoped.get(pk=order.pk).status == Order.Status.PAID


def test_a_tampered_notification_answers_400_without_details_and_changes_nothing(merchant, client):
    order = make_order(merchant)
    payment = start(order)
    headers, body = sandbox_notification(payment)
    tampered = body.replace(b'"type":"payment.succeeded"', b'"type":"payment.failed"')
    assert tampered != body
    answer = client.post(
        NOTIFY,
        data=tampered,
        content_type="application/json",
        headers={**headers, "Accept-Language": "en"},
    )
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "invalid_signature",
        "message": "The signature is missing, wrong or too old.",
        "fields": {},
    }
    stale_headers, stale_body = sandbox_notification(payment, timestamp=int(time.time()) - 600)
    answer = client.post(
        NOTIFY, data=stale_body, content_type="application/json", headers=stale_headers
    )
    assert answer.status_code == 400
    assert PaymentNotification.unscoped.count() == 0
    assert Order.unscoped.get(pk=order.pk).status == Order.Status.PENDING_PAYMENT


def test_an_unsigned_notification_is_401_and_an_unknown_gateway_404(merchant, client):
    order = make_order(merchant)
    headers, body = sandbox_notification(start(order))
    answer = client.post(NOTIFY, data=body, content_type="application/json")
    assert answer.status_code == 401
    answer = client.post(
        "/api/v1/payments/notify/alipay",
        data=body,
        content_type="application/json",
        headers=headers,
    )
    assert answer.status_code == 404
    assert PaymentNotification.unscoped.count() == 0


def test_an_amount_mismatch_answers_409_and_an_unknown_payment_404(merchant, client):
    order = make_order(merchant)
    payment = start(order)
    headers, body = sandbox_notification(payment, amount=payment.amount - 1)
    answer = client.post(NOTIFY, data=body, content_type="application/json", headers=headers)
    assert (answer.status_code, answer.json()["error"]) == (409, "amount_mismatch")
    payment.out_trade_no = "P-unknown"
    headers, body = sandbox_notification(payment)
    answer = client.post(NOTIFY, data=body, content_type="application/json", headers=headers)
    assert (answer.status_code, answer.json()["error"]) == (404, "unknown_payment")
    assert PaymentNotification.unscoped.count() == 0
    assert Order.unscoped.get(pk=order.pk).status == Order.Status.PENDING_PAYMENT


def test_the_signature_header_is_case_insensitive(merchant, client):
    order = make_order(merchant)
    headers, body = sandbox_notification(start(order))
    lower = {k.lower(): v for k, v in headers.items()}
    answer = client.post(NOTIFY, data=body, content_type="application/json", headers=lower)
    assert answer.status_code == 200
    assert signing.SIGNATURE_HEADER.lower() in lower
