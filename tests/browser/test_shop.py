"""The shop in a real browser, on a phone in Shanghai, and the operator behind the counter.

A customer browses the shop, logs in with phone + code (read from the SMS outbox page the
login screen links to in development), buys two items for pickup at the nearest store (the
browser shares a position at People's Square, so "nearest" is computed, not chosen) and pays
in the sandbox, whose signed notification reaches the live server over HTTP. Then the
operator logs in to the console, finds the order, verifies the pickup code the customer's
phone shows, and refunds one of the items by line; the stock of that item goes back.

Screenshots of the storefront pages at 390 px go to ``test-artifacts/shop-*.png``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_merchant, make_staff, make_user
from siyu.inventory import services as inventory
from siyu.orders.models import Order, OrderLine
from siyu.payments.models import Payment, Refund
from tests.storefront.shop import PEOPLES_SQUARE, Shop, build_shop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pass-word-123"
PHONE = "139 1234 5678"


@pytest.fixture
def shop(settings: Any, live_server: Any) -> Shop:
    # the sandbox provider posts its notifications to PUBLIC_URL: the live server here
    settings.PUBLIC_URL = live_server.url
    settings.DEBUG = True  # the login page links to the SMS outbox
    merchant = make_merchant(slug="morning-bean", name="晨豆咖啡")
    make_staff(merchant, Role.OPERATOR, user=make_user("operator", password=PASSWORD))
    return build_shop(merchant, illustrated=True)


def available(shop: Shop, location: Any, sku: Any) -> int:
    with merchant_context(shop.merchant):
        return inventory.available(location, [sku.pk])[sku.pk]


def shoot(page: Any, artifacts: Path, name: str) -> None:
    page.wait_for_load_state("load")
    page.screenshot(path=str(artifacts / f"shop-{name}.png"), full_page=True)


def phone_context(browser: Any, live_server: Any) -> Any:
    lat, lng = PEOPLES_SQUARE
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 390, "height": 844},
        locale="zh-CN",
        is_mobile=True,
        has_touch=True,
        geolocation={"latitude": lat, "longitude": lng, "accuracy": 30},
        permissions=["geolocation"],
    )
    context.set_default_timeout(20_000)
    return context


def log_in_with_the_outbox(page: Any) -> None:
    page.wait_for_url(re.compile(r"/login/\?next="))
    page.fill("input[name=phone]", PHONE)
    page.click("form:has(input[name=phone]) button[type=submit]")
    page.wait_for_url(re.compile(r"step=code"))
    page.click(".sf-dev a")  # "no SMS gateway here: read your code in the SMS outbox"
    page.wait_for_url(re.compile(r"/login/sms/"))
    code = page.locator(".sf-code").inner_text().strip()
    assert re.fullmatch(r"\d{6}", code)
    page.go_back()
    page.fill("input[name=code]", code)
    page.click("form:has(input[name=code]) button[type=submit]")


def test_buy_two_items_for_pickup_pay_collect_and_refund_one(
    browser: Any, live_server: Any, shop: Shop, artifacts: Path
) -> None:
    iced_large = shop.skus["L/Iced"]
    assert available(shop, shop.jingan_stock, iced_large) == 20
    assert available(shop, shop.jingan_stock, shop.tiramisu_sku) == 3
    context = phone_context(browser, live_server)
    page = context.new_page()
    base = f"/s/{shop.slug}"

    # --- browse: home, a product with its options -------------------------------------------------
    page.goto(f"{base}/")
    assert page.locator(".sf-hero h1").inner_text() == "晨豆咖啡"
    assert page.locator(".sf-product").count() == 8
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.wait_for_function(
        "() => [...document.images].slice(0, 4).every(i => i.complete && i.naturalWidth > 0)"
    )
    shoot(page, artifacts, "home")
    page.click(".sf-product:has(.sf-product-name:text-is('拿铁'))")
    page.wait_for_url(re.compile(rf"/products/{shop.latte.pk}/"))
    assert "选择门店查看库存" not in page.content()  # stock is shown for delivery meanwhile
    page.click("label:has(input[name=option-0][value=L])")
    page.click("label:has(input[name=option-1][value=Iced])")
    assert page.locator("[data-sku-price]").inner_text().replace("\n", "") == "¥32.00"
    assert page.locator("input[name=sku_id]").input_value() == str(iced_large.pk)
    shoot(page, artifacts, "product")

    # --- adding to the cart asks to log in with phone + code, and comes back ------------------------
    page.click("button[name=add]")
    log_in_with_the_outbox(page)
    page.wait_for_url(re.compile(rf"/products/{shop.latte.pk}/\?sku={iced_large.pk}"))
    assert page.locator("input[name=option-1][value=Iced]").is_checked()
    page.click("button[name=add]")
    page.wait_for_selector(".sf-alert:has-text('已加入购物车')")

    # the second item, found through the categories
    page.click(".sf-bar-link:has-text('首页')")
    page.click(".sf-tabs a:has-text('分类')")
    page.click(".sf-rail a:has-text('甜点')")
    shoot(page, artifacts, "categories")
    page.click(".sf-row-product:has(.sf-product-name:text-is('提拉米苏'))")
    page.click("button[name=add]")
    page.wait_for_selector(".sf-alert:has-text('已加入购物车')")

    # --- cart and checkout: pickup at the nearest store, from the phone's position -----------------
    page.click(".sf-bar-link:has-text('购物车')")
    page.wait_for_url(re.compile(r"/cart/"))
    assert page.locator(".sf-line").count() == 2
    assert "¥70.00" in page.locator(".sf-bar-total").inner_text().replace("\n", "")
    shoot(page, artifacts, "cart")
    page.click("a:has-text('去结算')")
    page.wait_for_url(re.compile(r"/checkout/\?.*lat=31\.23"))  # the page asked where we are
    nearest = page.locator("input[name=store_id]:checked")
    assert nearest.get_attribute("value") == str(shop.jingan.pk)
    first = page.locator(".sf-option").first.inner_text()
    assert "静安店" in first
    assert re.search(r"1\.9 km", first)
    names = page.locator(".sf-option strong").all_inner_texts()
    assert names == ["静安店", "陆家嘴店", "王府井店"]
    page.fill("#note", "少冰")
    shoot(page, artifacts, "checkout")
    page.click("button:has-text('提交订单')")

    # --- the sandbox provider's pay page, then back to the shop ------------------------------------
    page.wait_for_url(re.compile(r"/sandbox/pay/"))
    assert "¥70.00" in page.locator(".sandbox-amount").inner_text()
    shoot(page, artifacts, "sandbox-pay")
    page.click("button[value=pay]")
    page.wait_for_url(re.compile(r"/orders/\d+/paid/"))
    page.wait_for_selector('[data-payment-state="paid"]')
    assert "支付成功" in page.content()
    shoot(page, artifacts, "paid")
    order = Order.unscoped.get()
    assert (order.status, order.store_id, order.total, order.note) == (
        "paid",
        shop.jingan.pk,
        7000,
        "少冰",
    )
    assert Payment.unscoped.get().status == "succeeded"
    assert available(shop, shop.jingan_stock, shop.tiramisu_sku) == 2
    assert available(shop, shop.jingan_stock, iced_large) == 19

    page.click("a:has-text('查看自提码')")
    page.wait_for_url(re.compile(rf"/orders/{order.pk}/$"))
    shown_code = page.locator(".sf-pickup-code").inner_text().replace(" ", "")
    assert shown_code == order.pickup_code
    assert page.locator(".sf-qr svg").count() == 1
    assert "已付款 · 待自提" in page.locator(".sf-banner h1").inner_text()
    shoot(page, artifacts, "order")
    page.goto(f"{base}/orders/")
    assert page.locator(f"a.sf-order[href='{base}/orders/{order.pk}/']").count() == 1
    shoot(page, artifacts, "orders")

    # --- the operator verifies the code at the order and refunds one item --------------------------
    console = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale="zh-CN"
    )
    console.set_default_timeout(20_000)
    staff = console.new_page()
    staff.goto("/console/login/")
    staff.fill("input[name=username]", "operator")
    staff.fill("input[name=password]", PASSWORD)
    staff.click("button[type=submit]")
    staff.wait_for_url(re.compile(r"/console/$"))
    staff.goto("/console/orders/")
    staff.click(f"a:has-text('{order.number}')")
    staff.wait_for_url(re.compile(rf"/console/orders/{order.pk}/"))
    assert "静安店" in staff.content()
    staff.fill("form.order-collect input[name=code]", shown_code)
    staff.click("form.order-collect button[type=submit]")
    staff.wait_for_selector(".order-status:has-text('已完成')")
    order.refresh_from_db()
    assert order.status == "completed"

    cake_line = OrderLine.unscoped.get(order=order, sku=shop.tiramisu_sku)
    staff.fill(f"form.refund-form input[name=qty_{cake_line.pk}]", "1")
    staff.fill("#refund-reason", "提拉米苏售罄后顾客不要了")
    staff.click("form.refund-form button[type=submit]")
    staff.wait_for_selector(".refund-list .refund-item")
    refund = Refund.unscoped.get()
    assert (refund.status, refund.amount, refund.restock) == ("succeeded", 3800, True)
    order.refresh_from_db()
    assert (order.refund_state, order.refunded_total, order.status) == (
        "partial",
        3800,
        "completed",
    )
    cake_line.refresh_from_db()
    assert cake_line.refunded_quantity == 1
    assert available(shop, shop.jingan_stock, shop.tiramisu_sku) == 3  # restocked
    assert available(shop, shop.jingan_stock, iced_large) == 19  # kept by the customer
    console.close()

    # --- the customer's phone shows the collected order and the refund -----------------------------
    page.goto(f"{base}/orders/{order.pk}/")
    assert "已取货" in page.locator(".sf-banner h1").inner_text()
    assert page.locator(".sf-pickup-code").count() == 0  # used: no longer shown
    body = page.locator("main").inner_text()
    assert "已退 1 件" in body
    assert "已退款" in body
    shoot(page, artifacts, "order-refunded")
    context.close()


def test_the_payment_result_page_updates_itself_when_the_notification_arrives(
    browser: Any, live_server: Any, shop: Shop, settings: Any, artifacts: Path
) -> None:
    """The provider's notification is late: the page says it is waiting, polls the order's
    status through the customer API, and shows the payment once it has arrived."""
    from siyu.customers.testing import make_customer, storefront_client
    from siyu.orders.testing import make_order
    from siyu.payments.models import SandboxNotification
    from siyu.payments.sandbox import provider
    from siyu.payments.testing import deliver_pending, start, token_of

    settings.PUBLIC_URL = "http://127.0.0.1:9"  # the provider cannot reach the shop for now
    customer = make_customer(shop.merchant, "+8613912345678")
    order = make_order(
        shop.merchant,
        customer=customer,
        items=[(shop.tiramisu_sku.pk, 1)],
        store_id=shop.jingan.pk,
    )
    result_page = f"/s/{shop.slug}/orders/{order.pk}/paid/"
    payment = start(order, return_url=result_page)
    with merchant_context(shop.merchant):
        provider.pay(token_of(payment))
    assert SandboxNotification.unscoped.get().status == "pending"  # not delivered
    session = storefront_client(customer).cookies["sessionid"].value

    context = phone_context(browser, live_server)
    context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    page = context.new_page()
    page.goto(result_page)
    page.wait_for_selector('[data-payment-state="waiting"]')
    assert "正在确认支付结果" in page.content()
    shoot(page, artifacts, "paid-waiting")

    deliver_pending()  # the provider's retry gets through
    page.wait_for_selector('[data-payment-state="paid"]')  # the page reloaded by itself
    assert "支付成功" in page.content()
    assert Order.unscoped.get(pk=order.pk).status == "paid"
    context.close()
