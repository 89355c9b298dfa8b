"""Coupons on the storefront's HTML checkout page: the picker prices each of my coupons for this
order, chooses the best, greys out the ones that do not apply with the reason, re-prices when
the choice changes (a plain form post: no JavaScript needed) and places the order with it."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context
from siyu.customers.models import Customer
from siyu.customers.testing import make_customer, storefront_client
from siyu.orders.models import Order
from siyu.orders.testing import Shop, make_shop
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


def claim(merchant: Merchant, customer: Customer, **template: object) -> Coupon:
    made = make_template(merchant, **template)  # type: ignore[arg-type]
    with merchant_context(merchant):
        return services.claim(made.pk, customer)


def url(shop: Shop, quantity: int = 2) -> str:
    return (
        f"/s/{shop.merchant.slug}/checkout/?items={shop.sku.pk}:{quantity}&store_id={shop.store.pk}"
    )


def form(shop: Shop, quantity: int = 2, **fields: str) -> dict[str, str]:
    return {
        "fulfilment": "pickup",
        "items": f"{shop.sku.pk}:{quantity}",
        "store_id": str(shop.store.pk),
        **fields,
    }


def checked(body: str) -> str | None:
    found = re.search(r'name="coupon_id" value="([^"]+)" checked', body)
    return found.group(1) if found else None


def to_pay(body: str) -> str:
    found = re.search(r'class="sf-bar-total">(.*?)</div>', body, re.S)
    assert found is not None, body
    return re.sub(r"<[^>]+>", "", found.group(1)).split()[-1]


def test_the_best_coupon_is_chosen_and_the_others_say_why_not(
    merchant: Merchant, shop: Shop, customer: Customer, client: Client
) -> None:
    five = claim(merchant, customer, name="Five off", amount=500)
    ten = claim(
        merchant, customer, name="Ten off 50", kind="threshold", amount=1000, threshold=5000
    )
    far = claim(
        merchant, customer, name="Big spender", kind="threshold", amount=3000, threshold=10000
    )
    other = make_shop(merchant, price=900)
    scoped = claim(
        merchant, customer, name="Cake only", scope="products", scope_ids=[other.product.pk]
    )
    shipping = claim(merchant, customer, name="Free delivery", kind="free_shipping", amount=0)
    page = client.get(url(shop))
    assert page.status_code == 200
    body = page.content.decode()
    assert checked(body) == str(ten.pk)  # ¥10 beats ¥5 on ¥60 of goods
    assert to_pay(body) == "¥50.00"
    assert "−¥10.00" in body
    assert "−¥5.00" in body
    assert "Spend ¥40.00 more on eligible items." in body  # Big spender: ¥100 needed
    assert "Not for these items." in body
    assert "For delivery orders only." in body
    for unusable in (far, scoped, shipping):
        assert re.search(rf'value="{unusable.pk}"[^>]*disabled', body), unusable
    assert not re.search(rf'value="{five.pk}"[^>]*disabled', body)
    assert not Order.unscoped.exists()


def test_changing_the_coupon_reprices_without_placing_then_the_order_uses_it(
    merchant: Merchant, shop: Shop, customer: Customer, client: Client
) -> None:
    five = claim(merchant, customer, name="Five off", amount=500)
    claim(merchant, customer, name="Ten off 50", kind="threshold", amount=1000, threshold=5000)
    path = url(shop).split("?")[0]
    update = client.post(path, form(shop, coupon_id=str(five.pk), update="1"))
    assert update.status_code == 200
    body = update.content.decode()
    assert checked(body) == str(five.pk)
    assert to_pay(body) == "¥55.00"
    with merchant_context(merchant):
        assert not Order.objects.exists()
    placed = client.post(path, form(shop, coupon_id=str(five.pk)))
    assert placed.status_code == 302, placed.content.decode()
    with merchant_context(merchant):
        order = Order.objects.get()
        five.refresh_from_db()
    assert (order.subtotal, order.discount_total, order.total) == (6000, 500, 5500)
    assert (five.status, five.order_id) == (Coupon.Status.USED, order.pk)


def test_no_coupon_is_a_choice_and_keeps_the_coupons(
    merchant: Merchant, shop: Shop, customer: Customer, client: Client
) -> None:
    five = claim(merchant, customer, name="Five off", amount=500)
    path = url(shop).split("?")[0]
    update = client.post(path, form(shop, coupon_id="none", update="1"))
    assert checked(update.content.decode()) == "none"
    assert to_pay(update.content.decode()) == "¥60.00"
    placed = client.post(path, form(shop, coupon_id="none"))
    assert placed.status_code == 302
    with merchant_context(merchant):
        order = Order.objects.get()
        five.refresh_from_db()
    assert (order.discount_total, order.total) == (0, 6000)
    assert five.status == Coupon.Status.AVAILABLE


def test_a_coupon_that_does_not_apply_is_refused_by_name_and_nothing_is_written(
    merchant: Merchant, shop: Shop, customer: Customer, client: Client
) -> None:
    far = claim(
        merchant, customer, name="Big spender", kind="threshold", amount=3000, threshold=10000
    )
    theirs = claim(merchant, make_customer(merchant), name="Not yours", amount=500)
    path = url(shop).split("?")[0]
    for coupon_id, reason in (
        (str(far.pk), "needs ¥100.00 of eligible goods: ¥40.00 more"),
        (str(theirs.pk), "Unknown coupon."),
        ("abc", "Unknown coupon."),
    ):
        answer = client.post(path, form(shop, coupon_id=coupon_id))
        assert answer.status_code == 422, coupon_id
        assert reason in answer.content.decode(), coupon_id
    with merchant_context(merchant):
        assert not Order.objects.exists()
        assert Coupon.objects.filter(status=Coupon.Status.USED).count() == 0


def test_a_paused_coupon_is_shown_greyed(
    merchant: Merchant, shop: Shop, customer: Customer, client: Client
) -> None:
    paused = claim(merchant, customer, name="Paused one", amount=500)
    with merchant_context(merchant):
        CouponTemplate.objects.filter(pk=paused.template_id).update(
            status=CouponTemplate.Status.PAUSED
        )
    body = client.get(url(shop)).content.decode()
    assert "Cannot be used at the moment." in body
    assert checked(body) == "none"
    assert to_pay(body) == "¥60.00"


def test_the_page_reads_in_chinese(merchant: Merchant, shop: Shop, customer: Customer) -> None:
    claim(merchant, customer, name="Big", kind="threshold", amount=3000, threshold=10000)
    body = storefront_client(customer, HTTP_ACCEPT_LANGUAGE="zh-hans").get(url(shop)).content
    text = body.decode()
    assert "优惠券" in text
    assert "Spend" not in text


def test_use_points_after_the_coupon_and_the_order_spends_what_was_shown(
    merchant: Merchant, shop: Shop, customer: Customer, client: Client
) -> None:
    from siyu.loyalty import selectors as loyalty_selectors
    from siyu.loyalty import services as loyalty

    five = claim(merchant, customer, name="Five off", amount=500)
    with merchant_context(merchant):
        loyalty.award(customer, 4000, reason="award", reference="test-points")
    page = client.get(url(shop)).content.decode()
    # ¥60 of goods, ¥5 coupon first: points may pay half of the ¥55 left (default settings)
    assert "Use 2750 points" in page
    assert "You have 4000 points." in page
    assert 'name="points" value="2750"' in page
    assert to_pay(page) == "¥55.00"  # not switched on by itself
    path = url(shop).split("?")[0]
    update = client.post(
        path, form(shop, coupon_id=str(five.pk), use_points="1", points="2750", update="1")
    )
    assert to_pay(update.content.decode()) == "¥27.50"
    placed = client.post(path, form(shop, coupon_id=str(five.pk), use_points="1", points="2750"))
    assert placed.status_code == 302, placed.content.decode()
    with merchant_context(merchant):
        order = Order.objects.get()
        assert (order.discount_total, order.total) == (500 + 2750, 2750)
        assert loyalty_selectors.balance_of(customer) == 4000 - 2750


def test_a_stale_points_number_spends_only_what_the_order_takes(
    merchant: Merchant, shop: Shop, customer: Customer, client: Client
) -> None:
    """The cart shrank after the page showed its points: the order takes at most its share."""
    from siyu.loyalty import selectors as loyalty_selectors
    from siyu.loyalty import services as loyalty

    with merchant_context(merchant):
        loyalty.award(customer, 4000, reason="award", reference="test-points")
    path = url(shop).split("?")[0]
    answer = client.post(path, form(shop, coupon_id="none", use_points="1", points="3500"))
    assert answer.status_code == 302
    with merchant_context(merchant):
        order = Order.objects.get()
        assert (order.discount_total, order.total) == (3000, 3000)  # half of ¥60 at most
        assert loyalty_selectors.balance_of(customer) == 1000
