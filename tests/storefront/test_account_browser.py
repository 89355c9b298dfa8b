"""A real browser (system Chromium) on a phone-sized screen: log in with phone + code from the
SMS outbox, with the resend countdown, and land on the account page."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connections

from siyu.core.testing import make_merchant

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs the system Chromium"),
]


@pytest.fixture
def chromium(monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--headless", "--disable-gpu"]
        )
        yield browser
        connections.close_all()
        browser.close()


@pytest.mark.django_db(transaction=True)
def test_log_in_on_a_phone_with_the_code_from_the_outbox(live_server, chromium, settings):
    settings.DEBUG = True
    make_merchant(slug="phone-bean", name="Phone Bean")
    context = chromium.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/s/phone-bean/account/")
    page.wait_for_url("**/s/phone-bean/login/?next=*")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    page.fill("input[name=phone]", "138 1234 5678")
    page.click("form:has(input[name=phone]) button[type=submit]")
    page.wait_for_url("**step=code**")

    resend = page.locator("button[data-countdown]")
    assert resend.is_disabled()
    first = resend.inner_text()
    assert any(ch.isdigit() for ch in first)
    page.wait_for_function(
        "t => document.querySelector('button[data-countdown]').textContent !== t", arg=first
    )  # the countdown ticks in the page

    page.click(".sf-dev a")
    page.wait_for_url("**/login/sms/")
    code = page.locator(".sf-code").inner_text().strip()
    assert len(code) == 6
    assert code.isdigit()
    page.go_back()
    page.fill("input[name=code]", code)
    page.click("form:has(input[name=code]) button[type=submit]")
    page.wait_for_url("**/s/phone-bean/account/")
    assert "138 1234 5678" in page.locator(".sf-me").inner_text()

    # a phone layout: nothing wider than the screen; the tab bar sits at the bottom
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    tabs = page.locator(".sf-tabs").bounding_box()
    assert tabs is not None
    assert tabs["y"] + tabs["height"] == pytest.approx(844, abs=1)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "storefront-account-phone.png"), full_page=True)
    context.close()
