"""The storefront API and pages of group-buys: lists, a team's share page, pricing, placing an
order (paid it seats me), refusals by field, both languages."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from siyu.core.models import Merchant
from siyu.customers.models import Customer
from siyu.customers.testing import make_customer, storefront_client
from siyu.groupbuy.models import GroupBuy, Member
from siyu.groupbuy.testing import make_groupbuy
from siyu.orders.testing import Shop, make_shop

from .helpers import buy, pay_and_seat

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(merchant: Merchant) -> Customer:
    return make_customer(merchant)


@pytest.fixture
def client(customer: Customer) -> Client:
    return storefront_client(customer, HTTP_ACCEPT_LANGUAGE="en")


def api(merchant: Merchant, path: str = "") -> str:
    return f"/api/v1/storefront/{merchant.slug}/groupbuy{path}"


def post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def body_for(shop: Shop, **extra: Any) -> dict[str, Any]:
    return {"sku_id": shop.sku.pk, "fulfilment": "pickup", "store_id": shop.store.pk, **extra}


def test_api_lists_running_group_buys_and_open_teams(
    merchant: Merchant, shop: Shop, activity: GroupBuy, client: Client
) -> None:
    make_groupbuy(merchant, make_shop(merchant), status="draft")
    leader = pay_and_seat(buy(merchant, shop, activity, make_customer(merchant, name="王小明")))
    listed = client.get(api(merchant)).json()
    assert [a["id"] for a in listed] == [activity.pk]
    assert listed[0]["items"][0] == {
        "sku_id": shop.sku.pk,
        "options": {},
        "price": 3000,
        "group_price": 1800,
        "stock_left": 19,
    }
    detail = client.get(api(merchant, f"/{activity.pk}")).json()
    (team,) = detail["open_teams"]
    assert team["id"] == leader.team_id
    assert (team["seats_left"], team["mine"]) == (2, False)
    assert team["members"] == [{"seat": 1, "initials": "王", "name": "王**", "is_leader": True}]
    assert team["share_path"] == f"/s/{merchant.slug}/groupbuy/teams/{leader.team_id}/"
    assert client.get(api(merchant, f"/teams/{leader.team_id}")).json()["seats_taken"] == 1


def test_api_preview_and_order_agree_and_paying_seats_me(
    merchant: Merchant, shop: Shop, activity: GroupBuy, client: Client, customer: Customer
) -> None:
    shown = post(client, api(merchant, f"/{activity.pk}/preview"), body_for(shop, quantity=2))
    assert shown.status_code == 200, shown.json()
    assert (shown.json()["subtotal"], shown.json()["total"]) == (6000, 3600)
    assert any("Group-buy price ¥18.00 each" in f for f in shown.json()["figures"])
    placed = post(client, api(merchant, f"/{activity.pk}/orders"), body_for(shop, quantity=2))
    assert placed.status_code == 201, placed.json()
    assert placed.json()["total"] == 3600
    order_id = placed.json()["order_id"]
    paying = client.post(placed.json()["pay_path"], data="{}", content_type="application/json")
    assert paying.status_code == 200, paying.json()
    from siyu.orders.models import Order

    member = pay_and_seat(Order.unscoped.get(pk=order_id))
    assert member.status == "seated"
    assert member.is_leader
    mine = client.get(api(merchant, "/mine")).json()
    assert [(m["order_id"], m["status"], m["seats_left"]) for m in mine] == [
        (order_id, "seated", 2)
    ]


def test_api_refusals_name_the_field(
    merchant: Merchant, shop: Shop, activity: GroupBuy, client: Client
) -> None:
    url = api(merchant, f"/{activity.pk}/orders")
    wrong_sku = post(client, url, body_for(shop, sku_id=999999))
    assert wrong_sku.status_code == 422
    assert "sku_id" in wrong_sku.json()["fields"]
    no_team = post(client, url, body_for(shop, team_id=999999))
    assert no_team.status_code == 422
    assert no_team.json()["fields"]["team_id"] == "Unknown team."
    zero = post(client, url, body_for(shop, quantity=0))
    assert zero.status_code == 422
    assert "quantity" in zero.json()["fields"]
    coupon = post(client, url, body_for(shop, coupon_id=1))
    assert coupon.status_code == 422
    assert "coupon_id" in coupon.json()["fields"]
    no_store = post(client, url, {"sku_id": shop.sku.pk, "fulfilment": "pickup"})
    assert no_store.status_code == 422
    assert "store_id" in no_store.json()["fields"]
    assert post(client, api(merchant, "/999999/orders"), body_for(shop)).status_code == 404
    assert client.get(api(merchant, "/teams/999999")).status_code == 404
    assert Member.unscoped.count() == 0


def test_api_a_paused_group_buy_is_409_and_anonymous_is_401(
    merchant: Merchant, shop: Shop, client: Client
) -> None:
    paused = make_groupbuy(merchant, shop, status="paused")
    answer = post(client, api(merchant, f"/{paused.pk}/orders"), body_for(shop))
    assert answer.status_code == 409
    assert answer.json()["error"] == "not_running"
    assert Client().get(api(merchant)).status_code == 401


def test_api_another_merchants_group_buy_is_404(
    merchant: Merchant, other_merchant: Merchant, activity: GroupBuy
) -> None:
    stranger = storefront_client(make_customer(other_merchant))
    assert stranger.get(api(other_merchant, f"/{activity.pk}")).status_code == 404


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", ("Join a team", "Start a team")), ("zh-hans", ("参团", "我要开团"))],
)
def test_pages_render_in_both_languages(
    merchant: Merchant,
    shop: Shop,
    activity: GroupBuy,
    customer: Customer,
    language: str,
    words: tuple[str, ...],
) -> None:
    leader = pay_and_seat(buy(merchant, shop, activity, make_customer(merchant)))
    client = storefront_client(customer, HTTP_ACCEPT_LANGUAGE=language)
    base = f"/s/{merchant.slug}/groupbuy/"
    page = client.get(f"{base}{activity.pk}/").content.decode()
    for word in words:
        assert word in page
    for url in (
        base,
        f"{base}teams/{leader.team_id}/",
        f"{base}{activity.pk}/buy/?team={leader.team_id}",
        f"{base}mine/",
        f"/s/{merchant.slug}/products/{shop.product.pk}/",
    ):
        answer = client.get(url)
        assert answer.status_code == 200, url


def test_team_page_is_public_and_joining_needs_a_login(
    merchant: Merchant, shop: Shop, activity: GroupBuy
) -> None:
    leader = pay_and_seat(buy(merchant, shop, activity, make_customer(merchant)))
    anonymous = Client(HTTP_ACCEPT_LANGUAGE="en")
    page = anonymous.get(f"/s/{merchant.slug}/groupbuy/teams/{leader.team_id}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "2 more to go" in body
    assert "Join at the group price" in body
    join = anonymous.get(f"/s/{merchant.slug}/groupbuy/{activity.pk}/buy/?team={leader.team_id}")
    assert join.status_code == 302
    assert "/login/" in join["Location"]


def test_buy_page_places_the_order_and_opens_the_payment(
    merchant: Merchant, shop: Shop, activity: GroupBuy, client: Client, customer: Customer
) -> None:
    url = f"/s/{merchant.slug}/groupbuy/{activity.pk}/buy/"
    page = client.get(url).content.decode()
    assert "¥18.00" in page
    answer = client.post(
        url,
        {"sku": shop.sku.pk, "quantity": "1", "fulfilment": "pickup", "store_id": shop.store.pk},
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    member = Member.unscoped.get(customer=customer)
    assert member.status == "pending"
    assert member.is_leader
    refused = client.post(url, {"sku": shop.sku.pk, "quantity": "1", "team": "999999"})
    assert refused.status_code == 422
    assert "Unknown team." in refused.content.decode()


def test_product_page_links_to_the_running_group_buy(
    merchant: Merchant, shop: Shop, activity: GroupBuy, client: Client
) -> None:
    page = client.get(f"/s/{merchant.slug}/products/{shop.product.pk}/").content.decode()
    assert f'data-groupbuy="{activity.pk}"' in page
    assert "3-person group-buy" in page


def test_the_customers_held_order_page_links_to_the_team(
    merchant: Merchant, shop: Shop, activity: GroupBuy, customer: Customer, client: Client
) -> None:
    member = pay_and_seat(buy(merchant, shop, activity, customer))
    page = client.get(f"/s/{merchant.slug}/orders/{member.order_id}/").content.decode()
    assert "Fulfilment on hold: the group-buy team is still filling" in page
    assert f'href="/s/{merchant.slug}/groupbuy/teams/{member.team_id}/"' in page


def test_a_distributors_team_link_carries_their_code_and_binds_the_joiner(
    merchant: Merchant, shop: Shop, activity: GroupBuy
) -> None:
    from siyu.distribution.testing import make_distributor

    leader = make_customer(merchant)
    distributor = make_distributor(merchant, leader)
    member = pay_and_seat(buy(merchant, shop, activity, leader))
    page = storefront_client(leader, HTTP_ACCEPT_LANGUAGE="en").get(
        f"/s/{merchant.slug}/groupbuy/teams/{member.team_id}/"
    )
    share = f"/s/{merchant.slug}/groupbuy/teams/{member.team_id}/?d={distributor.share_code}"
    assert share in page.content.decode()
    friend = make_customer(merchant)
    friend_client = storefront_client(friend, HTTP_ACCEPT_LANGUAGE="en")
    assert friend_client.get(share).status_code == 200
    answer = friend_client.post(
        f"/s/{merchant.slug}/groupbuy/{activity.pk}/buy/",
        {
            "sku": shop.sku.pk,
            "quantity": "1",
            "team": str(member.team_id),
            "fulfilment": "pickup",
            "store_id": shop.store.pk,
        },
    )
    assert answer.status_code == 302
    from siyu.orders.models import Order

    order = Order.unscoped.get(customer=friend)
    assert order.distributor_id == distributor.pk
