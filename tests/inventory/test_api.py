"""API: /api/v1/inventory — roles, tenancy, field-level 422s, idempotent receipts."""

from __future__ import annotations

import json

import pytest

from siyu.core.permissions import Role
from siyu.core.testing import api_client
from siyu.inventory.models import Location, StockMovement
from siyu.inventory.testing import (
    counts,
    make_sku,
    make_warehouse,
    reserve,
    stock,
    stocked_sku,
    store_location,
)
from siyu.stores.testing import login, make_store, make_store_staff

pytestmark = pytest.mark.django_db

BASE = "/api/v1/inventory"


def post(client, url, body, **headers):
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers)


def patch(client, url, body):
    return client.patch(url, json.dumps(body), content_type="application/json")


@pytest.fixture
def hub(merchant):
    return make_warehouse(merchant, code="WH-SH", name="上海中央仓", ships_delivery=True)


# --- locations -----------------------------------------------------------------------------


def test_list_locations(merchant, hub):
    store_location(make_store(merchant, name="静安寺店"))
    client = api_client(merchant, Role.FINANCE)
    body = client.get(f"{BASE}/locations").json()
    assert body["count"] == 2
    first = body["items"][0]
    assert (first["code"], first["kind"], first["ships_delivery"]) == ("WH-SH", "warehouse", True)
    stores = client.get(f"{BASE}/locations", {"kind": "store"}).json()["items"]
    assert [s["name"] for s in stores] == ["静安寺店"]


def test_create_a_warehouse(merchant, hub):
    client = api_client(merchant, Role.OPERATOR)
    response = post(
        client,
        f"{BASE}/locations",
        {"code": "WH-BJ", "name": "北京仓", "low_stock_threshold": 10, "ships_delivery": True},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["ships_delivery"], body["low_stock_threshold"]) == (
        "warehouse",
        True,
        10,
    )
    hub.refresh_from_db()
    assert not hub.ships_delivery


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "", "name": "仓"}, "code"),
        ({"code": "中文", "name": "仓"}, "code"),
        ({"code": "WH-2", "name": " "}, "name"),
        ({"code": "WH-2", "name": "仓", "low_stock_threshold": -1}, "low_stock_threshold"),
        ({"name": "仓"}, "code"),
    ],
)
def test_bad_warehouses_are_refused_by_field(merchant, hub, body, field):
    response = post(api_client(merchant), f"{BASE}/locations", body)
    assert response.status_code == 422
    assert field in response.json()["fields"]
    assert Location.unscoped.filter(merchant=merchant).count() == 1


def test_a_taken_code_is_a_conflict(merchant, hub):
    response = post(api_client(merchant), f"{BASE}/locations", {"code": "wh-sh", "name": "仓"})
    assert response.status_code == 409
    assert "code" in response.json()["fields"]


def test_patch_a_location(merchant, hub):
    other = make_warehouse(merchant, code="WH-2")
    client = api_client(merchant, Role.OPERATOR)
    response = patch(client, f"{BASE}/locations/{other.pk}", {"low_stock_threshold": 4})
    assert response.status_code == 200
    assert response.json()["low_stock_threshold"] == 4
    moved = patch(client, f"{BASE}/locations/{other.pk}", {"ships_delivery": True})
    assert moved.json()["ships_delivery"] is True
    refused = patch(client, f"{BASE}/locations/{other.pk}", {"ships_delivery": False})
    assert refused.status_code == 422
    assert "ships_delivery" in refused.json()["fields"]


def test_store_roles_may_not_manage_locations(merchant, hub):
    store = make_store(merchant)
    mine = store_location(store)
    manager = login(make_store_staff(merchant, Role.STORE_MANAGER, store))
    manager_key = api_client(merchant, Role.STORE_MANAGER)
    assert post(manager_key, f"{BASE}/locations", {"code": "X", "name": "X"}).status_code == 403
    # a session of a store manager: its own store is visible, but locations are for operators
    response = manager.patch(
        f"{BASE}/locations/{mine.pk}",
        json.dumps({"low_stock_threshold": 2}),
        content_type="application/json",
    )
    assert response.status_code == 403
    guide = api_client(merchant, Role.SHOPPING_GUIDE)
    assert post(guide, f"{BASE}/locations", {"code": "X", "name": "X"}).status_code == 403


