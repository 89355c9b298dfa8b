"""A real browser (system Chromium) on the inventory pages: a store manager on a phone."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connections

from siyu.core.permissions import Role
from siyu.core.testing import make_merchant
from siyu.inventory.testing import counts, make_sku, make_warehouse, stock, store_location
from siyu.stores.testing import make_store, make_store_staff

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs the system Chromium"),
]


@pytest.fixture
def browser(monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--headless", "--disable-gpu"]
        )
        yield chromium
        connections.close_all()
        chromium.close()


def log_in(browser, live_server, username, *, width, language="en-US"):
    context = browser.new_context(viewport={"width": width, "height": 844}, locale=language)
    context.set_default_timeout(60_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/console/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pass-word-123")
    page.click("button[type=submit]")
    page.wait_for_url("**/console/")
    return page


def overflows(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth + 1"
    )


@pytest.mark.django_db(transaction=True)
def test_a_store_manager_receives_and_counts_stock_on_a_phone(live_server, browser):
    merchant = make_merchant(slug="browser-stock", name="Browser Stock")
    make_warehouse(merchant, code="WH-SH", name="上海中央仓", ships_delivery=True)
    store = make_store(merchant, name="静安寺店")
    shop = store_location(store)
    latte = make_sku(merchant, "拿铁")
    stock(shop, latte, 3)
    make_store_staff(
        merchant, Role.STORE_MANAGER, store, username="manager", password="pass-word-123"
    )
    page = log_in(browser, live_server, "manager", width=390)

    page.goto(f"{live_server.url}/console/inventory/")
    assert page.locator("h1").inner_text() == "Stock"
    assert page.locator("select[name=location] option").all_inner_texts() == ["静安寺店 · Store"]
    assert not overflows(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "inventory-stock-phone.png"), full_page=True)

    with page.expect_navigation():
        page.click("text=Receive stock")
    page.fill("input[name=sku]", latte.code)
    page.fill("input[name=quantity]", "12")
    page.fill("input[name=note]", "RK-1")
    with page.expect_navigation():
        page.click(".stock-change-form button[type=submit]")
    assert "/console/inventory/?location=" in page.url, page.locator("main").inner_text()
    assert "15 on hand after the receipt" in page.locator(".messages, main").first.inner_text()
    assert counts(shop, latte) == (15, 0)

    page.goto(f"{live_server.url}/console/inventory/adjust/?location={shop.pk}&sku={latte.pk}")
    assert not overflows(page)
    page.check("input[name=mode][value=counted]")
    page.fill("input[name=quantity]", "14")
    page.fill("input[name=reason]", "盘点")
    with page.expect_navigation():
        page.click(".stock-change-form button[type=submit]")
    assert "/console/inventory/?location=" in page.url, page.locator("main").inner_text()
    assert counts(shop, latte) == (14, 0)

    page.goto(f"{live_server.url}/console/inventory/movements/")
    assert page.locator(".movement-table tbody tr").count() == 3
    assert not overflows(page)


@pytest.mark.django_db(transaction=True)
def test_the_stock_page_in_chinese_on_a_desktop(live_server, browser):
    merchant = make_merchant(slug="browser-stock-zh", name="Browser Stock zh")
    hub = make_warehouse(merchant, code="WH-SH", name="上海中央仓", ships_delivery=True)
    stock(hub, make_sku(merchant, "拿铁"), 40)
    from siyu.core.testing import make_staff

    make_staff(merchant, Role.OPERATOR, username="ops-zh", password="pass-word-123")
    page = log_in(browser, live_server, "ops-zh", width=1280, language="zh-hans")
    page.goto(f"{live_server.url}/console/inventory/")
    assert page.locator("h1").inner_text() == "库存"
    headers = page.locator(".stock-table thead th").all_inner_texts()
    assert headers[:5] == ["商品", "SKU", "现有库存", "已预占", "可用"]
    page.screenshot(path=str(ARTIFACTS / "inventory-stock-zh.png"), full_page=True)
