"""A real browser (system Chromium, a phone-sized window) on the distribution console: the
overview's chart, the rule form's fields by scope and kind, finance paying a withdrawal."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connections

from siyu.core import clock
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_merchant, make_staff
from siyu.distribution import services
from siyu.distribution.models import CommissionRule, Withdrawal
from siyu.distribution.testing import distributed_order, make_distributor, set_default_rate
from siyu.orders.testing import make_shop

CHROMIUM = "/usr/bin/chromium"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs the system Chromium"),
]


@pytest.fixture
def browser_page(monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--headless", "--disable-gpu"]
        )
        context = browser.new_context(viewport={"width": 390, "height": 844})
        page = context.new_page()
        page.set_default_timeout(120_000)  # the 2 shared cores are often busy
        yield page
        connections.close_all()
        browser.close()


def log_in(page, live_server, username):
    page.context.add_cookies(
        [{"name": "siyu_language", "value": "zh-hans", "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/console/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pass-word-123")
    page.click("button[type=submit]")


@pytest.mark.django_db(transaction=True)
def test_the_overview_chart_a_rule_and_finance_paying_a_withdrawal(live_server, browser_page):
    merchant = make_merchant(slug="dist-browser", name="分销咖啡")
    make_staff(merchant, Role.OPERATOR, username="dist-op", password="pass-word-123")
    make_staff(merchant, Role.FINANCE, username="dist-fin", password="pass-word-123")
    set_default_rate(merchant, 1000)
    seller = make_distributor(merchant)
    distributed_order(merchant, seller, status="completed", shop=make_shop(merchant, price=50_000))
    services.settle_merchant(merchant, now=clock.now() + timedelta(days=8))
    with merchant_context(merchant):
        withdrawal = services.request_withdrawal(seller.pk, 2000)
    page = browser_page

    log_in(page, live_server, "dist-op")
    page.goto(f"{live_server.url}/console/distribution/")
    page.wait_for_selector(".chart svg")  # ECharts (served locally) drew commission by month
    assert page.text_content("[data-testid=pending]").strip() == "¥0.00"

    page.goto(f"{live_server.url}/console/distribution/rules/")
    page.wait_for_load_state("load")  # the form's script shows the fields of the scope chosen
    page.wait_for_selector("select[name=category]", state="hidden")
    page.select_option("select[name=scope]", "category")
    page.wait_for_selector("select[name=category]", state="visible")
    page.select_option("select[name=scope]", "product")
    page.select_option("select[name=product]", index=1)
    page.select_option("select[name=kind]", "fixed")
    page.wait_for_selector("input[name=rate]", state="hidden")
    page.fill("input[name=fixed]", "2.50")
    page.click("form.card button[type=submit]")
    page.wait_for_url("**/console/distribution/rules/")
    rule = CommissionRule.unscoped.get(merchant=merchant, scope="product")
    assert (rule.kind, rule.fixed_fen) == ("fixed", 250)

    page.goto(f"{live_server.url}/console/distribution/settings/")
    assert page.is_visible("[data-testid=second-level-warning]")
    assert "传销" in page.text_content("[data-testid=no-fee-note]")

    page.context.clear_cookies()
    log_in(page, live_server, "dist-fin")
    page.goto(f"{live_server.url}/console/distribution/withdrawals/")
    row = page.locator(f"[data-testid=withdrawal-{withdrawal.pk}]")
    row.locator("button:has-text('通过')").click()
    page.wait_for_url("**/console/distribution/withdrawals/**")
    row = page.locator(f"[data-testid=withdrawal-{withdrawal.pk}]")
    row.locator("input[name=reference]").fill("ICBC-20261123-7")
    row.locator("button:has-text('标记已付款')").click()
    page.wait_for_url("**/console/distribution/withdrawals/**")
    paid = Withdrawal.unscoped.get(pk=withdrawal.pk)
    assert (paid.status, paid.reference) == ("paid", "ICBC-20261123-7")
    assert "ICBC-20261123-7" in page.text_content(f"[data-testid=withdrawal-{withdrawal.pk}]")
