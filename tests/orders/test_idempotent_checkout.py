"""A retried checkout with the same Idempotency-Key places one order (the API middleware)."""

from __future__ import annotations

import json

import pytest

from siyu.core.testing import api_client
from siyu.inventory.models import StockLevel, StockReservation
from siyu.orders.models import Order

pytestmark = pytest.mark.urls("tests.orders.checkout_urls")


def place(client, body, key):
    return client.post(
        "/api/test/checkout",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Idempotency-Key": key, "Accept-Language": "en"},
    )


def test_a_retried_checkout_returns_the_same_order(merchant, shop, customer):
    client = api_client(merchant)
    body = {
        "customer_id": customer.pk,
        "fulfilment": "pickup",
        "store_id": shop.store.pk,
        "items": [[shop.sku.pk, 2]],
    }
    first = place(client, body, "checkout-1")
    second = place(client, body, "checkout-1")
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Order.unscoped.count() == 1
    assert StockReservation.unscoped.count() == 1
    assert StockLevel.unscoped.get(location=shop.location, sku=shop.sku).reserved == 2
    third = place(client, body, "checkout-2")
    assert third.json()["id"] != first.json()["id"]


def test_a_refused_checkout_frees_the_key_for_a_corrected_retry(merchant, shop, customer):
    client = api_client(merchant)
    bad = {
        "customer_id": customer.pk,
        "fulfilment": "pickup",
        "store_id": shop.store.pk,
        "items": [[shop.sku.pk, 0]],
    }
    refused = place(client, bad, "checkout-1")
    assert refused.status_code == 422
    assert refused.json()["fields"] == {"items.0.quantity": "At least 1."}
    assert not Order.unscoped.exists()
    good = dict(bad, items=[[shop.sku.pk, 1]])
    corrected = place(client, good, "checkout-1")
    assert corrected.status_code == 201
    assert "Idempotent-Replayed" not in corrected
    assert Order.unscoped.count() == 1
