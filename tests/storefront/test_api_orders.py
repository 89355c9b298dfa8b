"""The customer API's orders: the whole path from login to the pickup code, and every refusal.

The end-to-end test logs in through the account API with the SMS outbox and a browser's
CSRF token, fills the cart, previews, orders, pays in the sandbox, and hands the signed
notification the provider sends to the notify endpoint, over the test client.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client

from siyu.catalog.testing import first_sku, make_product
from siyu.core import clock
from siyu.core.models import IdempotencyRecord
from siyu.core.tenancy import merchant_context
from siyu.customers.testing import last_code, make_address, make_customer, storefront_client
from siyu.inventory import services as inventory
from siyu.inventory.models import StockReservation
from siyu.orders.models import CartLine, Order
from siyu.orders.testing import make_order
from siyu.payments.models import Payment, Refund, SandboxNotification
from siyu.payments.sandbox import provider
from siyu.payments.testing import pay, token_of
from siyu.stores.testing import make_store

API = "/api/v1/storefront/lucky-coffee"


def send(client: Client, method: str, path: str, body: dict | None = None, **headers):
    return client.generic(
        method,
        f"{API}{path}",
        data=json.dumps(body or {}),
        content_type="application/json",
        headers=headers,
    )


def available(location, sku) -> int:
    with merchant_context(location.merchant):
        return inventory.available(location, [sku.pk])[sku.pk]


@pytest.fixture
def client(customer) -> Client:
    return storefront_client(customer, HTTP_ACCEPT_LANGUAGE="en")


def pickup_order(client: Client, shop, *items: tuple[int, int], **extra):
    body = {
        "fulfilment": "pickup",
        "store_id": shop.jingan.pk,
        "items": [{"sku_id": sku, "quantity": n} for sku, n in items],
        **extra,
    }
    return send(client, "POST", "/orders", body)


# --- the whole path ----------------------------------------------------------------------------


def test_login_cart_preview_order_pay_notification_pickup_code(shop, settings):
    browser = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    token = browser.get(f"{API}/account/csrf").json()["csrf_token"]
    sent = send(
        browser, "POST", "/account/request-code", {"phone": "139 1234 5678"}, X_CSRFToken=token
    )
    assert sent.status_code == 202
    code = last_code(shop.merchant, "13912345678")
    me = send(
        browser,
        "POST",
        "/account/verify-code",
        {"phone": "13912345678", "code": code},
        X_CSRFToken=token,
    )
    assert me.status_code == 200, me.content
    token = browser.cookies["csrftoken"].value  # the login rotated it
    latte, tiramisu = shop.skus["L/Hot"], shop.tiramisu_sku
    for sku, n in ((latte, 2), (tiramisu, 1)):
        added = send(
            browser, "POST", "/cart/lines", {"sku_id": sku.pk, "quantity": n}, X_CSRFToken=token
        )
        assert added.status_code == 201, added.content
    preview = send(
        browser,
        "POST",
        "/cart/preview",
        {"fulfilment": "pickup", "store_id": shop.jingan.pk},
        X_CSRFToken=token,
    ).json()
    assert (preview["total"], preview["can_place"]) == (2 * 3000 + 3800, True)

    placed = send(
        browser,
        "POST",
        "/orders",
        {"fulfilment": "pickup", "store_id": shop.jingan.pk, "note": "少冰"},
        X_CSRFToken=token,
    )
    assert placed.status_code == 201, placed.content
    order = placed.json()
    assert order["status"] == "pending_payment"
    assert order["total"] == preview["total"]
    assert order["pickup_code"] is None  # not before it is paid
    assert order["store"]["name"] == "静安店"
    assert order["actions"] == ["pay", "cancel"]
    assert [(ln["sku_id"], ln["quantity"]) for ln in order["lines"]] == [
        (latte.pk, 2),
        (tiramisu.pk, 1),
    ]
    assert order["payment_deadline"]
    assert not CartLine.unscoped.exists()  # the cart was ordered
    assert available(shop.jingan_stock, tiramisu) == 2  # reserved

    paying = send(
        browser, "POST", f"/orders/{order['id']}/pay", {"gateway": "sandbox"}, X_CSRFToken=token
    )
    assert paying.status_code == 200, paying.content
    payment = paying.json()["payment"]
    assert (payment["amount"], payment["gateway"], payment["status"]) == (
        order["total"],
        "sandbox",
        "pending",
    )
    assert "/sandbox/pay/" in payment["pay_url"]
    again = send(browser, "POST", f"/orders/{order['id']}/pay", {}, X_CSRFToken=token).json()
    assert again["payment"]["out_trade_no"] == payment["out_trade_no"]  # the open one, reused

    # The customer pays on the provider's page; the provider signs its notification and
    # POSTs it to PUBLIC_URL (unreachable in tests): deliver exactly those bytes here.
    row = Payment.unscoped.get(out_trade_no=payment["out_trade_no"])
    with merchant_context(shop.merchant):
        provider.pay(token_of(row))
    note = SandboxNotification.unscoped.get(kind="payment.succeeded")
    answer = Client().post(
        "/api/v1/payments/notify/sandbox",
        data=note.body.encode(),
        content_type="application/json",
        headers=provider.signed_headers(note),
    )
    assert answer.status_code == 200
    assert answer.json() == {"code": "SUCCESS"}

    paid = browser.get(f"{API}/orders/{order['id']}").json()
    assert paid["status"] == "paid"
    assert paid["status_label"] == "Paid · to pick up"
    stored = Order.unscoped.get(pk=order["id"])
    assert paid["pickup_code"] == stored.pickup_code
    assert len(paid["pickup_code"]) == 6
    assert paid["actions"] == ["request_refund"]
    assert available(shop.jingan_stock, tiramisu) == 2  # sold: on hand 2, nothing reserved
    assert not StockReservation.unscoped.filter(status="active").exists()
    listed = browser.get(f"{API}/orders").json()
    assert [o["id"] for o in listed["items"]] == [order["id"]]


# --- refusals --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "field", "reason"),
    [
        ("unknown_sku", "items.0.sku_id", "Unknown SKU."),
        ("quantity_zero", "items.0.quantity", "At least 1."),
        ("quantity_text", "items.0.quantity", None),
        ("their_sku", "items.0.sku_id", "Unknown SKU."),
        ("their_store", "store_id", "Unknown store."),
        ("no_store", "store_id", "Choose the store to pick up from."),
        ("their_address", "address_id", "Unknown address."),
        ("second_line_bad", "items.1.sku_id", "Unknown SKU."),
        ("empty_cart", "items", "The cart is empty."),
        ("long_note", "note", "At most 200 characters."),
    ],
)
def test_bad_orders_are_422_naming_the_field_and_write_nothing(
    shop, client, customer, other_merchant, case, field, reason
):
    latte = shop.skus["M/Hot"].pk
    item = {"sku_id": latte, "quantity": 1}
    body: dict = {"fulfilment": "pickup", "store_id": shop.jingan.pk, "items": [item]}
    if case == "unknown_sku":
        body["items"] = [{"sku_id": 999999, "quantity": 1}]
    elif case == "quantity_zero":
        body["items"] = [{"sku_id": latte, "quantity": 0}]
    elif case == "quantity_text":
        body["items"] = [{"sku_id": latte, "quantity": "two"}]
    elif case == "their_sku":
        theirs = first_sku(make_product(other_merchant, status="on_sale"))
        body["items"] = [{"sku_id": theirs.pk, "quantity": 1}]
    elif case == "their_store":
        body["store_id"] = make_store(other_merchant).pk
    elif case == "no_store":
        del body["store_id"]
    elif case == "their_address":
        someone = make_customer(shop.merchant)
        body = {"fulfilment": "delivery", "address_id": make_address(someone).pk, "items": [item]}
    elif case == "second_line_bad":
        body["items"] = [item, {"sku_id": 999999, "quantity": 1}]
    elif case == "empty_cart":
        del body["items"]
    elif case == "long_note":
        body["note"] = "冰" * 201
    send(client, "POST", "/cart/lines", {"sku_id": shop.tiramisu_sku.pk, "quantity": 1})
    if case == "empty_cart":
        send(client, "DELETE", f"/cart/lines/{shop.tiramisu_sku.pk}")
    response = send(client, "POST", "/orders", body)
    assert response.status_code == 422, response.content
    answer = response.json()
    assert answer["error"] in {"invalid"}
    assert field in answer["fields"], answer
    if reason:
        assert answer["fields"][field] == reason
    assert not Order.unscoped.exists()
    assert not StockReservation.unscoped.exists()
    assert CartLine.unscoped.count() == (0 if case == "empty_cart" else 1)


def test_out_of_stock_is_409_naming_the_item(shop, client):
    response = pickup_order(client, shop, (shop.skus["M/Hot"].pk, 1), (shop.tiramisu_sku.pk, 4))
    assert response.status_code == 409
    answer = response.json()
    assert answer["error"] == "out_of_stock"
    assert answer["fields"] == {"items.1.quantity": "Only 3 left."}
    assert not Order.unscoped.exists()
    assert available(shop.jingan_stock, shop.tiramisu_sku) == 3
    assert available(shop.jingan_stock, shop.skus["M/Hot"]) == 20


def test_the_same_idempotency_key_places_one_order(shop, client):
    body = {
        "fulfilment": "pickup",
        "store_id": shop.jingan.pk,
        "items": [{"sku_id": shop.tiramisu_sku.pk, "quantity": 1}],
    }
    first = send(client, "POST", "/orders", body, Idempotency_Key="order-7f3a")
    second = send(client, "POST", "/orders", body, Idempotency_Key="order-7f3a")
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json()["id"] == first.json()["id"]
    assert second["Idempotent-Replayed"] == "true"
    assert Order.unscoped.count() == 1
    assert available(shop.jingan_stock, shop.tiramisu_sku) == 2
    other = send(client, "POST", "/orders", body, Idempotency_Key="order-8b1c")
    assert other.json()["id"] != first.json()["id"]
    assert IdempotencyRecord.unscoped.count() == 2


def test_an_idempotency_key_is_the_customers_own(shop, customer, merchant):
    body = {
        "fulfilment": "pickup",
        "store_id": shop.jingan.pk,
        "items": [{"sku_id": shop.skus["M/Hot"].pk, "quantity": 1}],
    }
    mine = send(storefront_client(customer), "POST", "/orders", body, Idempotency_Key="k-1")
    theirs = send(
        storefront_client(make_customer(merchant)), "POST", "/orders", body, Idempotency_Key="k-1"
    )
    assert mine.json()["id"] != theirs.json()["id"]
    assert Order.unscoped.count() == 2


def test_another_customers_order_is_404_everywhere(shop, client):
    theirs = make_order(
        shop.merchant, status="paid", items=[(shop.skus["M/Hot"].pk, 1)], store_id=shop.jingan.pk
    )
    assert client.get(f"{API}/orders/{theirs.pk}").status_code == 404
    for path, body in (
        ("cancel", {}),
        ("pay", {"gateway": "sandbox"}),
        ("refund-requests", {"reason": "mine now"}),
    ):
        response = send(client, "POST", f"/orders/{theirs.pk}/{path}", body)
        assert response.status_code == 404, path
        assert response.json()["error"] == "not_found"
    assert client.get(f"{API}/orders").json()["count"] == 0
    assert not Refund.unscoped.exists()
    assert not Payment.unscoped.exists()


def test_cancel_before_payment_releases_stock_and_a_paid_order_is_409(shop, client):
    order = pickup_order(client, shop, (shop.tiramisu_sku.pk, 2)).json()
    assert available(shop.jingan_stock, shop.tiramisu_sku) == 1
    cancelled = send(client, "POST", f"/orders/{order['id']}/cancel", {})
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["actions"] == []
    assert available(shop.jingan_stock, shop.tiramisu_sku) == 3
    paid = pickup_order(client, shop, (shop.skus["M/Hot"].pk, 1)).json()
    pay(Order.unscoped.get(pk=paid["id"]))
    refused = send(client, "POST", f"/orders/{paid['id']}/cancel", {})
    assert refused.status_code == 409
    assert Order.unscoped.get(pk=paid["id"]).status == "paid"
    assert send(client, "POST", f"/orders/{paid['id']}/pay", {}).status_code == 409


def test_paying_after_the_deadline_is_refused(shop, client):
    order = pickup_order(client, shop, (shop.skus["M/Hot"].pk, 1)).json()
    Order.unscoped.filter(pk=order["id"]).update(
        payment_deadline=clock.now() - timedelta(minutes=1)
    )
    response = send(client, "POST", f"/orders/{order['id']}/pay", {"gateway": "sandbox"})
    assert response.status_code == 409
    assert response.json()["error"] == "payment_deadline_passed"
    assert not Payment.unscoped.exists()


def test_an_unknown_gateway_or_a_return_address_elsewhere_is_422(shop, client):
    order = pickup_order(client, shop, (shop.skus["M/Hot"].pk, 1)).json()
    gateway = send(client, "POST", f"/orders/{order['id']}/pay", {"gateway": "alipay"})
    assert gateway.status_code == 422
    assert "gateway" in gateway.json()["fields"]
    elsewhere = send(
        client, "POST", f"/orders/{order['id']}/pay", {"return_url": "https://evil.example/"}
    )
    assert elsewhere.status_code == 422
    assert "return_url" in elsewhere.json()["fields"]
    assert not Payment.unscoped.exists()


def test_ask_for_a_refund_of_a_line_then_only_once(shop, client):
    order = pickup_order(client, shop, (shop.skus["M/Hot"].pk, 2), (shop.tiramisu_sku.pk, 1)).json()
    early = send(client, "POST", f"/orders/{order['id']}/refund-requests", {"reason": "太慢了"})
    assert early.status_code == 409  # not paid yet
    pay(Order.unscoped.get(pk=order["id"]))
    latte_line = order["lines"][0]["id"]
    too_many = send(
        client,
        "POST",
        f"/orders/{order['id']}/refund-requests",
        {"lines": [{"order_line_id": latte_line, "quantity": 3}], "reason": "买多了"},
    )
    assert too_many.status_code == 422
    assert too_many.json()["fields"] == {"lines.0.quantity": "At most 2 can be refunded."}
    no_reason = send(
        client,
        "POST",
        f"/orders/{order['id']}/refund-requests",
        {"lines": [{"order_line_id": latte_line, "quantity": 1}], "reason": " "},
    )
    assert no_reason.status_code == 422
    assert "reason" in no_reason.json()["fields"]
    asked = send(
        client,
        "POST",
        f"/orders/{order['id']}/refund-requests",
        {"lines": [{"order_line_id": latte_line, "quantity": 1}], "reason": "买多了"},
    )
    assert asked.status_code == 201, asked.content
    refund = asked.json()
    assert (refund["status"], refund["amount"], refund["full"]) == ("requested", 2600, False)
    assert refund["lines"] == [{"order_line_id": latte_line, "quantity": 1, "amount": 2600}]
    twice = send(client, "POST", f"/orders/{order['id']}/refund-requests", {"reason": "全部退"})
    assert twice.status_code == 409
    assert Refund.unscoped.count() == 1


def test_my_orders_newest_first_paginated_and_filtered(shop, client):
    ids = [pickup_order(client, shop, (shop.skus["M/Hot"].pk, 1)).json()["id"] for _ in range(3)]
    pay(Order.unscoped.get(pk=ids[0]))
    page = client.get(f"{API}/orders?limit=2").json()
    assert [o["id"] for o in page["items"]] == [ids[2], ids[1]]
    assert (page["count"], page["next_offset"]) == (3, 2)
    rest = client.get(f"{API}/orders?limit=2&offset=2").json()
    assert [o["id"] for o in rest["items"]] == [ids[0]]
    paid = client.get(f"{API}/orders?status=paid").json()
    assert [o["id"] for o in paid["items"]] == [ids[0]]
    bad = client.get(f"{API}/orders?status=lost")
    assert bad.status_code == 422
    assert "status" in bad.json()["fields"]