def test_another_merchants_location_is_not_found(merchant, other_merchant, hub):
    theirs = make_warehouse(other_merchant)
    client = api_client(merchant)
    assert patch(client, f"{BASE}/locations/{theirs.pk}", {"name": "x"}).status_code == 404
    sku = make_sku(merchant)
    receipt = post(
        client, f"{BASE}/receipts", {"location": theirs.pk, "sku": sku.pk, "quantity": 1}
    )
    assert receipt.status_code == 404
    their_sku = make_sku(other_merchant)
    receipt = post(
        client, f"{BASE}/receipts", {"location": hub.pk, "sku": their_sku.pk, "quantity": 1}
    )
    assert receipt.status_code == 404
    assert not StockMovement.unscoped.exists()


# --- levels --------------------------------------------------------------------------------


def test_levels_filter_and_paginate(merchant, hub, owner):
    from siyu.core.tenancy import merchant_context
    from siyu.inventory import services

    with merchant_context(merchant):
        services.update_location(owner, hub, {"low_stock_threshold": 5})
    latte = stocked_sku(hub, 20, "拿铁")
    few = stocked_sku(hub, 3, "可颂")
    reserve(hub, [(latte.pk, 4)])
    client = api_client(merchant, Role.FINANCE)
    body = client.get(f"{BASE}/levels", {"location": hub.pk}).json()
    assert body["count"] == 2
    by_sku = {item["sku_id"]: item for item in body["items"]}
    assert {k: by_sku[latte.pk][k] for k in ("on_hand", "reserved", "available", "low")} == {
        "on_hand": 20,
        "reserved": 4,
        "available": 16,
        "low": False,
    }
    assert by_sku[few.pk]["low"] is True
    assert by_sku[latte.pk]["product_name"] == "拿铁"
    low = client.get(f"{BASE}/levels", {"low": "true"}).json()["items"]
    assert [i["sku_id"] for i in low] == [few.pk]
    assert client.get(f"{BASE}/levels", {"q": "拿铁"}).json()["count"] == 1
    assert client.get(f"{BASE}/levels", {"sku": few.pk}).json()["count"] == 1
    page = client.get(f"{BASE}/levels", {"limit": 1}).json()
    assert (len(page["items"]), page["next_offset"]) == (1, 1)
    assert client.get(f"{BASE}/levels", {"limit": 0}).status_code == 422


def test_store_managers_see_only_their_stores_levels(merchant, hub):
    store, other = make_store(merchant), make_store(merchant)
    mine, theirs = store_location(store), store_location(other)
    sku = make_sku(merchant)
    for location in (hub, mine, theirs):
        stock(location, sku, 5)
    client = login(make_store_staff(merchant, Role.STORE_MANAGER, store))
    items = client.get(f"{BASE}/levels").json()["items"]
    assert [i["location_id"] for i in items] == [mine.pk]
    assert [loc["id"] for loc in client.get(f"{BASE}/locations").json()["items"]] == [mine.pk]
    assert client.get(f"{BASE}/movements", {"location": theirs.pk}).json()["count"] == 0


# --- receipts and adjustments --------------------------------------------------------------


