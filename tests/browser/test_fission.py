"""Fission end to end in a real browser: a group-buy brought by a distributor pays the
distributor, refunds reverse it, settlement pays it out.

Customer A opens the group-buy through distributor D's share link and starts a team; B and C
open A's team link, log in, join and pay; the third payment completes the team. D's centre
shows the commission of the three orders pending. The operator refunds C's order in the
console, which reverses C's share. A's and B's orders are collected; once the return window
has passed the settlement job settles the rest, D withdraws it, and finance approves and pays
the withdrawal in the console. Every customer step is a phone (390 px, zh-Hans).

Screenshots go to ``test-artifacts/fission-*.png``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.outbox import dispatch_pending
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_merchant, make_staff, make_user
from siyu.distribution import services as distribution
from siyu.distribution.models import Binding, CommissionEntry, Withdrawal
from siyu.distribution.testing import make_distributor, set_default_rate
from siyu.groupbuy import activities
from siyu.groupbuy.models import Member, Team
from siyu.orders import services as order_services
from siyu.orders.models import Order, OrderLine
from siyu.orders.testing import make_customer
from siyu.payments.models import Refund
from tests.browser.conftest import artifacts, browser  # noqa: F401  (fixtures)
from tests.browser.test_shop import phone_context
from tests.storefront.shop import build_shop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pass-word-123"
PHONES = {"A": "139 1111 0001", "B": "139 2222 0002", "C": "139 3333 0003"}
DISTRIBUTOR_PHONE = "139 8888 0008"
GROUP_PRICE = 2000  # ¥20.00 instead of ¥32.00
RATE_BP = 1000  # 10 % commission


def shoot(page: Any, artifacts: Path, name: str) -> None:  # noqa: F811
    page.wait_for_load_state("load")
    page.screenshot(path=str(artifacts / f"fission-{name}.png"), full_page=True)


def log_in(page: Any, phone: str) -> None:
    page.wait_for_url(re.compile(r"/login/\?next="))
    page.fill("input[name=phone]", phone)
    page.click("form:has(input[name=phone]) button[type=submit]")
    page.wait_for_url(re.compile(r"step=code"))
    page.click(".sf-dev a")
    page.wait_for_url(re.compile(r"/login/sms/"))
    code = page.locator(".sf-code").first.inner_text().strip()
    assert re.fullmatch(r"\d{6}", code)
    page.go_back()
    page.fill("input[name=code]", code)
    page.click("form:has(input[name=code]) button[type=submit]")


def pay_at_group_price(page: Any, store_id: int) -> None:
    """On the group-buy checkout: pick up at the store, pay in the sandbox."""
    page.wait_for_url(re.compile(r"/groupbuy/\d+/buy/"))
    page.check(f"input[name=store_id][value='{store_id}']")
    page.click(".sf-bar button[type=submit]")
    page.wait_for_url(re.compile(r"/sandbox/pay/"))
    assert "¥20.00" in page.locator(".sandbox-amount").inner_text()
    page.click("button[value=pay]")
    page.wait_for_url(re.compile(r"/orders/\d+/paid/"))
    page.wait_for_selector('[data-payment-state="paid"]')
    dispatch_pending()  # the consumers (seat the payer, commission) run now, not on a worker


def amount(page: Any, testid: str) -> str:
    return page.locator(f"[data-testid={testid}]").first.inner_text().strip()


@pytest.fixture
def fission(settings: Any, live_server: Any) -> dict[str, Any]:
    settings.PUBLIC_URL = live_server.url  # the sandbox notifies the live server
    settings.DEBUG = True  # the login page links to the SMS outbox
    settings.OTP_RESEND_SECONDS = 0  # four people log in from one address within a minute
    merchant = make_merchant(slug="morning-bean", name="晨豆咖啡")
    shop = build_shop(merchant, illustrated=True)
    make_staff(merchant, Role.OPERATOR, user=make_user("operator", password=PASSWORD))
    make_staff(merchant, Role.FINANCE, user=make_user("finance", password=PASSWORD))
    system = Actor.system(merchant)
    with merchant_context(merchant):
        distribution.update_settings(
            system,
            {"enrolment": "open", "settlement_delay_days": 7, "minimum_withdrawal": 100},
        )
    set_default_rate(merchant, RATE_BP)
    distributor = make_distributor(merchant, make_customer(merchant, "+8613988880008"))
    sku = shop.skus["L/Iced"]
    now = clock.now()
    with merchant_context(merchant):
        activity = activities.create(
            system,
            {
                "name": "三人拼拿铁",
                "product_id": shop.latte.pk,
                "team_size": 3,
                "fill_hours": 24,
                "starts_at": now - timedelta(hours=1),
                "ends_at": now + timedelta(days=7),
                "skus": [{"sku_id": sku.pk, "group_price": GROUP_PRICE, "stock": 10}],
            },
        )
        activity = activities.set_status(system, activity.pk, "schedule")
    return {"merchant": merchant, "shop": shop, "d": distributor, "activity": activity}


def test_group_buy_commission_refund_settle_and_withdraw(
    browser: Any,  # noqa: F811
    live_server: Any,
    fission: dict[str, Any],
    artifacts: Path,  # noqa: F811
) -> None:
    merchant, shop, distributor = fission["merchant"], fission["shop"], fission["d"]
    activity = fission["activity"]
    base = f"/s/{merchant.slug}"
    store_id = shop.jingan.pk

    # --- A opens the group-buy through D's link and starts a team -----------------------------
    a = phone_context(browser, live_server).new_page()
    a.goto(f"{base}/groupbuy/{activity.pk}/?d={distributor.share_code}")
    assert "三人拼拿铁" in a.content()
    shoot(a, artifacts, "activity")
    a.click(f"a[href$='/groupbuy/{activity.pk}/buy/']")
    log_in(a, PHONES["A"])
    pay_at_group_price(a, store_id)
    leader = Member.unscoped.get()
    assert Binding.unscoped.get(customer_id=leader.customer_id).distributor_id == distributor.pk
    team = Team.unscoped.get()
    assert (team.seats_taken, team.status) == (1, "open")

    a.goto(f"{base}/groupbuy/teams/{team.pk}/")
    assert a.locator("[data-team-status=open]").count() == 1
    share_url = a.locator("#share-url").input_value()
    assert share_url.endswith(f"/groupbuy/teams/{team.pk}/?d={distributor.share_code}")
    shoot(a, artifacts, "team-open")
    share_path = share_url.replace(live_server.url, "")

    # --- B and C join through A's link and pay; the third payment completes the team ----------
    for who in ("B", "C"):
        friend = phone_context(browser, live_server).new_page()
        friend.goto(share_path)
        friend.click("a:has-text('拼团价参团'), a[href*='/buy/?team=']")
        log_in(friend, PHONES[who])
        pay_at_group_price(friend, store_id)
        if who == "C":
            friend.goto(f"{base}/groupbuy/teams/{team.pk}/")
            assert friend.locator("[data-team-status=succeeded]").count() == 1
            shoot(friend, artifacts, "team-succeeded")
    team.refresh_from_db()
    assert (team.seats_taken, team.status) == (3, "succeeded")
    orders = {m.customer.phone[-4:]: m.order for m in Member.unscoped.select_related("order")}
    assert sorted(o.distributor_id for o in orders.values()) == [distributor.pk] * 3
    assert {o.total for o in orders.values()} == {GROUP_PRICE}

    # --- D sees the three orders' commission pending -------------------------------------------
    d = phone_context(browser, live_server).new_page()
    d.goto(f"{base}/distributor/")
    log_in(d, DISTRIBUTOR_PHONE)
    d.wait_for_url(re.compile(r"/distributor/$"))
    assert amount(d, "pending") == "¥6.00"  # 10 % of 3 × ¥20.00
    shoot(d, artifacts, "centre-pending")

    # --- the operator refunds C's order in the console: C's share is reversed -----------------
    c_order = orders["0003"]
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
    staff.goto(f"/console/orders/{c_order.pk}/")
    line = OrderLine.unscoped.get(order=c_order)
    staff.fill(f"form.refund-form input[name=qty_{line.pk}]", "1")
    staff.fill("#refund-reason", "顾客临时有事来不了")
    staff.click("form.refund-form button[type=submit]")
    staff.wait_for_selector(".refund-list .refund-item")
    assert Refund.unscoped.get().status == "succeeded"
    dispatch_pending()
    reversal = CommissionEntry.unscoped.filter(order=c_order, amount__lt=0)
    assert [e.amount for e in reversal] == [-200]
    d.reload()
    assert amount(d, "pending") == "¥4.00"

    # --- A and B collect their coffee; after the return window the rest settles ----------------
    operator = Actor.system(merchant, label="operator")
    with merchant_context(merchant):
        for phone in ("0001", "0002"):
            order = Order.unscoped.get(pk=orders[phone].pk)
            order_services.verify_pickup(operator, order, order.pickup_code)
    dispatch_pending()
    assert distribution.settle_merchant(merchant, now=clock.now() + timedelta(days=6)) == 0
    assert distribution.settle_merchant(merchant, now=clock.now() + timedelta(days=8)) > 0
    d.reload()
    assert amount(d, "pending") == "¥0.00"
    assert amount(d, "available") == "¥4.00"
    shoot(d, artifacts, "centre-settled")

    # --- D withdraws it; finance approves and pays it in the console ---------------------------
    d.click("a[href$='/distributor/withdraw/']")
    d.wait_for_url(re.compile(r"/distributor/withdraw/$"))
    d.fill("input[name=amount]", "4")
    d.click("form button[type=submit]")
    d.wait_for_selector(".sf-alert")
    withdrawal = Withdrawal.unscoped.get()
    assert (withdrawal.amount, withdrawal.status) == (400, "requested")

    console.clear_cookies()
    finance = console.new_page()
    finance.goto("/console/login/")
    finance.fill("input[name=username]", "finance")
    finance.fill("input[name=password]", PASSWORD)
    finance.click("button[type=submit]")
    finance.wait_for_url(re.compile(r"/console/$"))
    finance.goto("/console/distribution/withdrawals/")
    row = finance.locator(f"[data-testid=withdrawal-{withdrawal.pk}]")
    row.locator("form[action$='/approve/'] button").click()
    row = finance.locator(f"[data-testid=withdrawal-{withdrawal.pk}]")
    row.locator("input[name=reference]").fill("ICBC-20261122-0001")
    row.locator("form[action$='/pay/'] button").click()
    finance.wait_for_selector(f"[data-testid=withdrawal-{withdrawal.pk}] code")
    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.reference) == ("paid", "ICBC-20261122-0001")
    console.close()

    d.goto(f"{base}/distributor/")
    assert amount(d, "withdrawn") == "¥4.00"
    assert amount(d, "available") == "¥0.00"
    shoot(d, artifacts, "centre-withdrawn")
