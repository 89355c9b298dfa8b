"""The shop's pages stay light and cheap: each of home, product, cart and checkout is under the
issue's 100 KB of HTML + CSS + JavaScript before images (measured), lists show thumbnails,
and the number of queries of home, product and cart is pinned — it does not grow with the
number of products on the page or lines in the cart."""

from __future__ import annotations

import re

import pytest

from siyu.catalog import services as catalog_services
from siyu.catalog.models import Product
from siyu.catalog.testing import image_bytes, make_product
from siyu.core.actors import Actor
from siyu.core.tenancy import merchant_context
from siyu.customers.testing import storefront_client
from siyu.orders.testing import stock
from siyu.storefront import selectors
from tests.storefront.test_account_weight import LIMIT, page_weight

SHOP = "/s/lucky-coffee"


def more_products(shop, n: int) -> list[Product]:
    """``n`` more products on sale, each with a picture and stock at Jing'an."""
    made = []
    for i in range(n):
        product = make_product(
            shop.merchant, f"蛋糕{i}", status=Product.Status.ON_SALE, category_id=shop.cakes.pk
        )
        with merchant_context(shop.merchant):
            catalog_services.add_image(Actor.system(shop.merchant), product, image_bytes(320, 320))
            sku = product.skus.get()
        stock(shop.jingan_stock, sku, 5)
        made.append(product)
    return made


@pytest.fixture
def client(shop, customer):
    client = storefront_client(customer, HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.post(f"{SHOP}/stores/choose/", {"store_id": shop.jingan.pk})
    return client


def fill_cart(client, shop, products=()) -> None:
    for sku in shop.skus.values():
        client.post(
            f"{SHOP}/cart/add/", {"product": shop.latte.pk, "sku_id": sku.pk, "quantity": "2"}
        )
    for product in products:
        with merchant_context(shop.merchant):
            sku = product.skus.get()
        client.post(f"{SHOP}/cart/add/", {"product": product.pk, "sku_id": sku.pk, "quantity": "1"})


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_home_product_cart_and_checkout_weigh_well_under_100_kb(shop, customer, language, capsys):
    more_products(shop, selectors.HOME_PRODUCTS)
    client = storefront_client(customer, HTTP_ACCEPT_LANGUAGE=language)
    client.post(f"{SHOP}/stores/choose/", {"store_id": shop.jingan.pk})
    fill_cart(client, shop)
    pages = {
        "home": f"{SHOP}/",
        "product": f"{SHOP}/products/{shop.latte.pk}/",
        "cart": f"{SHOP}/cart/",
        "checkout": f"{SHOP}/checkout/",
    }
    measured = {}
    for name, path in pages.items():
        html = client.get(path).content.decode()
        total, assets = page_weight(html)
        assert set(assets) == {
            "/static/storefront/storefront.css",
            "/static/storefront/storefront.js",
        }, name
        assert total < LIMIT, (name, total)
        measured[name] = total
    with capsys.disabled():
        print(f"\nstorefront page weights ({language}, bytes with CSS + JS): {measured}")


def test_lists_show_thumbnails_lazily_and_never_originals(shop, client):
    more_products(shop, 3)
    for path in (f"{SHOP}/", f"{SHOP}/categories/{shop.cakes.pk}/", f"{SHOP}/search/?q=蛋糕"):
        html = client.get(path).content.decode()
        images = re.findall(r"<img [^>]*>", html)
        assert images, path
        for tag in images:
            assert "-thumb." in tag, (path, tag)
            assert 'loading="lazy"' in tag, (path, tag)


def test_the_home_page_query_count_is_pinned(shop, client, django_assert_max_num_queries):
    client.get(f"{SHOP}/")  # the session is written once
    with django_assert_max_num_queries(9):
        client.get(f"{SHOP}/")
    more_products(shop, selectors.HOME_PRODUCTS)
    with django_assert_max_num_queries(9):
        html = client.get(f"{SHOP}/").content.decode()
    assert html.count('class="sf-product"') == selectors.HOME_PRODUCTS


def test_the_product_page_query_count_is_pinned(shop, client, django_assert_max_num_queries):
    # 8 for the session, customer, store, product, SKUs, images, stores and stock; then one
    # each for a running bargain, a running group-buy, the viewer's distributor share button
    # and the reviews: a constant number, whatever the SKUs
    with django_assert_max_num_queries(12):
        response = client.get(f"{SHOP}/products/{shop.latte.pk}/")
    assert response.status_code == 200


def test_the_cart_page_query_count_is_pinned(shop, client, django_assert_max_num_queries):
    fill_cart(client, shop)
    with django_assert_max_num_queries(10):
        client.get(f"{SHOP}/cart/")
    fill_cart(client, shop, more_products(shop, 6))
    with django_assert_max_num_queries(10):
        html = client.get(f"{SHOP}/cart/").content.decode()
    assert len(re.findall(r'class="sf-line( is-problem)?"', html)) == 10
