"""Referrals in a real browser: a friend opens an invite link on a phone, logs in with phone +
code, and lands back on the invitation as a registered invitee with their welcome coupon; the
operator reads the results (ECharts chart) and the inviter's tree in the console.

Screenshots at 390 px (storefront) and 1280 px (console) go to ``test-artifacts/referrals-*.png``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_merchant, make_staff, make_user
from siyu.customers.testing import make_customer
from siyu.promotions.models import Coupon
from siyu.promotions.testing import make_template
from siyu.referrals import services
from siyu.referrals.models import Referral
from siyu.referrals.testing import make_programme
from tests.browser.conftest import artifacts, browser  # noqa: F401  (fixtures)
from tests.browser.test_shop import PASSWORD, log_in_with_the_outbox, phone_context

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shoot(page: Any, folder: Path, name: str) -> None:
    page.wait_for_load_state("load")
    page.screenshot(path=str(folder / f"referrals-{name}.png"), full_page=True)


def test_a_friend_joins_through_an_invite_link_and_the_operator_sees_it(
    browser: Any,  # noqa: F811
    live_server: Any,
    artifacts: Path,  # noqa: F811
    settings: Any,
) -> None:
    settings.DEBUG = True  # the login page links to the SMS outbox
    settings.PUBLIC_URL = live_server.url
    merchant = make_merchant(slug="morning-bean", name="晨豆咖啡")
    make_staff(merchant, Role.OPERATOR, user=make_user("operator", password=PASSWORD))
    gift = make_template(merchant, name="新人礼", amount=1000, quantity=50)
    make_programme(merchant, invitee_reward="coupon", invitee_template=gift, message="一起来喝咖啡")
    inviter = make_customer(merchant, name="小林")
    with merchant_context(merchant):
        code = services.code_of(inviter).code

    context = phone_context(browser, live_server)
    page = context.new_page()
    page.goto(f"/s/{merchant.slug}/invite/{code.lower()}/")  # typed in lower case: redirected
    page.wait_for_url(re.compile(rf"/invite/{code}/$"))
    assert "小林 邀请你" in page.inner_text("main")
    shoot(page, artifacts, "landing")
    page.get_by_role("link", name="手机号登录").click()
    log_in_with_the_outbox(page)
    page.wait_for_url(re.compile(rf"/invite/{code}/$"))
    text = page.inner_text("main")
    assert "你通过小林的邀请加入" in text
    assert "你已通过此邀请加入" in text
    shoot(page, artifacts, "joined")
    with merchant_context(merchant):
        referral = Referral.objects.get(inviter=inviter)
        assert (referral.status, referral.source) == ("registered", "link")
        assert referral.device_hash
        assert Coupon.objects.filter(customer=referral.invitee, template=gift).exists()
    page.goto(f"/s/{merchant.slug}/invite/")
    assert "我的邀请码" in page.inner_text("main")
    assert page.locator(".rf-qr svg").count() == 1
    shoot(page, artifacts, "invite-page")
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
    staff.goto("/console/referrals/")
    staff.wait_for_selector("[data-chart][data-rendered] svg")
    assert "注册的好友" in staff.inner_text("main")
    shoot(staff, artifacts, "console-results")
    staff.goto(f"/console/referrals/tree/?customer={inviter.pk}")
    staff.wait_for_selector("[data-chart][data-rendered] svg")
    assert "第 1 层: 1" in staff.inner_text("main")
    shoot(staff, artifacts, "console-tree")
    console.close()