def test_receive_through_the_api(merchant, hub):
    sku = make_sku(merchant)
    client = api_client(merchant, Role.OPERATOR)
    response = post(
        client,
        f"{BASE}/receipts",
        {"location": hub.pk, "sku": sku.pk, "quantity": 24, "note": "入库单 RK-1"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["on_hand_delta"], body["on_hand_after"]) == ("receipt", 24, 24)
    assert body["actor"].startswith("API key")
    assert counts(hub, sku) == (24, 0)


def test_a_receipt_with_an_idempotency_key_takes_effect_once(merchant, hub):
    sku = make_sku(merchant)
    client = api_client(merchant, Role.OPERATOR)
    body = {"location": hub.pk, "sku": sku.pk, "quantity": 6}
    first = post(client, f"{BASE}/receipts", body, **{"Idempotency-Key": "rk-1"})
    again = post(client, f"{BASE}/receipts", body, **{"Idempotency-Key": "rk-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert counts(hub, sku) == (6, 0)
    other = post(client, f"{BASE}/receipts", {**body, "quantity": 7}, **{"Idempotency-Key": "rk-1"})
    assert other.status_code == 422
    assert counts(hub, sku) == (6, 0)


def test_a_receipt_reference_is_received_once(merchant, hub):
    sku = make_sku(merchant)
    client = api_client(merchant, Role.OPERATOR)
    body = {"location": hub.pk, "sku": sku.pk, "quantity": 6, "reference": "DN-7"}
    assert post(client, f"{BASE}/receipts", body).status_code == 201
    assert post(client, f"{BASE}/receipts", body).status_code == 201
    assert counts(hub, sku) == (6, 0)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": -5}, "quantity"),
        ({"quantity": "many"}, "quantity"),
        ({"quantity": None}, "quantity"),
        ({"note": "x" * 201}, "note"),
    ],
)
def test_bad_receipts_answer_422_by_field_and_write_nothing(merchant, hub, body, field):
    sku = make_sku(merchant)
    client = api_client(merchant, Role.OPERATOR)
    response = post(
        client, f"{BASE}/receipts", {"location": hub.pk, "sku": sku.pk, "quantity": 3, **body}
    )
    assert response.status_code == 422
    assert field in response.json()["fields"]
    assert not StockMovement.unscoped.exists()


def test_adjust_through_the_api(merchant, hub):
    sku = stocked_sku(hub, 10)
    reserve(hub, [(sku.pk, 4)])
    client = api_client(merchant, Role.OPERATOR)
    url = f"{BASE}/adjustments"
    counted = post(client, url, {"location": hub.pk, "sku": sku.pk, "counted": 8, "reason": "盘点"})
    assert counted.status_code == 201
    assert counted.json()["on_hand_delta"] == -2
    below = post(client, url, {"location": hub.pk, "sku": sku.pk, "counted": 3, "reason": "盘点"})
    assert below.status_code == 422
    assert "counted" in below.json()["fields"]
    both = post(
        client, url, {"location": hub.pk, "sku": sku.pk, "counted": 3, "delta": 1, "reason": "x"}
    )
    assert both.status_code == 422
    no_reason = post(client, url, {"location": hub.pk, "sku": sku.pk, "delta": 1})
    assert no_reason.status_code == 422
    assert "reason" in no_reason.json()["fields"]
    assert counts(hub, sku) == (8, 4)


def test_readers_may_not_receive_or_adjust(merchant, hub):
    sku = make_sku(merchant)
    for role in (Role.FINANCE, Role.SHOPPING_GUIDE):
        client = api_client(merchant, role)
        body = {"location": hub.pk, "sku": sku.pk, "quantity": 1}
        assert post(client, f"{BASE}/receipts", body).status_code == 403
        body = {"location": hub.pk, "sku": sku.pk, "delta": 1, "reason": "x"}
        assert post(client, f"{BASE}/adjustments", body).status_code == 403
    assert counts(hub, sku) == (0, 0)


# --- movements -----------------------------------------------------------------------------


def test_movements_filter_and_paginate(merchant, hub):
    from siyu.core.tenancy import merchant_context
    from siyu.inventory import services

    sku = stocked_sku(hub, 10)
    ref = reserve(hub, [(sku.pk, 2)])
    with merchant_context(merchant):
        services.commit(ref)
    client = api_client(merchant, Role.FINANCE)
    body = client.get(f"{BASE}/movements", {"sku": sku.pk}).json()
    assert [m["kind"] for m in body["items"]] == ["sale", "reservation", "receipt"]
    assert body["items"][0]["reference"] == ref
    assert client.get(f"{BASE}/movements", {"kind": "sale"}).json()["count"] == 1
    assert client.get(f"{BASE}/movements", {"reference": ref}).json()["count"] == 2
    assert client.get(f"{BASE}/movements", {"since": "2999-01-01T00:00:00Z"}).json()["count"] == 0
    assert client.get(f"{BASE}/movements", {"since": "yesterday-ish"}).status_code == 422


def test_anonymous_callers_are_refused(merchant, hub):
    from django.test import Client

    assert Client().get(f"{BASE}/levels").status_code == 401
