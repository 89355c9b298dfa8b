"""Coupons in a real browser: the operator creates a coupon in the console and starts it; a
customer on a phone claims it from its claim page (logging in with phone + code on the way),
finds it in "my coupons", checks out with it on the HTML checkout page (it is chosen for them;
choosing "no coupon" and back re-prices the page at once), pays in the sandbox and sees the
discount on the order; the operator then reads the coupon's results.

Screenshots at 390 px (storefront) and 1280 px (console) go to ``test-artifacts/coupons-*.png``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from siyu.core.permissions import Role
from siyu.core.testing import make_merchant, make_staff, make_user
from siyu.orders.models import Order
from siyu.promotions.models import Coupon, CouponTemplate
from tests.browser.test_shop import PASSWORD, log_in_with_the_outbox, phone_context
from tests.storefront.shop import Shop, build_shop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(settings: Any, live_server: Any) -> Shop:
    settings.PUBLIC_URL = live_server.url  # the sandbox notifies the live server
    settings.DEBUG = True  # the login page links to the SMS outbox
    merchant = make_merchant(slug="morning-bean", name="晨豆咖啡")
    make_staff(merchant, Role.OPERATOR, user=make_user("operator", password=PASSWORD))
    return build_shop(merchant, illustrated=True)


def shoot(page: Any, artifacts: Path, name: str) -> None:
    page.wait_for_load_state("load")
    page.screenshot(path=str(artifacts / f"coupons-{name}.png"), full_page=True)


def to_pay(page: Any) -> str:
    return page.locator(".sf-bar-total").inner_text().replace("\n", "").replace(" ", "")


def test_operator_creates_a_coupon_a_customer_claims_and_uses_it_at_checkout(
    browser: Any, live_server: Any, shop: Shop, artifacts: Path
) -> None:
    # --- the operator creates a spend-and-save coupon and starts it -------------------------------
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
    staff.goto("/console/promotions/")
    staff.click("a:has-text('新建优惠券')")
    staff.wait_for_url(re.compile(r"/console/promotions/new/"))
    staff.fill("input[name=name]", "满50减10")
    staff.check("input[name=kind][value=threshold]")
    assert staff.locator("input[name=percent]").is_hidden()  # only what the kind needs
    staff.fill("input[name=amount]", "10")
    staff.fill("input[name=threshold]", "50")
    staff.fill("input[name=valid_days]", "30")
    staff.fill("input[name=total_quantity]", "100")
    shoot(staff, artifacts, "console-form")
    staff.click("button:has-text('保存')")
    staff.wait_for_url(re.compile(r"/console/promotions/\d+/$"))
    template = CouponTemplate.unscoped.get()
    assert (template.kind, template.amount, template.threshold, template.status) == (
        "threshold",
        1000,
        5000,
        "draft",
    )
    staff.click("button:has-text('立即开始')")
    staff.wait_for_selector(".badge:has-text('进行中'), .badge:has-text('已启用'), .badge-ok")
    template.refresh_from_db()
    assert template.status == "active"
    claim_path = f"/s/{shop.slug}/coupons/{template.pk}/"
    assert claim_path in staff.locator("#claim-link").inner_text()

    # --- a customer on a phone claims it -----------------------------------------------------------
    context = phone_context(browser, live_server)
    page = context.new_page()
    page.goto(claim_path)
    assert "满50减10" in page.locator("h1").inner_text()
    shoot(page, artifacts, "claim")
    page.click("button[type=submit]:has-text('登录')")
    log_in_with_the_outbox(page)
    page.wait_for_url(re.compile(re.escape(claim_path)))
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(rf"/s/{shop.slug}/coupons/$"))
    assert "满50减10" in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(page, artifacts, "my-coupons")
    coupon = Coupon.unscoped.get()

    # --- checkout: two large iced lattes (¥64) at 静安店; the coupon is chosen for them ------------
    latte = shop.skus["L/Iced"]
    page.goto(f"/s/{shop.slug}/checkout/?items={latte.pk}:2&store_id={shop.jingan.pk}")
    chosen = page.locator("input[name=coupon_id]:checked")
    assert chosen.get_attribute("value") == str(coupon.pk)
    assert to_pay(page).endswith("¥54.00"), to_pay(page)
    assert page.locator("[data-offer-refresh]").is_visible()  # works without JavaScript too
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(page, artifacts, "checkout")
    # Changing the choice submits the form: wait for the new page, not for the old one to change.
    with page.expect_navigation():
        page.click("label:has(input[name=coupon_id][value=none])")
    page.wait_for_load_state()
    assert page.locator("input[name=coupon_id][value=none]").is_checked()
    assert to_pay(page).endswith("¥64.00")
    with page.expect_navigation():
        page.click(f"label:has(input[name=coupon_id][value='{coupon.pk}'])")
    page.wait_for_load_state()
    assert to_pay(page).endswith("¥54.00")
    assert Order.unscoped.count() == 0  # changing the choice placed nothing
    page.click("button:has-text('提交订单')")

    # --- pay in the sandbox; the order shows the discount -----------------------------------------
    page.wait_for_url(re.compile(r"/sandbox/pay/"))
    assert "¥54.00" in page.locator(".sandbox-amount").inner_text()
    page.click("button[value=pay]")
    page.wait_for_url(re.compile(r"/orders/\d+/paid/"))
    page.wait_for_selector('[data-payment-state="paid"]')
    order = Order.unscoped.get()
    assert (order.subtotal, order.discount_total, order.total, order.status) == (
        6400,
        1000,
        5400,
        "paid",
    )
    coupon.refresh_from_db()
    assert (coupon.status, coupon.order_id, coupon.discount) == ("used", order.pk, 1000)
    page.goto(f"/s/{shop.slug}/orders/{order.pk}/")
    assert "−¥10.00" in page.content()
    shoot(page, artifacts, "order")
    page.goto(f"/s/{shop.slug}/coupons/")
    assert "已使用" in page.content()

    # --- the operator reads the results --------------------------------------------------------------
    staff.goto(f"/console/promotions/{template.pk}/")
    stats = staff.locator("dl.stats").inner_text()
    for label, value in (("参与人数", "1"), ("已使用", "1"), ("优惠金额", "¥10.00")):
        assert re.search(rf"{label}\s*{re.escape(value)}", stats), (label, stats)
    assert re.search(r"销售额\s*¥54\.00", stats), stats
    assert re.search(r"新客户\s*1", stats), stats
    staff.wait_for_selector(".chart svg")  # ECharts drew the claims and uses
    assert staff.locator(".coupon-qr svg").count() == 1
    shoot(staff, artifacts, "console-results")
    staff.set_viewport_size({"width": 390, "height": 844})
    staff.reload()
    assert staff.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(staff, artifacts, "console-results-phone")
    context.close()
    console.close()
