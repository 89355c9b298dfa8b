"""The private-domain loop in a real browser: scan a store's code, join, get a card, buy.

A customer's phone opens the store-door join code's short link, logs in with phone + code
on the spot, lands in the store's group and sees the welcome card. The store's shopping
guide (the group's owner) finds the new customer in the workbench, tags them, and posts a
product card in the group chat; the customer opens the card, buys for pickup and pays in
the sandbox. The order is attributed to the group and to the guide.

The live server is Django's (no websockets): the chat panel falls back to polling, which is
what a customer behind a proxy that drops websockets gets too. Screenshots of the pages go
to ``test-artifacts/community-*.png``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from siyu.core.permissions import Role
from siyu.core.testing import actor_for, make_merchant, make_staff, make_user
from siyu.customers.models import Customer, CustomerTag
from siyu.customers.testing import make_tag
from siyu.orders.models import Order
from tests.browser.test_shop import log_in_with_the_outbox, phone_context
from tests.storefront.shop import Shop, build_shop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pass-word-123"


@pytest.fixture
def shop(settings: Any, live_server: Any) -> Shop:
    settings.PUBLIC_URL = live_server.url  # the sandbox's notifications reach the live server
    settings.DEBUG = True  # the login page links to the SMS outbox
    merchant = make_merchant(slug="morning-bean", name="晨豆咖啡")
    return build_shop(merchant, illustrated=True)


def shoot(page: Any, artifacts: Path, name: str) -> None:
    page.wait_for_load_state("load")
    page.screenshot(path=str(artifacts / f"community-{name}.png"), full_page=True)


def test_scan_join_get_a_card_from_the_guide_and_buy(
    browser: Any, live_server: Any, shop: Shop, artifacts: Path
) -> None:
    from siyu.community.testing import make_code, make_group

    merchant = shop.merchant
    owner = actor_for(merchant, Role.OWNER)
    guide = make_staff(
        merchant,
        Role.SHOPPING_GUIDE,
        user=make_user("xiaolin", password=PASSWORD, display_name="小林"),
    )
    group = make_group(
        owner,
        name="静安店福利群",
        store=shop.jingan.pk,
        owner=guide.pk,
        announcement="每周三会员日，群内下单有惊喜",
        welcome={"text": "欢迎加入静安店福利群！", "card": {"type": "store", "id": shop.jingan.pk}},
    )
    code = make_code(
        owner, groups=[group], name="静安店门口海报", state="store_door", store=shop.jingan.pk
    )
    latte_fan = make_tag(merchant, "拿铁控")

    # --- the customer scans the poster: the short link, log in on the spot, join ---------------
    phone = phone_context(browser, live_server)
    page = phone.new_page()
    page.goto(f"/j/{code.token}")
    assert "晨豆咖啡" in page.locator("h1").inner_text()
    shoot(page, artifacts, "join")
    page.click("[data-testid=join-login]")
    log_in_with_the_outbox(page)
    # back on the code's page, logged in: join (the page may submit by itself)
    page.wait_for_url(re.compile(r"/(j/|community/)"))
    if page.locator("[data-join-button]").count():
        page.click("[data-join-button]")
    page.wait_for_url(re.compile(rf"/s/{shop.slug}/community/groups/{group.pk}/"))
    page.wait_for_selector(".chat-msg:has-text('欢迎加入静安店福利群')")
    assert page.locator(".chat-card:has-text('静安店')").count() >= 1  # the welcome's store card
    assert "每周三会员日" in page.content()  # the announcement
    shoot(page, artifacts, "group")

    customer = Customer.unscoped.get(merchant=merchant)
    assert customer.join_channel == "store_door"
    assert customer.owner_guide_id == guide.pk  # the group's owner runs the group
    # The phone leaves the chat while the guide works: with SQLite in memory the live server's
    # threads share one connection, so the panel's polling must not run beside the guide's
    # requests (tests/community/test_chat_browser.py covers a card arriving by polling).
    page.goto("about:blank")

    # --- the guide finds the new customer in the workbench and tags them -----------------------
    workbench = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 390, "height": 844},
        locale="zh-CN",
        is_mobile=True,
        has_touch=True,
    )
    workbench.set_default_timeout(20_000)
    staff = workbench.new_page()
    staff.goto("/guide/")
    staff.wait_for_url(re.compile(r"/console/login/"))
    staff.fill("input[name=username]", "xiaolin")
    staff.fill("input[name=password]", PASSWORD)
    staff.click("button[type=submit]")
    staff.wait_for_url(re.compile(r"/guide/$"))
    staff.goto("/guide/customers/")
    staff.click(f"a[href='/guide/customers/{customer.pk}/']")
    staff.wait_for_url(re.compile(rf"/guide/customers/{customer.pk}/$"))
    staff.select_option("select[name=tag]", str(latte_fan.pk))
    staff.click("form:has(select[name=tag]) button[type=submit]")
    staff.wait_for_selector(".wb-tag:has-text('拿铁控')")
    assert CustomerTag.unscoped.filter(customer=customer, tag=latte_fan).exists()
    shoot(staff, artifacts, "workbench-customer")

    # --- ... and posts a product card in the group chat ----------------------------------------
    staff.goto(f"/guide/groups/{group.pk}/")
    staff.click("[data-testid=pick-product]")
    staff.fill("input[name=product_q]", "拿铁")
    staff.click("form:has(input[name=product_q]) button[type=submit]")
    staff.click("[data-testid=send-product]")
    staff.wait_for_selector(".chat-card:has-text('拿铁')")
    shoot(staff, artifacts, "workbench-group")

    # --- the customer opens the group again, finds the card, opens it and buys -----------------
    workbench.close()
    page.goto(f"/s/{shop.slug}/community/groups/{group.pk}/")
    page.wait_for_selector(".chat-card:has-text('拿铁')")
    page.click(".chat-card:has-text('拿铁')")
    page.wait_for_url(re.compile(rf"/products/{shop.latte.pk}/\?via="))
    page.click("label:has(input[name=option-0][value=M])")
    page.click("label:has(input[name=option-1][value=Hot])")
    page.click("button[name=add]")
    page.wait_for_selector(".sf-alert:has-text('已加入购物车')")
    page.click(".sf-bar-link:has-text('购物车')")
    page.wait_for_url(re.compile(r"/cart/"))
    page.click("a:has-text('去结算')")
    page.wait_for_url(re.compile(r"/checkout/"))
    page.click("button:has-text('提交订单')")
    page.wait_for_url(re.compile(r"/sandbox/pay/"))
    page.click("button[value=pay]")
    page.wait_for_url(re.compile(r"/orders/\d+/paid/"))
    page.wait_for_selector('[data-payment-state="paid"]')

    order = Order.unscoped.get(customer=customer)
    assert order.status == "paid"
    assert (order.channel, order.group_id, order.guide_id) == ("group", group.pk, guide.pk)
