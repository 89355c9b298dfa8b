"""Console pages of orders: roles, store scoping, filters, actions, the pickup counter, CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from django.urls import reverse

from siyu.core import clock
from siyu.core.permissions import Role
from siyu.core.testing import login, staff_client
from siyu.orders.models import Order, OrderLine, ShippingSettings
from siyu.orders.testing import make_customer, make_order, make_shop
from siyu.stores.testing import make_store, make_store_staff


@pytest.fixture
def paid(merchant, other_merchant, shop):
    return make_order(merchant, status="paid", shop=shop, quantity=2)


def english(client):
    client.cookies["siyu_language"] = "en"
    return client


def test_the_list_shows_orders_with_money_and_filters(merchant, paid, shop):
    delivery = make_order(merchant, status="shipped", fulfilment="delivery")
    client = english(staff_client(merchant))
    page = client.get(reverse("orders:order_list"))
    assert page.status_code == 200
    html = page.content.decode()
    assert paid.number in html
    assert delivery.number in html
    assert "¥36.00" in html
    filtered = client.get(reverse("orders:order_list"), {"status": "shipped"}).content.decode()
    assert delivery.number in filtered
    assert paid.number not in filtered
    by_phone = client.get(
        reverse("orders:order_list"), {"q": paid.customer.phone[-4:]}
    ).content.decode()
    assert paid.number in by_phone
    by_store = client.get(reverse("orders:order_list"), {"store": shop.store.pk}).content.decode()
    assert paid.number in by_store
    assert delivery.number not in by_store
    assert 'aria-current="page"' in html  # the navigation highlights Orders


def test_the_list_paginates(merchant, other_merchant, shop):
    for _ in range(26):
        make_order(merchant, shop=shop)
    client = english(staff_client(merchant))
    first = client.get(reverse("orders:order_list")).content.decode()
    assert "1–25 of 26" in first
    second = client.get(reverse("orders:order_list"), {"page": 2}).content.decode()
    assert "26–26 of 26" in second


def test_a_bad_date_range_is_shown_and_ignored(merchant, paid):
    client = english(staff_client(merchant))
    page = client.get(
        reverse("orders:order_list"), {"date_from": "2026-03-02", "date_to": "2026-03-01"}
    )
    assert page.status_code == 200
    assert "The end is before the start." in page.content.decode()


def test_the_detail_shows_lines_pricing_pickup_code_timeline_and_payments(merchant, paid):
    page = english(staff_client(merchant)).get(reverse("orders:order_detail", args=[paid.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert OrderLine.unscoped.get(order=paid).product_name in html
    assert f"{paid.pickup_code[:3]} {paid.pickup_code[3:]}" in html
    assert "2 × ¥18.00 = ¥36.00" in html
    assert "Order placed" in html
    assert 'id="payments"' in html
    assert reverse("orders:order_prepare", args=[paid.pk]) in html
    assert reverse("orders:order_collect", args=[paid.pk]) in html
    assert reverse("orders:order_cancel", args=[paid.pk]) not in html  # paid: refund instead


def test_the_page_is_complete_in_chinese(merchant, paid):
    client = staff_client(merchant)
    client.cookies["siyu_language"] = "zh-hans"
    html = client.get(reverse("orders:order_detail", args=[paid.pk])).content.decode()
    assert "已付款" in html
    assert "自提码" in html
    assert "开始备货" in html
    listing = client.get(reverse("orders:order_list")).content.decode()
    assert "导出 CSV" in listing


def test_finance_sees_but_does_not_act(merchant, paid):
    finance = english(staff_client(merchant, Role.FINANCE))
    html = finance.get(reverse("orders:order_detail", args=[paid.pk])).content.decode()
    assert reverse("orders:order_prepare", args=[paid.pk]) not in html
    assert finance.post(reverse("orders:order_prepare", args=[paid.pk])).status_code == 403
    assert finance.get(reverse("orders:pickup_verify")).status_code == 403
    assert Order.unscoped.get(pk=paid.pk).status == "paid"


def test_another_merchants_order_is_404(merchant, other_merchant, paid):
    client = staff_client(other_merchant)
    assert client.get(reverse("orders:order_detail", args=[paid.pk])).status_code == 404
    assert client.post(reverse("orders:order_prepare", args=[paid.pk])).status_code == 404


def test_store_staff_see_only_their_stores_orders(merchant, paid, shop):
    other = make_order(
        merchant, status="paid", shop=make_shop(merchant, store=make_store(merchant))
    )
    manager = english(login(make_store_staff(merchant, Role.STORE_MANAGER, shop.store)))
    html = manager.get(reverse("orders:order_list")).content.decode()
    assert paid.number in html
    assert other.number not in html
    assert manager.get(reverse("orders:order_detail", args=[other.pk])).status_code == 404
    assert manager.post(reverse("orders:order_prepare", args=[other.pk])).status_code == 404


def test_prepare_ready_and_collect_from_the_order_page(merchant, paid):
    client = english(staff_client(merchant))
    response = client.post(reverse("orders:order_prepare", args=[paid.pk]), follow=True)
    assert "Preparing started." in response.content.decode()
    client.post(reverse("orders:order_ready", args=[paid.pk]))
    assert Order.unscoped.get(pk=paid.pk).status == "ready_for_pickup"
    wrong = "000000" if paid.pickup_code != "000000" else "111111"
    refused = client.post(reverse("orders:order_collect", args=[paid.pk]), {"code": wrong})
    assert refused.status_code == 422
    assert "not the order&#x27;s pickup code" in refused.content.decode()
    client.post(reverse("orders:order_collect", args=[paid.pk]), {"code": paid.pickup_code})
    assert Order.unscoped.get(pk=paid.pk).status == "completed"


def test_a_move_out_of_turn_is_a_message_not_an_error(merchant, paid):
    client = english(staff_client(merchant))
    response = client.post(reverse("orders:order_ready", args=[paid.pk]), follow=True)
    assert response.status_code == 200
    assert "Not possible while the order is Paid." in response.content.decode()


def test_ship_with_carrier_and_tracking_number(merchant, other_merchant):
    order = make_order(merchant, status="preparing", fulfilment="delivery")
    client = english(staff_client(merchant))
    bad = client.post(
        reverse("orders:order_ship", args=[order.pk]), {"carrier": "SF", "tracking_number": "!"}
    )
    assert bad.status_code == 422
    assert "3–60 letters, digits or dashes." in bad.content.decode()
    assert Order.unscoped.get(pk=order.pk).status == "preparing"
    client.post(
        reverse("orders:order_ship", args=[order.pk]),
        {"carrier": "顺丰速运", "tracking_number": "SF1234567890"},
    )
    shipped = Order.unscoped.get(pk=order.pk)
    assert (shipped.status, shipped.carrier, shipped.tracking_number) == (
        "shipped",
        "顺丰速运",
        "SF1234567890",
    )
    html = client.get(reverse("orders:order_detail", args=[order.pk])).content.decode()
    assert "SF1234567890" in html
    client.post(reverse("orders:order_complete", args=[order.pk]))
    assert Order.unscoped.get(pk=order.pk).status == "completed"


def test_cancel_an_unpaid_order_with_a_reason(merchant, other_merchant, shop):
    order = make_order(merchant, shop=shop)
    client = english(staff_client(merchant))
    assert (
        client.post(reverse("orders:order_cancel", args=[order.pk]), {"reason": ""}).status_code
        == 422
    )
    client.post(reverse("orders:order_cancel", args=[order.pk]), {"reason": "客户电话取消"})
    cancelled = Order.unscoped.get(pk=order.pk)
    assert (cancelled.status, cancelled.cancel_reason) == ("cancelled", "客户电话取消")


def test_the_pickup_counter_finds_the_order_and_confirms_collection(merchant, paid, shop):
    guide = english(login(make_store_staff(merchant, Role.SHOPPING_GUIDE, shop.store)))
    page = guide.get(reverse("orders:pickup_verify"))
    assert page.status_code == 200
    assert f'value="{shop.store.pk}" selected' in page.content.decode()
    wrong = "000000" if paid.pickup_code != "000000" else "111111"
    refused = guide.post(reverse("orders:pickup_verify"), {"store": shop.store.pk, "code": wrong})
    assert refused.status_code == 422
    assert "No open order at" in refused.content.decode()
    found = guide.post(
        reverse("orders:pickup_verify"), {"store": shop.store.pk, "code": paid.pickup_code}
    )
    assert found.status_code == 200
    assert paid.number in found.content.decode()
    assert Order.unscoped.get(pk=paid.pk).status == "paid"  # found, not yet handed over
    done = guide.post(
        reverse("orders:pickup_verify"),
        {"store": shop.store.pk, "code": paid.pickup_code, "confirm": "1"},
        follow=True,
    )
    assert f"Order {paid.number} is collected." in done.content.decode()
    assert Order.unscoped.get(pk=paid.pk).status == "completed"


def test_the_pickup_counter_offers_only_the_staff_members_stores(merchant, paid, shop):
    elsewhere = make_store(merchant)
    guide = english(login(make_store_staff(merchant, Role.SHOPPING_GUIDE, elsewhere)))
    refused = guide.post(
        reverse("orders:pickup_verify"), {"store": shop.store.pk, "code": paid.pickup_code}
    )
    assert refused.status_code == 422  # not one of the choices
    assert Order.unscoped.get(pk=paid.pk).status == "paid"
    nowhere = english(login(make_store_staff(merchant, Role.SHOPPING_GUIDE)))
    assert (
        "not assigned to a store" in nowhere.get(reverse("orders:pickup_verify")).content.decode()
    )


def test_csv_export_of_the_filtered_list(merchant, other_merchant, shop):
    customer = make_customer(merchant, name="王小明")
    order = make_order(merchant, status="paid", shop=shop, customer=customer, quantity=3)
    make_order(merchant, status="cancelled", shop=shop)
    response = staff_client(merchant).get(reverse("orders:order_export"), {"status": "paid"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")
    header, *rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert header[0] == "订单号"
    assert [r[0] for r in rows] == [order.number]
    assert "54.00" in rows[0]
    assert "王小明" in rows[0]
    assert "已付款" in rows[0]


def test_csv_export_uses_the_merchants_days(merchant, other_merchant, shop):
    order = make_order(merchant, shop=shop)
    Order.unscoped.filter(pk=order.pk).update(
        placed_at=datetime(2026, 3, 1, 16, 30, tzinfo=clock.zone("UTC"))
    )
    raw = b"".join(
        english(staff_client(merchant))
        .get(reverse("orders:order_export"), {"date_from": "2026-03-02", "date_to": "2026-03-02"})
        .streaming_content
    )
    header, *rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [r[0] for r in rows] == [order.number]
    assert rows[0][header.index("Placed at")] == "2026-03-02 00:30:00"


def test_shipping_settings_for_owners_only(merchant, other_merchant):
    owner = english(staff_client(merchant))
    assert owner.get(reverse("orders:shipping_settings")).status_code == 200
    bad = owner.post(reverse("orders:shipping_settings"), {"flat_fee": "abc", "free_over": ""})
    assert bad.status_code == 422
    owner.post(reverse("orders:shipping_settings"), {"flat_fee": "8", "free_over": "¥99.00"})
    setting = ShippingSettings.unscoped.get(merchant=merchant)
    assert (setting.flat_fee, setting.free_over) == (800, 9900)
    page = owner.get(reverse("orders:shipping_settings")).content.decode()
    assert 'value="8.00"' in page
    operator = staff_client(merchant, Role.OPERATOR)
    assert operator.get(reverse("orders:shipping_settings")).status_code == 403


def test_the_admin_lists_orders_of_every_merchant_read_only(merchant, paid, client):
    from siyu.core.testing import make_user

    admin = make_user(is_staff=True, is_superuser=True)
    client.force_login(admin)
    listing = client.get("/admin/orders/order/")
    assert listing.status_code == 200
    assert paid.number in listing.content.decode()
    page = client.get(f"/admin/orders/order/{paid.pk}/change/")
    assert page.status_code == 200
    assert client.get("/admin/orders/order/add/").status_code == 403


def test_the_timeline_names_who_acted(merchant, paid):
    from siyu.core.tenancy import merchant_context
    from siyu.orders import services

    with merchant_context(merchant):
        order = make_order(merchant)
        services.cancel(order, actor=None, reason="")
    client = english(staff_client(merchant))
    html = client.get(reverse("orders:order_detail", args=[order.pk])).content.decode()
    assert "Customer" in html  # placed by the customer
    assert "System" in html  # cancelled by the overdue job
    paid_html = client.get(reverse("orders:order_detail", args=[paid.pk])).content.decode()
    assert "Payment provider" in paid_html
