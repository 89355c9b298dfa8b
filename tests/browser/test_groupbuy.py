"""Group-buys in a real browser, on phones in Chinese: a customer finds the group-buy on a
product page, logs in and starts a team at the group price, pays in the sandbox; a friend opens
the team's share link, joins at the group price and pays; the team is complete and both orders
go to fulfilment.

Screenshots at 390 px go to ``test-artifacts/groupbuy-*.png``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from siyu.core.outbox import dispatch_pending
from siyu.core.testing import make_merchant
from siyu.groupbuy.models import Member, Team
from siyu.groupbuy.testing import make_groupbuy
from siyu.orders.models import Order
from siyu.orders.testing import Shop as OrderShop
from tests.browser.test_shop import phone_context
from tests.storefront.shop import Shop, build_shop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LEADER = "139 3333 0001"
FRIEND = "139 3333 0002"


@pytest.fixture
def shop(settings: Any, live_server: Any) -> Shop:
    settings.PUBLIC_URL = live_server.url  # the sandbox notifies the live server
    settings.DEBUG = True  # the login page links to the SMS outbox
    settings.OTP_RESEND_SECONDS = 1  # both phones log in from 127.0.0.1 within a minute
    return build_shop(make_merchant(slug="morning-bean", name="晨豆咖啡"), illustrated=True)


def log_in(page: Any, phone: str) -> None:
    """Log in with phone + code on the login page (the code read from the SMS outbox)."""
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


def shoot(page: Any, artifacts: Path, name: str) -> None:
    page.wait_for_load_state("load")
    page.screenshot(path=str(artifacts / f"groupbuy-{name}.png"), full_page=True)


def pay_in_sandbox(page: Any, store_name: str) -> None:
    store = page.locator(f"label.sf-option:has-text('{store_name}') input")
    if not store.is_checked():
        with page.expect_navigation():  # a change re-prices the page (nothing is placed)
            store.check()
    assert "¥25.00" in page.locator(".sf-sum").inner_text()
    page.click("button:has-text('以拼团价付款')")
    page.wait_for_url(re.compile(r"/sandbox/pay/"))
    assert "¥25.00" in page.locator(".sandbox-amount").inner_text()
    page.click("button[value=pay]")
    page.wait_for_url(re.compile(r"/orders/\d+/paid/"))
    page.wait_for_selector('[data-payment-state="paid"]')


def test_start_share_join_and_complete_a_team_on_phones(
    browser: Any, live_server: Any, shop: Shop, artifacts: Path
) -> None:
    target = OrderShop(
        shop.merchant,
        shop.jingan,
        None,
        shop.tiramisu,
        shop.tiramisu_sku,  # type: ignore[arg-type]
    )
    activity = make_groupbuy(shop.merchant, target, team_size=2, group_price=2500, stock=10)
    base = f"/s/{shop.slug}"

    # --- the leader finds it on the product page and starts a team --------------------------
    leader = phone_context(browser, live_server).new_page()
    leader.goto(f"{base}/products/{shop.tiramisu.pk}/")
    leader.click(f"[data-groupbuy='{activity.pk}']")
    leader.wait_for_url(re.compile(rf"/groupbuy/{activity.pk}/$"))
    assert "¥25.00" in leader.locator("[data-sku]").first.inner_text()
    shoot(leader, artifacts, "activity")
    leader.click("a:has-text('我要开团')")
    log_in(leader, LEADER)
    leader.wait_for_url(re.compile(rf"/groupbuy/{activity.pk}/buy/"))
    shoot(leader, artifacts, "buy")
    pay_in_sandbox(leader, shop.jingan.name)
    dispatch_pending()
    team = Team.unscoped.get(activity=activity)
    assert (team.status, team.seats_taken) == ("open", 1)
    leader.goto(f"{base}/groupbuy/teams/{team.pk}/")
    share_url = leader.locator("#share-url").input_value()
    assert share_url.endswith(f"/groupbuy/teams/{team.pk}/")
    assert "还差 1 人成团" in leader.content()
    shoot(leader, artifacts, "team")

    # --- a friend opens the link, joins at the group price and pays ---------------------------
    friend = phone_context(browser, live_server).new_page()
    friend.goto(share_url)
    shoot(friend, artifacts, "share")
    friend.click("a:has-text('以拼团价参团')")
    log_in(friend, FRIEND)
    friend.wait_for_url(re.compile(rf"/groupbuy/{activity.pk}/buy/\?team={team.pk}"))
    pay_in_sandbox(friend, shop.jingan.name)
    dispatch_pending()
    team.refresh_from_db()
    assert (team.status, team.seats_taken) == ("succeeded", 2)
    orders = Order.unscoped.filter(pk__in=Member.unscoped.values("order_id"))
    assert {(o.total, o.status, o.fulfilment_hold) for o in orders} == {(2500, "paid", "")}
    friend.goto(share_url)
    assert "已成团" in friend.content()
    shoot(friend, artifacts, "complete")
