"""Points in a real browser (Playwright + system Chromium): a customer on a phone logs in with
phone + code, opens "Points and tiers" from the account page, signs in for today (the button
turns into "signed in today" and the balance grows), and sees the tier's progress; the operator
finds the customer in the console and adjusts their points with a reason.

Screenshots at 390 px (storefront) and 1280 px (console) go to ``test-artifacts/loyalty-*.png``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_merchant, make_staff, make_user
from siyu.customers.services import get_or_create_customer
from siyu.loyalty import selectors, services
from siyu.loyalty.models import LoyaltySettings, MemberTier
from tests.browser.conftest import artifacts, browser  # noqa: F401  (fixtures)
from tests.browser.test_shop import PASSWORD, PHONE, log_in_with_the_outbox, phone_context

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_customer_signs_in_for_points_and_the_operator_adjusts_them(
    browser: Any,  # noqa: F811
    live_server: Any,
    artifacts: Path,  # noqa: F811
    settings: Any,
) -> None:
    settings.DEBUG = True  # the login page links to the SMS outbox
    merchant = make_merchant(slug="star-bean", name="星豆咖啡")
    make_staff(merchant, Role.OPERATOR, user=make_user("operator", password=PASSWORD))
    customer = get_or_create_customer(merchant, "+86" + PHONE.replace(" ", ""))
    with merchant_context(merchant):
        LoyaltySettings.objects.create(sign_in_points=5)
        MemberTier.objects.create(name="银卡", rank=1, basis="points", threshold=100)
        services.award(customer, 40, reason="referral_inviter", reference="browser")

    context = phone_context(browser, live_server)
    page = context.new_page()
    page.goto(f"/s/{merchant.slug}/points/")
    log_in_with_the_outbox(page)
    page.wait_for_url(re.compile(r"/points/$"))
    assert page.get_by_test_id("points-balance").inner_text() == "40"
    assert "邀请好友" in page.content()
    page.get_by_role("button", name=re.compile("签到")).click()
    page.wait_for_url(re.compile(r"/points/$"))
    assert page.get_by_test_id("points-balance").inner_text() == "45"
    assert page.get_by_role("button", name="今日已签到").is_disabled()
    assert "还差 55 积分 升级到银卡" in page.content()
    page.screenshot(path=str(artifacts / "loyalty-points.png"), full_page=True)
    page.goto(f"/s/{merchant.slug}/account/")
    assert "45 积分" in page.content()
    context.close()

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
    staff.goto("/console/loyalty/")
    staff.fill("input[name=q]", PHONE.replace(" ", "")[-8:])
    staff.get_by_role("button", name="查找").click()
    staff.locator(f"a[href='/console/loyalty/customers/{customer.pk}/']").first.click()
    staff.fill("input[name=points]", "-45")
    staff.fill("input[name=reason]", "测试积分回收")
    staff.get_by_role("button", name="调整").click()
    staff.wait_for_url(re.compile(rf"/console/loyalty/customers/{customer.pk}/$"))
    assert staff.get_by_test_id("balance").inner_text() == "0"
    assert "测试积分回收" in staff.content()
    staff.screenshot(path=str(artifacts / "loyalty-console-customer.png"), full_page=True)
    console.close()
    with merchant_context(merchant):
        assert selectors.balance_of(customer) == 0
