"""The storefront points page and the customer points API: balance, tier and progress,
expiring points, history, the daily sign-in (once a day), and points at checkout through the
storefront API (preview and order charge the same)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context
from siyu.customers.models import Customer
from siyu.customers.testing import make_customer, storefront_client
from siyu.loyalty import selectors, services
from siyu.loyalty.models import LoyaltySettings, MemberTier, PointsEntry, SignIn
from siyu.orders.models import Order
from siyu.orders.testing import Shop, make_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(merchant: Merchant) -> Customer:
    return make_customer(merchant)


@pytest.fixture
def client(customer: Customer) -> Client:
    return storefront_client(customer, HTTP_ACCEPT_LANGUAGE="en")


def api(client: Client, merchant: Merchant, path: str, body: dict[str, Any] | None = None) -> Any:
    url = f"/api/v1/storefront/{merchant.slug}{path}"
    if body is None:
        return client.get(url)
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_the_points_page_shows_balance_tier_progress_and_history(
    merchant: Merchant, customer: Customer, client: Client
) -> None:
    with merchant_context(merchant):
        LoyaltySettings.objects.create(fen_per_point=1, sign_in_points=5)
        MemberTier.objects.create(name="Silver", rank=1, basis="points", threshold=0)
        MemberTier.objects.create(name="Gold", rank=2, basis="points", threshold=1_000)
        services.award(customer, 250, reason="referral_inviter", reference="r1")
        from siyu.loyalty import tiers

        tiers.evaluate(customer)
    page = client.get(f"/s/{merchant.slug}/points/")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-testid="points-balance">250<' in text
    assert "Worth ¥2.50 at checkout" in text
    assert "Silver" in text
    assert "750 points more to reach Gold" in text
    assert "Invited a friend" in text
    assert "Sign in: +5 points" in text
    account = client.get(f"/s/{merchant.slug}/account/")
    assert "250 points · Silver" in account.content.decode()


def test_sign_in_from_the_page_once_a_day(
    merchant: Merchant, customer: Customer, client: Client
) -> None:
    url = f"/s/{merchant.slug}/points/sign-in/"
    first = client.post(url, follow=True)
    assert "Signed in: +5 points." in first.content.decode()
    again = client.post(url, follow=True)
    assert "You have already signed in today." in again.content.decode()
    assert "Signed in today" in again.content.decode()
    with merchant_context(merchant):
        assert SignIn.objects.count() == 1
        assert selectors.balance_of(customer) == 5


def test_the_page_needs_a_login(merchant: Merchant) -> None:
    answer = Client().get(f"/s/{merchant.slug}/points/")
    assert answer.status_code == 302
    assert "/login/" in answer["Location"]


def test_points_api_overview_history_sign_in_and_quote(
    merchant: Merchant, customer: Customer, client: Client
) -> None:
    with merchant_context(merchant):
        services.award(customer, 300, reason="referral_invitee", reference="r1")
    signed = api(client, merchant, "/points/sign-in", {})
    assert signed.status_code == 200, signed.json()
    assert signed.json()["created"] is True
    assert signed.json()["balance"] == 305
    assert api(client, merchant, "/points/sign-in", {}).json()["created"] is False
    overview = api(client, merchant, "/points").json()
    assert (overview["balance"], overview["available"], overview["signed_in_today"]) == (
        305,
        305,
        True,
    )
    assert overview["expiring"][0]["points"] == 305
    history = api(client, merchant, "/points/history?limit=1").json()
    assert history["count"] == 2
    assert history["items"][0]["kind"] == "sign_in"
    assert history["items"][0]["label"] == "Daily sign-in"
    quote = api(client, merchant, "/points/quote?goods_amount=400").json()
    assert quote == {"balance": 305, "max_points": 200, "fen_per_point": 1, "max_amount": 200}
    assert api(client, merchant, "/points/quote?goods_amount=-1").status_code == 422


def _order_body(shop: Shop, **extra: Any) -> dict[str, Any]:
    return {
        "fulfilment": "pickup",
        "store_id": shop.store.pk,
        "items": [{"sku_id": shop.sku.pk, "quantity": 2}],
        **extra,
    }


def test_points_at_checkout_through_the_api_preview_equals_the_charge(
    merchant: Merchant, customer: Customer, client: Client
) -> None:
    shop = make_shop(merchant, price=3_000)
    with merchant_context(merchant):
        LoyaltySettings.objects.create(fen_per_point=10, max_redeem_bp=3_000)
        services.award(customer, 5_000, reason="gift", reference="g")
        from siyu.orders import services as order_services

        order_services.add_to_cart(customer, shop.sku.pk, 2, store_id=shop.store.pk)
    preview = api(
        client,
        merchant,
        "/cart/preview",
        {"fulfilment": "pickup", "store_id": shop.store.pk, "points": 5_000},
    )
    assert preview.status_code == 200, preview.json()
    body = preview.json()
    # ¥60 of goods, at most 30 % by points: ¥18 = 180 points of 10 fen
    assert body["total"] == 6_000 - 1_800
    assert body["points_quote"] == {
        "balance": 5_000,
        "max_points": 180,
        "fen_per_point": 10,
        "max_amount": 1_800,
    }
    assert any(f["text"] == "180 points: −¥18.00" for f in body["explanation"]), body["explanation"]
    placed = api(
        client,
        merchant,
        "/orders",
        {"fulfilment": "pickup", "store_id": shop.store.pk, "points": 5_000},
    )
    assert placed.status_code == 201, placed.json()
    assert placed.json()["total"] == body["total"]
    with merchant_context(merchant):
        assert selectors.balance_of(customer) == 5_000 - 180
        assert PointsEntry.objects.get(kind="redeem").order_id == placed.json()["id"]


def test_too_many_points_or_bad_points_are_422_on_points_and_nothing_is_written(
    merchant: Merchant, customer: Customer, client: Client
) -> None:
    shop = make_shop(merchant, price=3_000)
    with merchant_context(merchant):
        services.award(customer, 10, reason="gift", reference="g")
    short = api(client, merchant, "/orders", _order_body(shop, points=11))
    assert short.status_code == 422
    assert short.json()["fields"] == {"points": "You have only 10 points."}
    negative = api(client, merchant, "/orders", _order_body(shop, points=-1))
    assert negative.status_code == 422
    assert set(negative.json()["fields"]) == {"points"}
    with merchant_context(merchant):
        assert not Order.objects.exists()
        assert selectors.balance_of(customer) == 10
