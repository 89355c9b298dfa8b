"""Coupons at checkout through the storefront API: preview and order agree, the coupon is used
with the order, refused by name when it does not apply, and comes back on cancel or refund."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from siyu.catalog.testing import make_category
from siyu.core import clock
from siyu.core.models import DomainEvent, Merchant
from siyu.core.outbox import dispatch_pending
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import actor_for
from siyu.customers.models import Customer
from siyu.customers.testing import make_customer, storefront_client
from siyu.orders import services as order_services
from siyu.orders.models import Order
from siyu.orders.testing import Shop, make_shop
from siyu.payments import services as payment_services
from siyu.payments.testing import pay
from siyu.promotions import events as promotion_events
from siyu.promotions import services
from siyu.promotions.models import Coupon, CouponTemplate
from siyu.promotions.testing import make_template

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(merchant: Merchant) -> Shop:
    return make_shop(merchant, price=3000)


@pytest.fixture
def customer(merchant: Merchant) -> Customer:
    return make_customer(merchant)


@pytest.fixture
def client(customer: Customer) -> Client:
    return storefront_client(customer, HTTP_ACCEPT_LANGUAGE="en")


def send(client: Client, merchant: Merchant, path: str, body: dict[str, Any]) -> Any:
    return client.post(
        f"/api/v1/storefront/{merchant.slug}{path}",
        data=json.dumps(body),
        content_type="application/json",
    )


def order_body(shop: Shop, quantity: int = 2, **extra: Any) -> dict[str, Any]:
    return {
        "fulfilment": "pickup",
        "store_id": shop.store.pk,
        "items": [{"sku_id": shop.sku.pk, "quantity": quantity}],
        **extra,
    }


def claim(merchant: Merchant, customer: Customer, **template: Any) -> Coupon:
    made = make_template(merchant, **template)
    with merchant_context(merchant):
        return services.claim(made.pk, customer)


def test_order_with_a_coupon_is_discounted_and_uses_it(
    merchant: Merchant, shop: Shop, customer: Customer, client: Client
) -> None:
    coupon = claim(merchant, customer, amount=500)
    answer = send(client, merchant, "/orders", order_body(shop, coupon_id=coupon.pk))
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert (body["subtotal"], body["discount_total"], body["total"]) == (6000, 500, 5500)
    with merchant_context(merchant):
        coupon.refresh_from_db()
        order = Order.objects.get(pk=body["id"])
        assert coupon.status == "used"
        assert coupon.order_id == order.pk
        (discount,) = order.pricing["discounts"]
        assert discount["code"] == f"coupon:{coupon.pk}"
        assert discount["note"]["key"] == "Coupon %(name)s: −%(amount)s"
        used = DomainEvent.objects.get(event_type=promotion_events.COUPON_USED)
        assert used.payload == {
            "coupon_id": coupon.pk,
            "template_id": coupon.template_id,
            "order_id": order.pk,
            "discount": 500,
        }
        assert CouponTemplate.objects.get(pk=coupon.template_id).used_count == 1
    again = send(client, merchant, "/orders", order_body(shop, coupon_id=coupon.pk))
    assert again.status_code == 422
    assert again.json()["fields"] == {"coupon_id": "This coupon has been used."}


def test_preview_and_order_charge_the_same(
    merchant: Merchant, shop: Shop, customer: Customer, client: Client
) -> None:
    coupon = claim(
        merchant, customer, kind="percent", amount=0, percent_bp=1500, cap=800, name="15%"
    )
    with merchant_context(merchant):
        order_services.add_to_cart(customer, shop.sku.pk, 3, store_id=shop.store.pk)
    preview = send(
        client,
        merchant,
        "/cart/preview",
        {"fulfilment": "pickup", "store_id": shop.store.pk, "coupon_id": coupon.pk},
    )
    assert preview.status_code == 200, preview.json()
    body = {"fulfilment": "pickup", "store_id": shop.store.pk, "coupon_id": coupon.pk}
    placed = send(client, merchant, "/orders", body)
    assert placed.status_code == 201, placed.json()
    # 15 % of ¥90 is ¥13.50, capped at ¥8
    assert preview.json()["total"] == placed.json()["total"] == 9000 - 800


def test_threshold_not_met_is_refused_by_name_and_nothing_is_written(
    merchant: Merchant, shop: Shop, customer: Customer, client: Client
) -> None:
    coupon = claim(
        merchant, customer, kind="threshold", amount=1000, threshold=10000, name="满100减10"
    )
    answer = send(client, merchant, "/orders", order_body(shop, quantity=3, coupon_id=coupon.pk))
    assert answer.status_code == 422
    assert answer.json()["fields"] == {
        "coupon_id": "Coupon 满100减10 needs ¥100.00 of eligible goods: ¥10.00 more"
    }
    with merchant_context(merchant):
        assert not Order.objects.exists()
        coupon.refresh_from_db()
        assert coupon.status == "available"
    assert (
        send(client, merchant, "/orders", order_body(shop, 4, coupon_id=coupon.pk)).json()["total"]
        == 12000 - 1000
    )


def test_someone_elses_expired_or_out_of_scope_coupons_are_refused(
    merchant: Merchant, shop: Shop, customer: Customer, client: Client
) -> None:
    theirs = claim(merchant, make_customer(merchant))
    expired = claim(merchant, customer)
    other_category = make_category(merchant, "Tea")
    scoped = claim(
        merchant,
        customer,
        scope=CouponTemplate.Scope.CATEGORIES,
        scope_ids=[other_category.pk],
        name="Tea only",
    )
    with merchant_context(merchant):
        Coupon.objects.filter(pk=expired.pk).update(valid_until=clock.now() - timedelta(hours=1))
    for coupon, reason in [
        (theirs, "Unknown coupon."),
        (expired, "This coupon has expired."),
        (scoped, "Coupon Tea only: no item in this order is eligible"),
    ]:
        answer = send(client, merchant, "/orders", order_body(shop, coupon_id=coupon.pk))
        assert answer.status_code == 422
        assert answer.json()["fields"] == {"coupon_id": reason}


def test_category_scope_covers_the_subtree(merchant: Merchant, customer: Customer) -> None:
    drinks = make_category(merchant, "Drinks")
    coffee = make_category(merchant, "Coffee", parent=drinks)
    latte = make_shop(merchant, price=2000, category_id=coffee.pk)
    coupon = claim(merchant, customer, scope=CouponTemplate.Scope.CATEGORIES, scope_ids=[drinks.pk])
    client = storefront_client(customer, HTTP_ACCEPT_LANGUAGE="en")
    answer = send(client, merchant, "/orders", order_body(latte, 1, coupon_id=coupon.pk))
    assert answer.status_code == 201, answer.json()
    assert answer.json()["total"] == 1500


def test_an_order_cancelled_unpaid_gives_the_coupon_back(
    merchant: Merchant, shop: Shop, customer: Customer, client: Client
) -> None:
    coupon = claim(merchant, customer)
    placed = send(client, merchant, "/orders", order_body(shop, coupon_id=coupon.pk)).json()
    with merchant_context(merchant):
        order = Order.objects.get(pk=placed["id"])
        order_services.cancel(order, actor=customer, reason="changed my mind")
        coupon.refresh_from_db()
        assert coupon.status == "used"  # until the consumer has read the event
    dispatch_pending()
    dispatch_pending()  # a replayed delivery changes nothing
    with merchant_context(merchant):
        coupon.refresh_from_db()
        assert (coupon.status, coupon.order_id) == ("available", None)
        assert CouponTemplate.objects.get(pk=coupon.template_id).used_count == 0
    # and it pays for the next order
    assert (
        send(client, merchant, "/orders", order_body(shop, coupon_id=coupon.pk)).status_code == 201
    )


def _refund(merchant: Merchant, order_id: int, capture: Any, amount: int | None = None) -> None:
    """Refund through the sandbox; the provider is asked after commit (run here)."""
    with merchant_context(merchant), capture(execute=True):
        order = Order.objects.get(pk=order_id)
        payment_services.refund(
            actor_for(merchant, Role.OWNER), order, amount=amount, reason="broken cup"
        )


def test_a_refunded_order_gives_the_coupon_back_while_valid(
    merchant: Merchant,
    shop: Shop,
    customer: Customer,
    client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:
    valid = claim(merchant, customer, name="valid")
    lapsed = claim(merchant, customer, name="lapsed")
    orders = []
    for coupon in (valid, lapsed):
        placed = send(client, merchant, "/orders", order_body(shop, coupon_id=coupon.pk)).json()
        with merchant_context(merchant):
            pay(Order.objects.get(pk=placed["id"]))
        orders.append(placed["id"])
    with merchant_context(merchant):
        Coupon.objects.filter(pk=lapsed.pk).update(valid_until=clock.now() - timedelta(minutes=1))
    for order_id in orders:
        _refund(merchant, order_id, django_capture_on_commit_callbacks)
    dispatch_pending()
    with merchant_context(merchant):
        valid.refresh_from_db()
        lapsed.refresh_from_db()
        assert (valid.status, lapsed.status) == ("available", "expired")
        assert set(Order.objects.values_list("refund_state", flat=True)) == {"full"}
        returned = DomainEvent.objects.filter(event_type=promotion_events.COUPON_RETURNED)
        assert returned.count() == 2


def test_a_partial_refund_keeps_the_coupon_used(
    merchant: Merchant,
    shop: Shop,
    customer: Customer,
    client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:
    coupon = claim(merchant, customer)
    placed = send(client, merchant, "/orders", order_body(shop, coupon_id=coupon.pk)).json()
    with merchant_context(merchant):
        pay(Order.objects.get(pk=placed["id"]))
    _refund(merchant, placed["id"], django_capture_on_commit_callbacks, amount=100)
    dispatch_pending()
    with merchant_context(merchant):
        assert Order.objects.get(pk=placed["id"]).refund_state == "partial"
        coupon.refresh_from_db()
        assert coupon.status == "used"
