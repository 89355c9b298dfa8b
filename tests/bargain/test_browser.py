"""Bargains in a real browser, on phones in Chinese: a customer finds the bargain on a product
page, logs in with phone + code and starts it; a friend opens the share link, taps "help cut",
logs in on the way and comes back to the page with the cut done; the starter buys at the
price reached through the checkout and pays in the sandbox.

Screenshots at 390 px go to ``test-artifacts/bargain-*.png``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from siyu.bargain.models import Bargain, BargainActivity, BargainCut
from siyu.core import clock
from siyu.core.testing import make_merchant
from siyu.orders.models import Order
from tests.browser import conftest as browser_fixtures
from tests.browser.test_shop import phone_context
from tests.storefront.shop import Shop, build_shop

# the real-browser fixtures of tests/browser (Chromium, the screenshot folder)
browser = browser_fixtures.browser
artifacts = browser_fixtures.artifacts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STARTER = "139 2222 0001"
FRIEND = "139 2222 0002"


@pytest.fixture
def shop(settings: Any, live_server: Any) -> Shop:
    settings.PUBLIC_URL = live_server.url  # the sandbox notifies the live server
    settings.DEBUG = True  # the login page links to the SMS outbox
    settings.OTP_RESEND_SECONDS = 0  # two people log in from this one address within a minute
    return build_shop(make_merchant(slug="morning-bean", name="晨豆咖啡"), illustrated=True)


def shoot(page: Any, artifacts: Path, name: str) -> None:
    page.wait_for_load_state("load")
    page.screenshot(path=str(artifacts / f"bargain-{name}.png"), full_page=True)


def log_in(page: Any, phone: str) -> None:
    page.wait_for_url(re.compile(r"/login/\?next="))
    page.fill("input[name=phone]", phone)
    page.click("form:has(input[name=phone]) button[type=submit]")
    page.wait_for_url(re.compile(r"step=code"))
    page.click(".sf-dev a")  # no SMS gateway here: the code is in the SMS outbox
    page.wait_for_url(re.compile(r"/login/sms/"))
    code = page.locator(".sf-code").first.inner_text().strip()
    assert re.fullmatch(r"\d{6}", code)
    page.go_back()
    page.fill("input[name=code]", code)
    page.click("form:has(input[name=code]) button[type=submit]")


def test_start_share_help_and_buy_on_phones(
    browser: Any, live_server: Any, shop: Shop, artifacts: Path
) -> None:
    now = clock.now()
    activity = BargainActivity.unscoped.create(
        merchant=shop.merchant,
        name="提拉米苏好友砍",
        sku=shop.tiramisu_sku,
        floor_price=990,
        helpers_needed=3,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=3),
        status=BargainActivity.Status.ACTIVE,
        stock_total=5,
        stock_left=5,
    )
    base = f"/s/{shop.slug}"

    # --- the starter finds it on the product page and starts it ----------------------------------
    starter = phone_context(browser, live_server).new_page()
    starter.goto(f"{base}/products/{shop.tiramisu.pk}/")
    starter.click(f"[data-bargain-activity='{activity.pk}']")
    starter.wait_for_url(re.compile(rf"/bargain/{activity.pk}/$"))
    assert "¥9.90" in starter.content()
    shoot(starter, artifacts, "activity")
    starter.click("button:has-text('登录后发起砍价')")
    log_in(starter, STARTER)
    starter.wait_for_url(re.compile(rf"/bargain/{activity.pk}/$"))
    starter.click("button:has-text('发起砍价')")
    starter.wait_for_url(re.compile(r"/bargain/b/[a-z0-9]+/$"))
    share_url = starter.url
    bargain = Bargain.unscoped.get()
    assert bargain.current_price == 3800
    assert starter.locator("#share-link").input_value() == share_url

    # --- a friend opens the link, taps "help cut", logs in, and the cut is done on return -------
    friend = phone_context(browser, live_server).new_page()
    friend.goto(share_url)
    shoot(friend, artifacts, "share")
    friend.click("button:has-text('登录后帮TA砍一刀')")
    log_in(friend, FRIEND)
    friend.wait_for_url(share_url)
    assert "谢谢助力" in friend.content()
    assert "你已经帮这个砍价砍过一刀了" in friend.content()
    cut = BargainCut.unscoped.get()
    assert cut.new_customer  # signed up through the link after the bargain started
    bargain.refresh_from_db()
    assert bargain.current_price == 3800 - cut.amount
    shoot(friend, artifacts, "helped")

    # --- the starter sees the helper and buys at the price reached -------------------------------
    starter.reload()
    assert starter.locator(".bg-helpers li").count() == 1
    price = f"¥{bargain.current_price / 100:,.2f}"
    starter.click(f"a:has-text('立即以 {price} 购买')")
    starter.wait_for_url(re.compile(r"/buy/$"))
    if starter.locator("select[name=store_id]").input_value() != str(shop.jingan.pk):
        with starter.expect_navigation():  # a change re-prices the page (nothing is placed)
            starter.select_option("select[name=store_id]", str(shop.jingan.pk))
    assert Order.unscoped.count() == 0
    assert price in starter.locator(".bg-figures tr.total").inner_text()
    shoot(starter, artifacts, "buy")
    starter.click(f"button:has-text('支付 {price}')")
    starter.wait_for_url(re.compile(r"/sandbox/pay/"))
    assert price in starter.locator(".sandbox-amount").inner_text()
    starter.click("button[value=pay]")
    starter.wait_for_url(re.compile(r"/orders/\d+/paid/"))
    starter.wait_for_selector('[data-payment-state="paid"]')
    order = Order.unscoped.get()
    bargain.refresh_from_db()
    assert (order.total, order.status) == (bargain.current_price, "paid")
    assert (bargain.status, bargain.order_id) == ("bought", order.pk)
