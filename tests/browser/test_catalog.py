"""In a real browser: log in, create a product with two SKUs and a picture, find it in the list.

Once in English, once in Chinese (switched with the language switcher in the top bar).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from siyu.catalog.models import Product, ProductImage, Sku
from siyu.catalog.testing import image_bytes, make_store
from siyu.core.models import Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_merchant, make_staff, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pass-word-123"


@pytest.fixture
def shop() -> Merchant:
    merchant = make_merchant(slug="morning-coffee", name="Morning Coffee")
    make_staff(merchant, Role.OPERATOR, user=make_user("operator", password=PASSWORD))
    make_store(merchant, name="Jing'an flagship")
    return merchant


@pytest.fixture
def picture(tmp_path: Path) -> Path:
    path = tmp_path / "latte.png"
    path.write_bytes(image_bytes(640, 480, color=(150, 100, 60)))
    return path


def log_in(page: Any) -> None:
    page.goto("/console/login/")
    page.fill("input[name=username]", "operator")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/console/$"))


def fill_product(
    page: Any, *, name: str, options: str, rows: list[tuple[str, str]], picture: Path
) -> None:
    page.fill("#id_name", name)
    page.fill("#id_option_names", options)
    # the first SKU row is there; the option inputs follow the option names as typed
    page.fill("#sku-0-opt-0", rows[0][0])
    page.fill("#sku-0-price", rows[0][1])
    for index, (value, price) in enumerate(rows[1:], start=1):
        page.locator("button", has_text=re.compile(r"Add a SKU|添加 SKU")).click()
        page.fill(f"#sku-{index}-opt-0", value)
        page.fill(f"#sku-{index}-price", price)
    page.set_input_files("#id_images", str(picture))
    page.wait_for_selector(".image-grid.previews img")  # the chosen picture is previewed


def thumbnail_loaded(page: Any, product_name: str) -> bool:
    row = page.locator("table.product-list tr", has_text=product_name)
    return bool(row.locator("img.thumb").evaluate("img => img.complete && img.naturalWidth > 0"))


def shoot(page: Any, artifacts: Path, name: str) -> None:
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(100)
        page.screenshot(path=str(artifacts / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_create_a_product_in_english(new_page, shop, picture, artifacts):
    page = new_page("en-US")
    log_in(page)
    page.goto("/console/catalog/products/")
    assert page.locator("h1").inner_text() == "Products"
    page.click("text=New product")
    page.wait_for_url(re.compile(r"/products/new/$"))
    fill_product(
        page,
        name="Iced Latte",
        options="Size",
        rows=[("Medium", "26"), ("Large", "30,5")],
        picture=picture,
    )
    page.select_option("#id_status", "on_sale")
    page.click("button:has-text('Create product')")
    # the bad amount comes back next to its row, with what was typed; nothing was saved
    error = page.locator(".sku-row").nth(1).locator(".error", has_text="Enter an amount in yuan")
    assert error.is_visible()
    assert page.input_value("#sku-1-opt-0") == "Large"
    with merchant_context(shop):
        assert not Product.objects.exists()
    page.fill("#sku-1-price", "30.50")
    page.set_input_files("#id_images", str(picture))  # a browser never re-sends a file
    page.click("button:has-text('Create product')")
    page.wait_for_url(re.compile(r"/console/catalog/products/$"))
    assert "“Iced Latte” is created." in page.locator(".messages").inner_text()
    row = page.locator("table.product-list tr", has_text="Iced Latte")
    assert "¥26.00–¥30.50" in row.inner_text().replace("\n", "").replace(" ", "")
    assert "On sale" in row.inner_text()
    page.locator("table.product-list img.thumb").first.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.thumb')].every(i => i.complete)"
    )
    assert thumbnail_loaded(page, "Iced Latte")
    shoot(page, artifacts, "catalog-products-en")
    with merchant_context(shop):
        product = Product.objects.get(name="Iced Latte")
        assert sorted(Sku.objects.filter(product=product).values_list("price", flat=True)) == [
            2600,
            3050,
        ]
        assert ProductImage.objects.filter(product=product).count() == 1


def test_create_a_product_in_chinese(new_page, shop, picture, artifacts):
    page = new_page("en-US", width=390)
    log_in(page)
    page.goto("/console/catalog/products/")
    assert page.locator("h1").inner_text() == "Products"
    page.click(".topbar .lang-switch button")  # "中文"
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "商品"
    page.click("text=新建商品")
    page.wait_for_url(re.compile(r"/products/new/$"))
    assert page.locator("h2", has_text="规格与 SKU").is_visible()
    fill_product(
        page,
        name="生椰拿铁",
        options="杯型",
        rows=[("大杯", "29"), ("超大杯", "32")],
        picture=picture,
    )
    page.check("input[name=all_stores][value='0']")
    page.check("text=Jing'an flagship")
    page.click("button:has-text('创建商品')")
    page.wait_for_url(re.compile(r"/console/catalog/products/$"))
    assert "已创建“生椰拿铁”。" in page.locator(".messages").inner_text()
    row = page.locator("table.product-list tr", has_text="生椰拿铁")
    text = row.inner_text()
    assert "草稿" in text
    assert "部分门店" in text
    assert "¥29.00" in text
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.thumb')].every(i => i.complete)"
    )
    assert thumbnail_loaded(page, "生椰拿铁")
    shoot(page, artifacts, "catalog-products-zh")
    with merchant_context(shop):
        product = Product.objects.get(name="生椰拿铁")
        assert product.option_names == ["杯型"]
        assert not product.sold_in_all_stores
        assert sorted(s.options["杯型"] for s in Sku.objects.filter(product=product)) == [
            "大杯",
            "超大杯",
        ]
