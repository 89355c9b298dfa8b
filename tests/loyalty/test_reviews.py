"""Reviews: a customer reviews a line of a completed order once (review points once), the
product page shows the reviews, the order page offers the form; bad input named, other
customers' lines 404, orders not completed refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from siyu.core.errors import InvalidInput, NotFound
from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context
from siyu.customers.models import Customer
from siyu.customers.testing import make_customer, storefront_client
from siyu.loyalty import selectors, services
from siyu.loyalty.models import LoyaltySettings, PointsEntry, ProductReview
from siyu.orders.models import Order, OrderLine
from siyu.orders.testing import Shop, make_order, make_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(merchant: Merchant) -> Shop:
    return make_shop(merchant, price=2_000)


@pytest.fixture
def customer(merchant: Merchant) -> Customer:
    return make_customer(merchant, name="王小明")


def _line(order: Order) -> OrderLine:
    return OrderLine.objects.get(order=order)


def test_a_completed_line_is_reviewed_once_and_earns_points_once(
    merchant: Merchant, shop: Shop, customer: Customer
) -> None:
    order = make_order(merchant, status="completed", customer=customer, shop=shop)
    pending = make_order(merchant, status="paid", customer=customer, shop=shop)
    theirs = make_order(merchant, status="completed", shop=shop)
    with merchant_context(merchant):
        LoyaltySettings.objects.create(review_points=15)
        first = services.review(customer, _line(order).pk, 4, "  good   coffee ")
        again = services.review(customer, _line(order).pk, 1, "changed my mind")
        assert again.pk == first.pk
        assert (first.rating, first.text) == (4, "good coffee")
        assert PointsEntry.objects.filter(kind="review").count() == 1
        assert selectors.balance_of(customer) >= 15
        with pytest.raises(InvalidInput) as caught:
            services.review(customer, _line(pending).pk, 9, "x" * 501)
        assert set(caught.value.fields) == {"order_line_id", "rating", "text"}
        with pytest.raises(NotFound):
            services.review(customer, _line(theirs).pk, 5)
        found = selectors.product_reviews(shop.product.pk)
        assert (found.count, found.average) == (1, 4.0)
        assert selectors.reviewer_name(found.latest[0]) == "王**"


def test_pages_offer_the_form_and_show_the_reviews(
    merchant: Merchant, shop: Shop, customer: Customer
) -> None:
    order = make_order(merchant, status="completed", customer=customer, shop=shop)
    client = storefront_client(customer, HTTP_ACCEPT_LANGUAGE="en")
    page = client.get(f"/s/{merchant.slug}/orders/{order.pk}/").content.decode()
    assert "Review your order" in page
    with merchant_context(merchant):
        line = _line(order)
    posted = client.post(
        f"/s/{merchant.slug}/points/reviews/{line.pk}/",
        {"rating": "5", "text": "Great"},
        follow=True,
    )
    assert "Thank you for your review." in posted.content.decode()
    product = client.get(f"/s/{merchant.slug}/products/{shop.product.pk}/")
    assert product.status_code == 200
    text = product.content.decode()
    assert "Great" in text
    assert "★ 5.0" in text
    with merchant_context(merchant):
        assert ProductReview.objects.count() == 1


def test_reviews_through_the_api(merchant: Merchant, shop: Shop, customer: Customer) -> None:
    order = make_order(merchant, status="completed", customer=customer, shop=shop)
    client = storefront_client(customer, HTTP_ACCEPT_LANGUAGE="en")
    with merchant_context(merchant):
        line = _line(order)
    base = f"/api/v1/storefront/{merchant.slug}/points"

    def post(body: dict[str, Any]) -> Any:
        return client.post(
            f"{base}/reviews", data=json.dumps(body), content_type="application/json"
        )

    bad = post({"order_line_id": line.pk, "rating": 0})
    assert bad.status_code == 422
    assert set(bad.json()["fields"]) == {"rating"}
    made = post({"order_line_id": line.pk, "rating": 3, "text": "ok"})
    assert made.status_code == 201, made.json()
    assert post({"order_line_id": 10**9, "rating": 3}).status_code == 404
    assert Client().get(f"{base}/products/{shop.product.pk}/reviews").status_code == 401
    listed = client.get(f"{base}/products/{shop.product.pk}/reviews").json()
    assert listed["count"] == 1
    assert listed["latest"][0]["text"] == "ok"
    assert client.get(f"{base}/products/{10**9}/reviews").status_code == 404


def test_staff_hide_a_review_from_the_product_page(
    merchant: Merchant, shop: Shop, customer: Customer
) -> None:
    from siyu.core.models import AuditEntry
    from siyu.core.permissions import Role
    from siyu.core.testing import staff_client

    order = make_order(merchant, status="completed", customer=customer, shop=shop)
    with merchant_context(merchant):
        made = services.review(customer, _line(order).pk, 1, "rude words")
    owner = staff_client(merchant, Role.OWNER)
    owner.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    listing = owner.get("/console/loyalty/reviews/?rating=1").content.decode()
    assert "rude words" in listing
    hidden = owner.post(
        f"/console/loyalty/reviews/{made.pk}/hide/",
        {"hidden": "1", "next": "https://evil.example/"},
    )
    assert hidden["Location"] == "/console/loyalty/reviews/"
    with merchant_context(merchant):
        assert selectors.product_reviews(shop.product.pk).count == 0
        assert AuditEntry.objects.filter(action="loyalty.review.hidden").exists()
        assert selectors.balance_of(customer) > 0  # its points stay
    finance = staff_client(merchant, Role.FINANCE)
    assert (
        finance.post(f"/console/loyalty/reviews/{made.pk}/hide/", {"hidden": "0"}).status_code
        == 403
    )
    assert owner.post("/console/loyalty/reviews/999999/hide/", {"hidden": "0"}).status_code == 404
