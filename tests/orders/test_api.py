"""Staff API of orders: roles (403), tenancy (404), store scoping, filters, moves, CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import pytest

from siyu.core import clock
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import api_client, login, staff_client
from siyu.orders.models import Order, ShippingSettings
from siyu.orders.testing import make_customer, make_order, make_shop
from siyu.stores.testing import make_store, make_store_staff

URL = "/api/v1/orders"


def post(client, path, body=None, **headers):
    return client.post(
        f"{URL}{path}",
        data=json.dumps(body or {}),
        content_type="application/json",
        headers=headers,
    )


@pytest.fixture
def paid(merchant, other_merchant, shop):
    return make_order(merchant, status="paid", shop=shop, quantity=2)


def test_list_with_pagination_and_money_in_fen(merchant, paid, shop):
    make_order(merchant, shop=shop)
    client = api_client(merchant)
    body = client.get(f"{URL}?limit=1").json()
    assert body["count"] == 2
    assert body["next_offset"] == 1
    (item,) = body["items"]
    assert set(item) >= {"id", "number", "status", "total", "customer", "store", "placed_at"}
    everything = client.get(URL).json()["items"]
    paid_item = next(i for i in everything if i["id"] == paid.pk)
    assert paid_item["total"] == 3600
    assert paid_item["customer"]["phone"] == paid.customer.phone
    assert paid_item["store"]["id"] == shop.store.pk


def test_filters(merchant, other_merchant, shop):
    customer = make_customer(merchant, phone="+8613912345678", name="韩梅梅")
    delivery = make_order(merchant, status="paid", fulfilment="delivery", customer=customer)
    pickup = make_order(merchant, shop=shop, attribution={"channel": "group"})
    cancelled = make_order(merchant, shop=shop, status="cancelled")
    client = api_client(merchant)

    def ids(query: str) -> set[int]:
        return {i["id"] for i in client.get(f"{URL}?{query}").json()["items"]}

    assert ids("status=paid") == {delivery.pk}
    assert ids("fulfilment=pickup") == {pickup.pk, cancelled.pk}
    assert ids(f"store_id={shop.store.pk}") == {pickup.pk, cancelled.pk}
    assert ids("channel=group") == {pickup.pk}
    assert ids(f"q={pickup.number}") == {pickup.pk}
    assert ids("q=5678") == {delivery.pk}
    assert ids("q=13912345678") == {delivery.pk}
    assert ids("q=%2B8613912345678") == {delivery.pk}
    assert ids("q=韩梅") == {delivery.pk}
    bad = client.get(f"{URL}?status=lost")
    assert bad.status_code == 422
    assert "status" in bad.json()["fields"]


def test_date_range_is_in_the_merchants_time_zone(merchant, other_merchant, shop):
    order = make_order(merchant, shop=shop)
    # 23:30 on 1 March in Shanghai is 15:30 UTC: it belongs to 1 March, not 2 March
    placed = datetime(2026, 3, 1, 15, 30, tzinfo=clock.zone("UTC"))
    Order.unscoped.filter(pk=order.pk).update(placed_at=placed)
    client = api_client(merchant)

    def count(query: str) -> int:
        return client.get(f"{URL}?{query}").json()["count"]

    assert count("date_from=2026-03-01&date_to=2026-03-01") == 1
    assert count("date_from=2026-03-02") == 0
    assert count("date_to=2026-02-28") == 0
    assert client.get(f"{URL}?date_from=yesterday").status_code == 422


def test_detail_has_lines_timeline_payments_pricing_and_actions(merchant, paid):
    body = api_client(merchant).get(f"{URL}/{paid.pk}", headers={"Accept-Language": "en"}).json()
    assert body["number"] == paid.number
    assert body["subtotal"] == 3600
    assert body["pickup_code"] == paid.pickup_code
    (line,) = body["lines"]
    assert (line["quantity"], line["unit_price"], line["line_total"]) == (2, 1800, 3600)
    assert [e["kind"] for e in body["events"]] == ["placed", "paid"]
    assert body["events"][1]["label"] == "Paid"
    assert body["payments"] == []
    assert body["pricing"][-1] == {
        "name": "total",
        "amount": 3600,
        "text": "Total to pay: subtotal − discounts + shipping = ¥36.00",
    }
    assert body["actions"] == ["start_preparing", "collect"]
    assert body["attribution"]["channel"] == "storefront"


def test_another_merchants_order_is_404(merchant, other_merchant, paid):
    response = api_client(other_merchant).get(f"{URL}/{paid.pk}")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert post(api_client(other_merchant), f"/{paid.pk}/prepare").status_code == 404


def test_roles(merchant, paid):
    finance = api_client(merchant, Role.FINANCE)
    assert finance.get(f"{URL}/{paid.pk}").status_code == 200
    response = post(finance, f"/{paid.pk}/prepare")
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    operator = api_client(merchant, Role.OPERATOR)
    assert post(operator, f"/{paid.pk}/prepare").status_code == 200
    assert (
        operator.put(
            f"{URL}/shipping-rule",
            data=json.dumps({"flat_fee": 1}),
            content_type="application/json",
        ).status_code
        == 403
    )


def test_store_staff_see_and_fulfil_only_their_stores_orders(merchant, paid, shop):
    elsewhere_store = make_store(merchant)
    elsewhere = make_order(merchant, status="paid", shop=make_shop(merchant, store=elsewhere_store))
    manager = login(make_store_staff(merchant, Role.STORE_MANAGER, shop.store))
    assert {i["id"] for i in manager.get(URL).json()["items"]} == {paid.pk}
    assert manager.get(f"{URL}/{elsewhere.pk}").status_code == 404
    assert post(manager, f"/{elsewhere.pk}/prepare").status_code == 404
    assert post(manager, f"/{paid.pk}/prepare").json()["status"] == "preparing"
    guide = login(make_store_staff(merchant, Role.SHOPPING_GUIDE, elsewhere_store))
    assert {i["id"] for i in guide.get(URL).json()["items"]} == {elsewhere.pk}
    unassigned_key = api_client(merchant, Role.STORE_MANAGER)
    assert unassigned_key.get(URL).json()["count"] == 0


def test_a_delivery_order_through_the_api(merchant, other_merchant):
    order = make_order(merchant, status="paid", fulfilment="delivery")
    client = api_client(merchant)
    assert post(client, f"/{order.pk}/prepare").json()["actions"] == ["ship"]
    bad = post(client, f"/{order.pk}/ship", {"carrier": "", "tracking_number": "x"})
    assert bad.status_code == 422
    assert set(bad.json()["fields"]) == {"carrier", "tracking_number"}
    assert Order.unscoped.get(pk=order.pk).status == "preparing"
    missing = post(client, f"/{order.pk}/ship", {"carrier": "SF"})
    assert missing.status_code == 422
    assert "tracking_number" in missing.json()["fields"]
    shipped = post(
        client, f"/{order.pk}/ship", {"carrier": "顺丰速运", "tracking_number": "SF1234567890"}
    ).json()
    assert (shipped["status"], shipped["carrier"], shipped["tracking_number"]) == (
        "shipped",
        "顺丰速运",
        "SF1234567890",
    )
    assert post(client, f"/{order.pk}/complete").json()["status"] == "completed"
    again = post(client, f"/{order.pk}/complete")
    assert again.status_code == 409
    assert again.json()["error"] == "invalid_transition"


def test_ready_and_verify_pickup(merchant, paid, shop, other_merchant):
    client = api_client(merchant)
    post(client, f"/{paid.pk}/prepare")
    assert post(client, f"/{paid.pk}/ready").json()["status"] == "ready_for_pickup"
    wrong = "000000" if paid.pickup_code != "000000" else "111111"
    refused = post(client, "/verify-pickup", {"store_id": shop.store.pk, "code": wrong})
    assert refused.status_code == 422
    assert refused.json()["error"] == "wrong_pickup_code"
    assert "code" in refused.json()["fields"]
    theirs = make_store(other_merchant)
    assert (
        post(
            client, "/verify-pickup", {"store_id": theirs.pk, "code": paid.pickup_code}
        ).status_code
        == 404
    )
    done = post(client, "/verify-pickup", {"store_id": shop.store.pk, "code": paid.pickup_code})
    assert done.status_code == 200
    assert done.json()["id"] == paid.pk
    assert done.json()["status"] == "completed"


def test_cancel_an_unpaid_order_but_not_a_paid_one(merchant, paid, shop):
    unpaid = make_order(merchant, shop=shop)
    client = api_client(merchant)
    assert post(client, f"/{unpaid.pk}/cancel", {}).status_code == 422
    body = post(client, f"/{unpaid.pk}/cancel", {"reason": "客户来电取消"}).json()
    assert body["status"] == "cancelled"
    assert body["cancel_reason"] == "客户来电取消"
    refused = post(client, f"/{paid.pk}/cancel", {"reason": "x"})
    assert refused.status_code == 409


def test_shipping_rule(merchant, other_merchant):
    client = api_client(merchant)
    assert client.get(f"{URL}/shipping-rule").json() == {"flat_fee": 0, "free_over": None}
    response = client.put(
        f"{URL}/shipping-rule",
        data=json.dumps({"flat_fee": 800, "free_over": 9900}),
        content_type="application/json",
    )
    assert response.json() == {"flat_fee": 800, "free_over": 9900}
    assert (
        client.put(
            f"{URL}/shipping-rule",
            data=json.dumps({"flat_fee": -1}),
            content_type="application/json",
        ).status_code
        == 422
    )
    with merchant_context(merchant):
        assert ShippingSettings.objects.get().flat_fee == 800
    assert api_client(other_merchant).get(f"{URL}/shipping-rule").json()["flat_fee"] == 0


def read_csv(response) -> list[list[str]]:
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_csv_export_is_utf8_with_bom_one_row_per_order_amounts_in_yuan(
    merchant, other_merchant, shop
):
    customer = make_customer(merchant, name="王小明")
    order = make_order(merchant, status="paid", shop=shop, customer=customer, quantity=3)
    make_order(merchant, status="cancelled", shop=shop)
    response = api_client(merchant).get(
        f"{URL}/export.csv?status=paid", headers={"Accept-Language": "en"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    header, *rows = read_csv(response)
    assert header[0] == "Order number"
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["Order number"] == order.number
    assert row["Total (yuan)"] == "54.00"
    assert row["Subtotal (yuan)"] == "54.00"
    assert row["Customer name"] == "王小明"
    assert row["Units"] == "3"
    assert f"{shop.product.name} × 3" == row["Items"]
    local = clock.local(order.placed_at, "Asia/Shanghai").strftime("%Y-%m-%d %H:%M:%S")
    assert row["Placed at"] == local


def test_csv_export_respects_scoping_and_roles(merchant, other_merchant, paid, shop):
    make_order(merchant, status="paid", shop=make_shop(merchant))
    manager = login(make_store_staff(merchant, Role.STORE_MANAGER, shop.store))
    _header, *rows = read_csv(manager.get(f"{URL}/export.csv"))
    assert [r[0] for r in rows] == [paid.number]
    _header, *rows = read_csv(api_client(other_merchant).get(f"{URL}/export.csv"))
    assert rows == []


def test_staff_session_writes_need_the_csrf_token(merchant, paid):
    client = staff_client(merchant)
    client.handler.enforce_csrf_checks = True
    response = post(client, f"/{paid.pk}/prepare")
    assert response.status_code == 403
    assert Order.unscoped.get(pk=paid.pk).status == "paid"


def test_query_counts_of_the_list_do_not_grow_with_orders(
    merchant, other_merchant, shop, django_assert_max_num_queries
):
    for _ in range(5):
        make_order(merchant, shop=shop)
    client = api_client(merchant)
    with django_assert_max_num_queries(12):
        assert client.get(URL).json()["count"] == 5
