"""The distributor centre in a real browser (phone size, zh-Hans): a customer applies (open
enrolment), shares a product — its link and poster — and a friend who opens the link is bound
to them; once commission has settled the distributor withdraws (a too-small amount is refused
with the reason in yuan).

Screenshots at 390 px go to ``test-artifacts/distributor-*.png``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_merchant
from siyu.distribution import services
from siyu.distribution.models import Binding, Distributor, Withdrawal
from siyu.distribution.testing import distributed_order, set_default_rate
from siyu.orders.testing import make_shop
from tests.browser.conftest import artifacts, browser  # noqa: F401  (fixtures)
from tests.browser.test_shop import phone_context
from tests.storefront.shop import build_shop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DISTRIBUTOR_PHONE = "139 1234 5678"
FRIEND_PHONE = "138 0000 1111"


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


def shoot(page: Any, artifacts: Path, name: str) -> None:  # noqa: F811
    page.wait_for_load_state("load")
    page.screenshot(path=str(artifacts / f"distributor-{name}.png"), full_page=True)


@pytest.fixture
def shop(settings: Any, live_server: Any) -> Any:
    settings.DEBUG = True  # the login page links to the SMS outbox
    settings.OTP_RESEND_SECONDS = 0  # two people log in from this one address within a minute
    merchant = make_merchant(slug="morning-bean", name="晨豆咖啡")
    built = build_shop(merchant, illustrated=True)
    with merchant_context(merchant):
        services.update_settings(Actor.system(merchant), {"enrolment": "open"})
    set_default_rate(merchant, 1000)
    return built


def test_apply_share_bind_a_friend_and_withdraw(
    browser: Any,  # noqa: F811
    live_server: Any,
    shop: Any,
    artifacts: Path,  # noqa: F811
) -> None:
    merchant = shop.merchant
    base = f"/s/{merchant.slug}"
    me = phone_context(browser, live_server).new_page()
    me.goto(f"{base}/account/")
    log_in(me, DISTRIBUTOR_PHONE)
    me.wait_for_url(re.compile(r"/account/$"))
    me.click("a:has-text('分销中心')")
    me.wait_for_url(re.compile(r"/distributor/apply/$"))
    assert "加入免费" in me.content()
    shoot(me, artifacts, "apply")
    me.click("button:has-text('申请')")
    me.wait_for_url(re.compile(r"/distributor/$"))
    distributor = Distributor.unscoped.get()
    assert distributor.status == "approved"
    assert me.locator("[data-testid=available]").inner_text().strip() == "¥0.00"

    # --- share a product: the link with my code, the poster with its QR ------------------------
    me.click("a:has-text('分享商品')")
    me.wait_for_url(re.compile(r"/distributor/share/"))
    me.click(f"a.dc-pick[href^='?product={shop.latte.pk}#']")
    me.wait_for_url(re.compile(r"product="))
    link = me.locator("[data-testid=share-link]").input_value()
    assert link.endswith(f"/products/{shop.latte.pk}/?d={distributor.share_code}")
    poster = me.locator("img.dc-poster")
    poster.scroll_into_view_if_needed()
    me.wait_for_function("document.querySelector('img.dc-poster').naturalWidth > 0")
    assert poster.evaluate("img => img.naturalWidth") == 750
    shoot(me, artifacts, "share")

    # --- a friend opens the link, logs in and is bound to me -----------------------------------
    friend = phone_context(browser, live_server).new_page()
    friend.goto(link.replace(live_server.url, ""))
    assert shop.latte.name in friend.content()
    friend.goto(f"{base}/account/")
    log_in(friend, FRIEND_PHONE)
    friend.wait_for_url(re.compile(r"/account/$"))
    binding = Binding.unscoped.get()
    assert binding.distributor_id == distributor.pk
    me.goto(f"{base}/distributor/customers/")
    assert "5678" not in me.content()
    assert "1111" in me.content()

    # --- the friend's order completes and settles; I withdraw -----------------------------------
    distributed_order(
        merchant,
        distributor,
        status="completed",
        customer=binding.customer,
        shop=make_shop(merchant, price=30_000),
    )
    services.settle_merchant(merchant, now=clock.now() + timedelta(days=8))
    me.goto(f"{base}/distributor/")
    assert me.locator("[data-testid=available]").inner_text().strip() == "¥30.00"
    me.click("a:has-text('提现')")
    me.wait_for_url(re.compile(r"/distributor/withdraw/$"))
    me.fill("input[name=amount]", "5")
    me.click("button:has-text('申请提现')")
    assert "至少 ¥10.00" in me.locator("#amount-error").inner_text()
    me.fill("input[name=amount]", "20")
    me.click("button:has-text('申请提现')")
    me.wait_for_url(re.compile(r"/distributor/withdraw/$"))
    me.wait_for_selector(".sf-alert")
    assert list(Withdrawal.unscoped.values_list("amount", "status")) == [(2000, "requested")]
    assert me.locator("[data-testid=available]").inner_text().strip() == "¥10.00"
    shoot(me, artifacts, "withdraw")
