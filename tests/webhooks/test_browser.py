"""A real browser (system Chromium) on the webhooks pages: form, secret once, copy, chart."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connections

from siyu.core.permissions import Role
from siyu.core.testing import make_merchant, make_staff
from siyu.webhooks.models import WebhookEndpoint

CHROMIUM = "/usr/bin/chromium"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs the system Chromium"),
    pytest.mark.usefixtures("test_events"),
]


@pytest.fixture
def browser_page(monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are sync
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--headless", "--disable-gpu"]
        )
        context = browser.new_context(viewport={"width": 390, "height": 844})
        context.grant_permissions(["clipboard-read", "clipboard-write"])
        yield context.new_page()
        # the test's ORM calls ran while Playwright's greenlet was active, which gives them
        # their own connection (asgiref locals follow the context): close it here
        connections.close_all()
        browser.close()


@pytest.mark.django_db(transaction=True)
def test_add_an_endpoint_copy_its_secret_once_and_see_the_chart(live_server, browser_page):
    merchant = make_merchant(slug="browser-coffee", name="Browser Coffee")
    make_staff(merchant, Role.OWNER, username="wh-owner", password="pass-word-123")
    page = browser_page
    page.context.add_cookies(
        [{"name": "siyu_language", "value": "zh-hans", "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/console/login/")
    page.fill("input[name=username]", "wh-owner")
    page.fill("input[name=password]", "pass-word-123")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/console/webhooks/new/")

    page.fill("input[name=url]", "https://erp.example.com/siyu")
    assert page.locator("input[value='test.order.paid']").count() == 1
    page.check("input[name=all_events]")
    assert "is-muted" in page.get_attribute(".event-areas", "class")
    page.click("form.card button[type=submit]")
    page.wait_for_url("**/console/webhooks/*/")

    endpoint = WebhookEndpoint.unscoped.get()
    assert endpoint.event_types == ["*"]
    assert page.input_value("#webhook-secret") == endpoint.secret
    page.click("[data-copy=webhook-secret]")
    assert page.text_content("[data-copy=webhook-secret]").strip() == "已复制"
    assert page.evaluate("navigator.clipboard.readText()") == endpoint.secret
    page.wait_for_selector(".chart svg")  # ECharts drew the deliveries-per-day chart

    page.reload()
    assert page.locator("#webhook-secret").count() == 0  # shown once
