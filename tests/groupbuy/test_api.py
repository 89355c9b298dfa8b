"""The staff API of group-buys: create, edit, schedule, pause, resume, end, teams, results;
every refusal named, another merchant's group-buy 404, permissions."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from siyu.core import clock
from siyu.core.models import AuditEntry, Merchant
from siyu.core.permissions import Role
from siyu.core.testing import api_client
from siyu.customers.testing import make_customer
from siyu.groupbuy.models import GroupBuy
from siyu.orders.testing import Shop

from .helpers import buy, fail_overdue, pay_and_seat

pytestmark = pytest.mark.django_db

URL = "/api/v1/groupbuy"


def send(client: Client, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    return client.generic(
        method, f"{URL}{path}", data=json.dumps(body or {}), content_type="application/json"
    )


def new_activity(shop: Shop, **fields: Any) -> dict[str, Any]:
    now = clock.now()
    body = {
        "name": "拼团 3 人",
        "product_id": shop.product.pk,
        "team_size": 3,
        "fill_hours": 24,
        "starts_at": (now - timedelta(minutes=5)).isoformat(),
        "ends_at": (now + timedelta(days=3)).isoformat(),
        "skus": [{"sku_id": shop.sku.pk, "group_price": 1800, "stock": 50}],
    }
    body.update(fields)
    return body


def test_create_schedule_pause_resume_end(merchant: Merchant, shop: Shop) -> None:
    client = api_client(merchant)
    made = send(client, "POST", "", new_activity(shop))
    assert made.status_code == 201, made.json()
    body = made.json()
    assert (body["status"], body["phase"], body["per_customer_limit"]) == ("draft", "draft", 1)
    assert body["skus"] == [
        {"sku_id": shop.sku.pk, "group_price": 1800, "stock_total": 50, "stock_left": 50}
    ]
    pk = body["id"]
    for action, status in (
        ("schedule", "running"),
        ("pause", "paused"),
        ("resume", "running"),
        ("end", "ended"),
    ):
        moved = send(client, "POST", f"/{pk}/status", {"action": action})
        assert moved.status_code == 200, moved.json()
        assert moved.json()["status"] == status
    again = send(client, "POST", f"/{pk}/status", {"action": "pause"})
    assert again.status_code == 409
    assert again.json()["error"] == "bad_status"
    assert send(client, "PATCH", f"/{pk}", {"name": "x"}).status_code == 409
    assert AuditEntry.unscoped.filter(action__startswith="groupbuy.activity").count() == 5
    listed = client.get(URL).json()
    assert [a["id"] for a in listed["items"]] == [pk]


def test_scheduled_in_the_future_waits_for_its_start(merchant: Merchant, shop: Shop) -> None:
    client = api_client(merchant)
    later = clock.now() + timedelta(days=1)
    body = new_activity(shop, starts_at=later.isoformat())
    pk = send(client, "POST", "", body).json()["id"]
    moved = send(client, "POST", f"/{pk}/status", {"action": "schedule"}).json()
    assert (moved["status"], moved["phase"]) == ("scheduled", "scheduled")


def test_bad_input_names_every_field(merchant: Merchant, shop: Shop) -> None:
    client = api_client(merchant)
    bad = new_activity(
        shop,
        name="",
        team_size=1,
        fill_hours=0,
        per_customer_limit=0,
        ends_at=(clock.now() - timedelta(days=1)).isoformat(),
        skus=[
            {"sku_id": shop.sku.pk, "group_price": 3000, "stock": 0},
            {"sku_id": 999999, "group_price": 100, "stock": 5},
        ],
    )
    answer = send(client, "POST", "", bad)
    assert answer.status_code == 422
    fields = answer.json()["fields"]
    assert set(fields) >= {
        "name",
        "team_size",
        "fill_hours",
        "per_customer_limit",
        "ends_at",
        "skus.0.group_price",
        "skus.0.stock",
        "skus.1.sku_id",
    }
    assert fields["skus.0.group_price"] == "The group price must be below the price."
    assert send(client, "POST", "", new_activity(shop, product_id=999999)).status_code == 422
    too_big = send(client, "POST", "", new_activity(shop, team_size=51))
    assert "team_size" in too_big.json()["fields"]
    assert GroupBuy.unscoped.count() == 0


def test_a_started_group_buy_keeps_its_promises(
    merchant: Merchant, shop: Shop, activity: GroupBuy
) -> None:
    client = api_client(merchant)
    pay_and_seat(buy(merchant, shop, activity, make_customer(merchant), quantity=2))
    price = send(client, "PATCH", f"/{activity.pk}", {"team_size": 5})
    assert price.status_code == 422
    assert "team_size" in price.json()["fields"]
    below = send(
        client,
        "PATCH",
        f"/{activity.pk}",
        {"skus": [{"sku_id": shop.sku.pk, "group_price": 1800, "stock": 1}]},
    )
    assert below.status_code == 422
    assert "skus.0.stock" in below.json()["fields"]
    more = send(
        client,
        "PATCH",
        f"/{activity.pk}",
        {"name": "更多", "skus": [{"sku_id": shop.sku.pk, "group_price": 1800, "stock": 30}]},
    )
    assert more.status_code == 200, more.json()
    assert more.json()["skus"][0] == {
        "sku_id": shop.sku.pk,
        "group_price": 1800,
        "stock_total": 30,
        "stock_left": 28,
    }


def test_teams_and_results(merchant: Merchant, shop: Shop, activity: GroupBuy) -> None:
    client = api_client(merchant)
    returning = make_customer(merchant)
    from siyu.orders.testing import make_order

    make_order(merchant, status="paid", customer=returning, shop=shop)
    leader = pay_and_seat(buy(merchant, shop, activity, returning))
    for _n in range(2):
        pay_and_seat(buy(merchant, shop, activity, make_customer(merchant), team_id=leader.team_id))
    lonely = pay_and_seat(buy(merchant, shop, activity, make_customer(merchant)))
    fail_overdue(clock.now() + timedelta(days=2))
    teams = client.get(f"{URL}/{activity.pk}/teams").json()
    assert teams["count"] == 2
    won = client.get(f"{URL}/{activity.pk}/teams?status=succeeded").json()["items"]
    assert [t["id"] for t in won] == [leader.team_id]
    assert [m["seat"] for m in won[0]["members"]] == [1, 2, 3]
    lost = client.get(f"{URL}/{activity.pk}/teams?status=failed").json()["items"]
    assert [t["id"] for t in lost] == [lonely.team_id]
    assert lost[0]["members"][0]["status"] == "refunded"
    results = client.get(f"{URL}/{activity.pk}/results").json()
    assert results == {
        "teams_open": 0,
        "teams_succeeded": 1,
        "teams_failed": 1,
        "success_rate": 0.5,
        "participants": 4,
        "orders": 3,
        "sales": 5400,
        "new_customers": 2,
        "reward_cost": 3600,
        "k_factor": 0.5,
        "refunded": 1,
    }


def test_another_merchants_group_buy_is_404(
    merchant: Merchant, other_merchant: Merchant, activity: GroupBuy
) -> None:
    client = api_client(other_merchant)
    assert client.get(f"{URL}/{activity.pk}").status_code == 404
    assert send(client, "POST", f"/{activity.pk}/status", {"action": "end"}).status_code == 404
    assert client.get(f"{URL}/{activity.pk}/results").status_code == 404


def test_a_guide_may_not_manage_group_buys(
    merchant: Merchant, shop: Shop, activity: GroupBuy
) -> None:
    client = api_client(merchant, role=Role.SHOPPING_GUIDE)
    assert send(client, "POST", "", new_activity(shop)).status_code == 403
    assert send(client, "POST", f"/{activity.pk}/status", {"action": "end"}).status_code == 403


def test_the_orders_api_refuses_to_prepare_a_held_order(
    merchant: Merchant, shop: Shop, activity: GroupBuy
) -> None:
    member = pay_and_seat(buy(merchant, shop, activity, make_customer(merchant)))
    client = api_client(merchant)
    answer = client.post(f"/api/v1/orders/{member.order_id}/prepare")
    assert answer.status_code == 409
    body = answer.json()
    assert body["error"] == "fulfilment_held"
    assert body["fields"]["order"] == "This order is on hold: the group-buy team is still filling"
    shown = client.get(f"/api/v1/orders/{member.order_id}").json()
    assert "start_preparing" not in shown["actions"]
