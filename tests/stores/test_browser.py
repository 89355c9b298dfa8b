"""A real browser (system Chromium) on the stores pages: the opening-hours editor, phones."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connections

from siyu.core.permissions import Role
from siyu.core.testing import make_merchant, make_staff
from siyu.stores.models import Store
from siyu.stores.testing import make_store

CHROMIUM = "/usr/bin/chromium"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs the system Chromium"),
]


@pytest.fixture
def browser_context(monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are sync
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--headless", "--disable-gpu"]
        )
        yield browser
        connections.close_all()
        browser.close()


def log_in(browser, live_server, username, width=1280):
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.add_cookies([{"name": "siyu_language", "value": "en", "url": live_server.url}])
    page = context.new_page()
    page.goto(f"{live_server.url}/console/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pass-word-123")
    page.click("button[type=submit]")
    page.wait_for_url("**/console/")
    return page


@pytest.mark.django_db(transaction=True)
def test_create_a_store_with_the_hours_editor(live_server, browser_context):
    merchant = make_merchant(slug="browser-bean", name="Browser Bean")
    make_staff(merchant, Role.OPERATOR, username="ops", password="pass-word-123")
    page = log_in(browser_context, live_server, "ops")
    page.goto(f"{live_server.url}/console/stores/new/")
    page.fill("input[name=code]", "SH-BR-001")
    page.fill("input[name=name]", "Browser Store")
    page.fill("input[name=city]", "上海市")
    page.fill("input[name=address]", "南京西路1号")
    page.fill("input[name=latitude]", "31.229115")
    page.fill("input[name=longitude]", "121.454906")
    page.fill("input[name=phone]", "021 6288 1234")

    days = page.locator(".hours-day")
    monday, tuesday, wednesday, friday = days.nth(0), days.nth(1), days.nth(2), days.nth(4)
    monday.get_by_role("button", name="+ Hours").click()  # 09:00–21:00
    monday.get_by_role("button", name="+ Hours").click()  # a second range
    monday.locator("input[name=hours-mon-open]").nth(0).fill("07:00")
    monday.locator("input[name=hours-mon-close]").nth(0).fill("14:00")
    monday.locator("input[name=hours-mon-open]").nth(1).fill("16:00")
    tuesday.get_by_role("button", name="Same as Monday").click()
    assert tuesday.locator("input[name=hours-tue-open]").count() == 2
    wednesday.get_by_role("button", name="+ Hours").click()
    wednesday.get_by_role("button", name="Remove these hours").click()
    assert wednesday.locator("input[type=time]").count() == 0
    friday.get_by_role("button", name="+ Hours").click()
    friday.locator("input[name=hours-fri-open]").fill("18:00")
    friday.locator("input[name=hours-fri-close]").fill("02:00")
    page.get_by_role("button", name="Create store").click()
    page.wait_for_url("**/console/stores/*/")

    store = Store.unscoped.get(merchant=merchant, code="SH-BR-001")
    assert store.opening_hours["mon"] == [["07:00", "14:00"], ["16:00", "21:00"]]
    assert store.opening_hours["tue"] == store.opening_hours["mon"]
    assert store.opening_hours["wed"] == []
    assert store.opening_hours["fri"] == [["18:00", "02:00"]]
    assert store.phone == "+862162881234"
    assert "021 6288 1234" in page.content()
    assert page.locator(".hours-week tr").count() == 7


@pytest.mark.django_db(transaction=True)
def test_store_list_on_a_phone_is_one_block_per_store(live_server, browser_context):
    merchant = make_merchant(slug="phone-bean", name="Phone Bean")
    make_staff(merchant, Role.SHOPPING_GUIDE, username="guide", password="pass-word-123")
    make_store(merchant, name="Phone Store", pickup_enabled=False)
    page = log_in(browser_context, live_server, "guide", width=390)
    page.goto(f"{live_server.url}/console/stores/")
    assert page.locator("table.stack-sm thead").is_hidden()
    row = page.locator("table.stack-sm tbody tr").first
    assert "Phone Store" in row.inner_text()
    # no horizontal scrolling: the row fits the phone's width
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.get_by_role("link", name="New store").count() == 0  # a guide only reads
