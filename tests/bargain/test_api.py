"""The staff and customer APIs of bargains: the whole path, and every refusal a 4xx naming
its field or code, never a 500."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from siyu.bargain.models import BargainActivity
from siyu.core import clock
from siyu.core.models import AuditEntry, Merchant
from siyu.core.permissions import Role
from siyu.core.testing import api_client
from siyu.customers.models import Customer
from siyu.customers.testing import make_customer, storefront_client
from siyu.orders.testing import Shop

pytestmark = pytest.mark.django_db

STAFF = "/api/v1/bargain"


def send(client: Client, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.generic(method, url, data=json.dumps(body or {}), content_type="application/json")


def shop_url(merchant: Merchant, path: str) -> str:
    return f"/api/v1/storefront/{merchant.slug}/bargain{path}"


def activity_body(shop: Shop, **changes: Any) -> dict[str, Any]:
    now = clock.now()
    body = {
        "name": "Cut the latte",
        "sku_id": shop.sku.pk,
        "floor_price": 990,
        "helpers_needed": 3,
        "starts_at": (now - timedelta(minutes=5)).isoformat(),
        "ends_at": (now + timedelta(days=3)).isoformat(),
        "stock_total": 20,
    }
    body.update(changes)
    return body


def test_staff_create_schedule_and_the_whole_customer_path(
    merchant: Merchant, shop: Shop, starter: Customer, friends: list[Customer]
) -> None:
    staff = api_client(merchant)
    made = send(staff, "POST", f"{STAFF}/activities", activity_body(shop))
    assert made.status_code == 201, made.json()
    pk = made.json()["id"]
    assert (made.json()["status"], made.json()["shown_status"]) == ("draft", "draft")
    assert made.json()["share_path"] == f"/s/{merchant.slug}/bargain/{pk}/"
    # a draft is not there for customers
    me = storefront_client(starter, HTTP_ACCEPT_LANGUAGE="en")
    assert me.get(shop_url(merchant, f"/activities/{pk}")).status_code == 404
    scheduled = send(staff, "POST", f"{STAFF}/activities/{pk}/status", {"status": "active"})
    assert scheduled.json()["shown_status"] == "running"
    assert AuditEntry.unscoped.filter(action="bargain.activity.active").count() == 1

    started = send(me, "POST", shop_url(merchant, f"/activities/{pk}/start"))
    assert started.status_code == 201, started.json()
    code = started.json()["code"]
    assert started.json()["current_price"] == 5000
    assert started.json()["mine"]
    assert not started.json()["can_help"]
    again = send(me, "POST", shop_url(merchant, f"/activities/{pk}/start"))
    assert again.json()["code"] == code

    total = 0
    for friend in friends[:3]:
        client = storefront_client(friend, HTTP_ACCEPT_LANGUAGE="en")
        cut = send(client, "POST", shop_url(merchant, f"/bargains/{code}/cut"))
        assert cut.status_code == 201, cut.json()
        total += cut.json()["amount"]
    assert total == 5000 - 990
    seen = me.get(shop_url(merchant, f"/bargains/{code}")).json()
    assert (seen["status"], seen["current_price"], seen["progress_permille"]) == (
        "reached",
        990,
        1000,
    )
    assert len(seen["helpers"]) == 3
    assert seen["can_buy"]

    body = {"fulfilment": "pickup", "store_id": shop.store.pk}
    preview = send(me, "POST", shop_url(merchant, f"/bargains/{code}/preview"), body)
    assert preview.status_code == 200, preview.json()
    bought = send(me, "POST", shop_url(merchant, f"/bargains/{code}/orders"), body)
    assert bought.status_code == 201, bought.json()
    assert preview.json()["total"] == bought.json()["total"] == 990
    assert any(
        f["name"] == f"discount.bargain:{seen_id(merchant, code)}" for f in bought.json()["figures"]
    )

    results = staff.get(f"{STAFF}/activities/{pk}/results").json()
    assert results["started"] == results["completed"] == results["bought"] == 1
    assert results["participants"] == 4
    assert results["cost"] == 5000 - 990
    mine = me.get(shop_url(merchant, "/bargains")).json()
    assert [b["status"] for b in mine] == ["bought"]
    listed = staff.get(f"{STAFF}/bargains?activity_id={pk}").json()
    assert listed["count"] == 1
    detail = staff.get(f"{STAFF}/bargains/{listed['items'][0]['id']}").json()
    assert [c["sequence"] for c in detail["cuts"]] == [1, 2, 3]


def seen_id(merchant: Merchant, code: str) -> int:
    from siyu.bargain.models import Bargain
    from siyu.core.tenancy import merchant_context

    with merchant_context(merchant):
        return Bargain.objects.get(code=code).pk


def test_bad_activity_fields_are_named(merchant: Merchant, shop: Shop) -> None:
    staff = api_client(merchant)
    answer = send(
        staff,
        "POST",
        f"{STAFF}/activities",
        activity_body(
            shop,
            name=" ",
            floor_price=5000,
            helpers_needed=101,
            stock_total=0,
            ends_at=(clock.now() - timedelta(days=1)).isoformat(),
            new_customer_weight=0,
        ),
    )
    assert answer.status_code == 422
    assert set(answer.json()["fields"]) == {
        "name",
        "floor_price",
        "helpers_needed",
        "stock_total",
        "ends_at",
        "new_customer_weight",
    }
    too_few_fen = send(
        staff,
        "POST",
        f"{STAFF}/activities",
        activity_body(shop, floor_price=4999, helpers_needed=2),
    )
    assert too_few_fen.status_code == 422
    assert "floor_price" in too_few_fen.json()["fields"]
    wrong_type = send(staff, "POST", f"{STAFF}/activities", activity_body(shop, sku_id="latte"))
    assert wrong_type.status_code == 422
    assert BargainActivity.unscoped.count() == 0


def test_status_moves_and_edits_once_scheduled(merchant: Merchant, shop: Shop) -> None:
    staff = api_client(merchant)
    pk = send(staff, "POST", f"{STAFF}/activities", activity_body(shop)).json()["id"]
    assert (
        send(staff, "POST", f"{STAFF}/activities/{pk}/status", {"status": "paused"}).status_code
        == 409
    )
    send(staff, "POST", f"{STAFF}/activities/{pk}/status", {"status": "active"})
    frozen = send(staff, "PATCH", f"{STAFF}/activities/{pk}", {"floor_price": 100})
    assert frozen.status_code == 422
    assert "floor_price" in frozen.json()["fields"]
    renamed = send(
        staff, "PATCH", f"{STAFF}/activities/{pk}", {"name": "New name", "stock_total": 5}
    )
    assert renamed.status_code == 200
    assert renamed.json()["stock_left"] == 5
    paused = send(staff, "POST", f"{STAFF}/activities/{pk}/status", {"status": "paused"})
    assert paused.json()["shown_status"] == "paused"
    ended = send(staff, "POST", f"{STAFF}/activities/{pk}/status", {"status": "ended"})
    assert ended.json()["shown_status"] == "ended"
    assert (
        send(staff, "POST", f"{STAFF}/activities/{pk}/status", {"status": "active"}).status_code
        == 409
    )
    assert (
        send(staff, "POST", f"{STAFF}/activities/{pk}/status", {"status": "nope"}).status_code
        == 422
    )
    assert staff.get(f"{STAFF}/activities?status=bogus").status_code == 422


def test_staff_without_the_permission_and_other_merchants_are_refused(
    merchant: Merchant, other_merchant: Merchant, shop: Shop
) -> None:
    pk = send(api_client(merchant), "POST", f"{STAFF}/activities", activity_body(shop)).json()["id"]
    guide = api_client(merchant, role=Role.SHOPPING_GUIDE)
    assert send(guide, "POST", f"{STAFF}/activities", activity_body(shop)).status_code == 403
    rival = api_client(other_merchant)
    assert rival.get(f"{STAFF}/activities/{pk}").status_code == 404
    assert (
        send(rival, "POST", f"{STAFF}/activities/{pk}/status", {"status": "active"}).status_code
        == 404
    )


def test_customer_refusals_are_4xx(
    merchant: Merchant,
    shop: Shop,
    activity: BargainActivity,
    starter: Customer,
    friends: list[Customer],
) -> None:
    me = storefront_client(starter, HTTP_ACCEPT_LANGUAGE="en")
    code = send(me, "POST", shop_url(merchant, f"/activities/{activity.pk}/start")).json()["code"]
    own = send(me, "POST", shop_url(merchant, f"/bargains/{code}/cut"))
    assert own.status_code == 422
    assert "bargain" in own.json()["fields"]
    friend = storefront_client(friends[0], HTTP_ACCEPT_LANGUAGE="en")
    assert send(friend, "POST", shop_url(merchant, f"/bargains/{code}/cut")).status_code == 201
    twice = send(friend, "POST", shop_url(merchant, f"/bargains/{code}/cut"))
    assert (twice.status_code, twice.json()["error"]) == (409, "already_helped")
    # a friend cannot buy or preview someone else's bargain
    body = {"fulfilment": "pickup", "store_id": shop.store.pk}
    assert (
        send(friend, "POST", shop_url(merchant, f"/bargains/{code}/orders"), body).status_code
        == 404
    )
    bad_store = send(
        me,
        "POST",
        shop_url(merchant, f"/bargains/{code}/orders"),
        {"fulfilment": "pickup", "store_id": 99999},
    )
    assert bad_store.status_code == 422
    assert "store_id" in bad_store.json()["fields"]
    bad_body = send(
        me, "POST", shop_url(merchant, f"/bargains/{code}/orders"), {"fulfilment": "teleport"}
    )
    assert bad_body.status_code == 422
    assert me.get(shop_url(merchant, "/bargains/nope!")).status_code == 404
    assert send(me, "POST", shop_url(merchant, "/activities/999999/start")).status_code == 404
    visitor = Client()
    assert send(visitor, "POST", shop_url(merchant, f"/bargains/{code}/cut")).status_code == 401
    stranger = storefront_client(make_customer(merchant), HTTP_ACCEPT_LANGUAGE="en")
    BargainActivity.unscoped.filter(pk=activity.pk).update(status="paused")
    paused = send(stranger, "POST", shop_url(merchant, f"/bargains/{code}/cut"))
    assert (paused.status_code, paused.json()["error"]) == (409, "paused")
