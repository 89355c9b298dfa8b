"""The shop's pages without JavaScript: browse, choose a store, cart, checkout, pay, orders.

Every page renders in Chinese and in English, for a visitor and for a logged-in customer;
pages that need a customer send visitors to log in and back; forms work as plain posts.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from django.test import Client

from siyu.catalog.models import Product
from siyu.core.tenancy import merchant_context
from siyu.customers.models import CustomerAddress
from siyu.customers.testing import address_fields, make_address, make_customer, storefront_client
from siyu.inventory import services as inventory
from siyu.orders.models import CartLine, Order, OrderLine
from siyu.orders.testing import make_order
from siyu.payments.models import Payment, Refund, RefundLine
from siyu.payments.testing import pay
from siyu.storefront.store_choice import CHOSEN_STORES_KEY
from tests.storefront.shop import PEOPLES_SQUARE

SHOP = "/s/lucky-coffee"


def visitor() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def logged_in(customer) -> Client:
    return storefront_client(customer, HTTP_ACCEPT_LANGUAGE="en")


def text(response) -> str:
    return response.content.decode()


def choose_store(client: Client, store) -> None:
    response = client.post(f"{SHOP}/stores/choose/", {"store_id": store.pk, "next": f"{SHOP}/"})
    assert response.status_code == 302
    assert response["Location"] == f"{SHOP}/"


def available(location, sku) -> int:
    with merchant_context(location.merchant):
        return inventory.available(location, [sku.pk])[sku.pk]


# --- every page, both languages, visitor and customer --------------------------------------------


def public_pages(shop) -> list[str]:
    return [
        f"{SHOP}/",
        f"{SHOP}/categories/",
        f"{SHOP}/categories/{shop.coffee.pk}/",
        f"{SHOP}/search/?q=拿铁",
        f"{SHOP}/search/",
        f"{SHOP}/products/{shop.latte.pk}/",
        f"{SHOP}/stores/",
        f"{SHOP}/stores/?lat={PEOPLES_SQUARE[0]}&lng={PEOPLES_SQUARE[1]}",
    ]


def customer_pages(order) -> list[str]:
    return [
        f"{SHOP}/cart/",
        f"{SHOP}/checkout/",
        f"{SHOP}/checkout/?fulfilment=delivery",
        f"{SHOP}/orders/",
        f"{SHOP}/orders/?tab=to_pay",
        f"{SHOP}/orders/{order.pk}/",
        f"{SHOP}/orders/{order.pk}/paid/",
        f"{SHOP}/account/",
    ]


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("zh-hans", ["首页", "购物车"]),
        ("en", ["Home", "Cart"]),
    ],
)
def test_every_page_renders_in_both_languages(shop, customer, language, words):
    order = make_order(
        shop.merchant,
        customer=customer,
        shop=None,
        items=[(shop.skus["M/Hot"].pk, 1)],
        store_id=shop.jingan.pk,
    )
    visitor = Client(HTTP_ACCEPT_LANGUAGE=language)
    for path in public_pages(shop):
        response = visitor.get(path)
        assert response.status_code == 200, path
        body = text(response)
        assert f'<html lang="{language}">' in body, path
        for word in words:  # the tab bar, or the product page's own bar
            assert word in body, (path, word)
    for path in customer_pages(order):
        response = visitor.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == f"{SHOP}/login/?next={quote(path, safe='')}"
    client = storefront_client(customer, HTTP_ACCEPT_LANGUAGE=language)
    client.post(
        f"{SHOP}/cart/add/",
        {"product": shop.latte.pk, "sku_id": shop.skus["L/Hot"].pk, "quantity": "1"},
    )
    for path in public_pages(shop) + customer_pages(order):
        response = client.get(path)
        assert response.status_code == 200, path
        body = text(response)
        assert f'<html lang="{language}">' in body, path
        if any(part in path for part in ("/search/", "/stores/", "/account/", "/paid/")):
            continue
        assert "拿铁" in body, path  # the product is on every other page


def test_chinese_pages_speak_like_a_mini_program(shop, customer):
    client = storefront_client(customer, HTTP_ACCEPT_LANGUAGE="zh-hans")
    product = text(client.get(f"{SHOP}/products/{shop.latte.pk}/"))
    for words in ("加入购物车", "立即购买", "数量"):
        assert words in product
    client.post(
        f"{SHOP}/cart/add/",
        {"product": shop.latte.pk, "sku_id": shop.skus["M/Hot"].pk, "quantity": "2"},
    )
    cart = text(client.get(f"{SHOP}/cart/"))
    for words in ("购物车", "去结算", "到店自提", "快递配送", "合计"):
        assert words in cart
    checkout = text(client.get(f"{SHOP}/checkout/"))
    for words in ("提交订单", "自提门店", "附近门店", "备注"):
        assert words in checkout
    orders = text(client.get(f"{SHOP}/orders/"))
    for words in ("全部", "待付款", "已完成"):
        assert words in orders


# --- browsing -------------------------------------------------------------------------------------


def test_home_shows_the_shop_categories_and_products_on_sale(shop):
    body = text(visitor().get(f"{SHOP}/"))
    assert "Lucky Coffee" in body
    assert "饮品" in body
    assert "甜点" in body
    assert "咖啡" not in body.split("sf-cats")[1].split("</nav>")[0]  # top level only
    assert "拿铁" in body
    assert "提拉米苏" in body
    assert "旧款杯子" not in body  # off sale
    assert "¥<small>" not in body  # prices are written <small>¥</small>26<small>.00</small>
    assert "<small>¥</small>26<small>.00</small>" in body
    # the latte's thumbnail (not the original), loaded lazily
    thumb = re.search(r'<img src="([^"]+)"[^>]*loading="lazy"', body)
    assert thumb is not None
    assert "-thumb." in thumb.group(1)
    assert "Choose a store for pickup" in body


def test_a_chosen_store_shows_on_home_and_limits_what_is_shown(shop):
    client = visitor()
    choose_store(client, shop.lujiazui)
    assert client.session[CHOSEN_STORES_KEY] == {str(shop.merchant.pk): shop.lujiazui.pk}
    body = text(client.get(f"{SHOP}/"))
    assert "陆家嘴店" in body
    assert "提拉米苏" not in body  # sold only at Jing'an


def test_choosing_a_store_of_another_shop_or_a_closed_one_is_refused(shop, other_merchant):
    from siyu.stores.testing import make_store

    theirs = make_store(other_merchant)
    client = visitor()
    response = client.post(f"{SHOP}/stores/choose/", {"store_id": theirs.pk})
    assert response.status_code == 302
    assert response["Location"].startswith(f"{SHOP}/stores/")
    assert CHOSEN_STORES_KEY not in client.session
    assert "cannot take pickup orders" in text(client.get(response["Location"]))


def test_the_store_list_is_by_city_or_nearest_first(shop):
    listed = text(visitor().get(f"{SHOP}/stores/"))
    # one city at a time (the first by default), its stores by district
    assert '<option value="北京市">' in listed
    assert '<option value="上海市" selected>' in listed
    assert "王府井店" not in listed
    assert (
        listed.index("浦东新区")
        < listed.index("陆家嘴店")
        < listed.index("静安区")
        < listed.index("静安店")
    )
    beijing = text(visitor().get(f"{SHOP}/stores/?city=北京市"))
    assert "王府井店" in beijing
    assert "静安店" not in beijing
    near = text(visitor().get(f"{SHOP}/stores/?lat={PEOPLES_SQUARE[0]}&lng={PEOPLES_SQUARE[1]}"))
    assert near.index("静安店") < near.index("陆家嘴店") < near.index("王府井店")
    assert re.search(r"1\.\d km", near)
    assert "data-geolocate-auto" not in near
    assert "data-geolocate-auto" in listed


def test_categories_show_the_tree_and_the_products_below_a_category(shop):
    body = text(visitor().get(f"{SHOP}/categories/{shop.drinks.pk}/"))
    assert "饮品" in body
    assert "咖啡" in body  # a chip of the subcategory
    assert "拿铁" in body  # in a subcategory
    assert "提拉米苏" not in body
    cakes = text(visitor().get(f"{SHOP}/categories/{shop.cakes.pk}/"))
    assert "提拉米苏" in cakes
    assert "拿铁" not in cakes
    assert visitor().get(f"{SHOP}/categories/999999/").status_code == 404


def test_search_finds_products_by_name(shop):
    body = text(visitor().get(f"{SHOP}/search/?q=拿"))
    assert "1 result for “拿”" in body
    assert "拿铁" in body
    none = text(visitor().get(f"{SHOP}/search/?q=pizza"))
    assert "0 results" in none
    assert "Nothing matches" in none


def test_the_product_page_offers_the_sku_choice_with_price_and_stock(shop):
    client = visitor()
    choose_store(client, shop.lujiazui)
    iced_large = shop.skus["L/Iced"]
    body = text(client.get(f"{SHOP}/products/{shop.latte.pk}/?sku={iced_large.pk}"))
    assert 'name="option-0" value="M"' in body
    assert 'name="option-1" value="Iced" checked' in body
    assert "<small>¥</small>32<small>.00</small>" in body
    assert "Sold out" in body  # none at Lujiazui
    assert re.search(r'name="add" value="1" data-needs-stock disabled', body)
    data = re.search(r'<script id="sku-data" type="application/json">(.*?)</script>', body)
    assert data is not None
    assert '"stock": "sold_out"' in data.group(1)
    assert '"stock": "in_stock"' in data.group(1)
    # the picture at full size on the product page; lists use the thumbnail
    assert re.search(r'<img src="/media/catalog/[^"]+\.png"', body)


def test_low_stock_and_not_sold_here_are_said(shop):
    client = visitor()
    choose_store(client, shop.jingan)
    assert "Only 3 left" in text(client.get(f"{SHOP}/products/{shop.tiramisu.pk}/"))
    choose_store(client, shop.lujiazui)
    assert "Not sold at this store" in text(client.get(f"{SHOP}/products/{shop.tiramisu.pk}/"))


def test_products_not_on_sale_or_of_another_shop_are_404(shop, other_merchant):
    from siyu.catalog.testing import make_product

    theirs = make_product(other_merchant, status=Product.Status.ON_SALE)
    assert visitor().get(f"{SHOP}/products/{shop.old_mug.pk}/").status_code == 404
    assert visitor().get(f"{SHOP}/products/{theirs.pk}/").status_code == 404


# --- cart ---------------------------------------------------------------------------------------------


def test_a_visitor_adding_to_the_cart_logs_in_first_and_comes_back(shop):
    response = visitor().post(
        f"{SHOP}/cart/add/",
        {"product": shop.latte.pk, "sku_id": shop.skus["M/Hot"].pk, "quantity": "1"},
    )
    assert response.status_code == 302
    back = f"{SHOP}/products/{shop.latte.pk}/?sku={shop.skus['M/Hot'].pk}"
    assert response["Location"] == f"{SHOP}/login/?next={quote(back, safe='')}"
    assert not CartLine.unscoped.exists()


def test_add_to_cart_by_options_then_change_and_remove(shop, customer):
    client = logged_in(customer)
    choose_store(client, shop.jingan)
    response = client.post(
        f"{SHOP}/cart/add/",
        {"product": shop.latte.pk, "option-0": "L", "option-1": "Iced", "quantity": "2"},
    )
    sku = shop.skus["L/Iced"]
    assert response.status_code == 302
    assert response["Location"] == f"{SHOP}/products/{shop.latte.pk}/?sku={sku.pk}"
    assert "Added to your cart." in text(client.get(response["Location"]))
    line = CartLine.unscoped.get()
    assert (line.sku_id, line.quantity) == (sku.pk, 2)
    cart = text(client.get(f"{SHOP}/cart/"))
    assert "拿铁" in cart
    assert "L / Iced" in cart
    assert "<small>¥</small>64<small>.00</small>" in cart  # 2 × ¥32
    assert "Pickup in store: no shipping fee" in cart  # the explanation
    assert client.post(f"{SHOP}/cart/{sku.pk}/", {"quantity": "3"}).status_code == 302
    assert CartLine.unscoped.get().quantity == 3
    bad = client.post(f"{SHOP}/cart/{sku.pk}/", {"quantity": "0"})
    assert bad.status_code == 422
    assert "At least 1." in text(bad)
    assert CartLine.unscoped.get().quantity == 3
    assert client.post(f"{SHOP}/cart/{sku.pk}/remove/").status_code == 302
    assert not CartLine.unscoped.exists()
    assert "Your cart is empty." in text(client.get(f"{SHOP}/cart/"))


def test_adding_with_a_bad_quantity_or_no_sku_choice_shows_why(shop, customer):
    client = logged_in(customer)
    zero = client.post(
        f"{SHOP}/cart/add/",
        {"product": shop.latte.pk, "sku_id": shop.skus["M/Hot"].pk, "quantity": "0"},
    )
    assert zero.status_code == 422
    assert "At least 1." in text(zero)
    none = client.post(
        f"{SHOP}/cart/add/", {"product": shop.latte.pk, "option-0": "XL", "quantity": "1"}
    )
    assert none.status_code == 422
    assert "Choose Size / Temperature." in text(none)
    assert not CartLine.unscoped.exists()
    assert client.post(f"{SHOP}/cart/add/", {"product": "999999"}).status_code == 404


def test_the_cart_flags_what_cannot_be_bought_at_the_store(shop, customer):
    client = logged_in(customer)
    client.post(
        f"{SHOP}/cart/add/",
        {"product": shop.latte.pk, "sku_id": shop.skus["L/Iced"].pk, "quantity": "1"},
    )
    client.post(
        f"{SHOP}/cart/add/",
        {"product": shop.latte.pk, "sku_id": shop.skus["M/Hot"].pk, "quantity": "1"},
    )
    choose_store(client, shop.lujiazui)
    cart = text(client.get(f"{SHOP}/cart/"))
    assert "Out of stock." in cart
    assert "is-problem" in cart
    assert "Some items cannot be bought now" in cart
    delivery = text(client.get(f"{SHOP}/cart/?fulfilment=delivery"))
    assert "Delivery fee ¥8.00 (free from ¥99.00)" in delivery
    assert "Out of stock." not in delivery


# --- checkout, payment, orders ------------------------------------------------------------------------


def test_checkout_for_pickup_offers_the_nearest_stores(shop, customer):
    client = logged_in(customer)
    client.post(
        f"{SHOP}/cart/add/",
        {"product": shop.latte.pk, "sku_id": shop.skus["M/Hot"].pk, "quantity": "1"},
    )
    listed = text(client.get(f"{SHOP}/checkout/"))
    assert "data-geolocate-auto" in listed  # the browser is asked where it is
    # the fallback: by city, then district (浦东新区 before 静安区), then name
    assert listed.index("陆家嘴店") < listed.index("静安店") < listed.index("王府井店")
    near = text(client.get(f"{SHOP}/checkout/?lat={PEOPLES_SQUARE[0]}&lng={PEOPLES_SQUARE[1]}"))
    assert near.index("静安店") < near.index("陆家嘴店") < near.index("王府井店")
    assert f'name="store_id" value="{shop.jingan.pk}" checked' in near
    assert "data-geolocate-auto" not in near


def test_place_a_pickup_order_from_the_cart_and_pay(shop, customer):
    client = logged_in(customer)
    client.post(
        f"{SHOP}/cart/add/",
        {"product": shop.latte.pk, "sku_id": shop.skus["M/Hot"].pk, "quantity": "2"},
    )
    client.post(
        f"{SHOP}/cart/add/",
        {"product": shop.tiramisu.pk, "sku_id": shop.tiramisu_sku.pk, "quantity": "1"},
    )
    response = client.post(
        f"{SHOP}/checkout/", {"fulfilment": "pickup", "store_id": shop.jingan.pk, "note": "少冰"}
    )
    assert response.status_code == 302, text(response)
    order = Order.unscoped.get()
    payment = Payment.unscoped.get()
    assert response["Location"] == payment.pay_url
    assert "/sandbox/pay/" in payment.pay_url
    assert (order.status, order.store_id, order.total, order.note) == (
        "pending_payment",
        shop.jingan.pk,
        2 * 2600 + 3800,
        "少冰",
    )
    assert order.channel == "storefront"
    assert not CartLine.unscoped.exists()
    assert available(shop.jingan_stock, shop.tiramisu_sku) == 2  # reserved
    assert client.session[CHOSEN_STORES_KEY] == {str(shop.merchant.pk): shop.jingan.pk}
    detail = text(client.get(f"{SHOP}/orders/{order.pk}/"))
    assert "To pay" in detail
    assert "Pay ¥90.00" in detail
    assert order.pickup_code not in detail  # not before it is paid
    waiting = text(client.get(f"{SHOP}/orders/{order.pk}/paid/"))
    assert 'data-payment-state="waiting"' in waiting
    assert f'data-poll="/api/v1/storefront/lucky-coffee/orders/{order.pk}"' in waiting

    pay(order)
    paid = text(client.get(f"{SHOP}/orders/{order.pk}/paid/"))
    assert 'data-payment-state="paid"' in paid
    detail = text(client.get(f"{SHOP}/orders/{order.pk}/"))
    code = order.pickup_code
    assert f"{code[:3]} {code[3:]}" in detail
    assert "<svg" in detail  # the QR code, inline
    assert "Paid · to pick up" in detail
    assert "Ask for a refund" in detail


def test_buy_now_skips_the_cart(shop, customer):
    client = logged_in(customer)
    client.post(
        f"{SHOP}/cart/add/",
        {"product": shop.tiramisu.pk, "sku_id": shop.tiramisu_sku.pk, "quantity": "1"},
    )
    choose_store(client, shop.jingan)
    sku = shop.skus["L/Hot"]
    response = client.post(
        f"{SHOP}/cart/add/",
        {"product": shop.latte.pk, "sku_id": sku.pk, "quantity": "2", "buy": "1"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"{SHOP}/checkout/?items={sku.pk}%3A2&store_id={shop.jingan.pk}"
    page = text(client.get(response["Location"]))
    assert "<small>¥</small>60<small>.00</small>" in page
    assert "提拉米苏" not in page
    placed = client.post(
        f"{SHOP}/checkout/",
        {"fulfilment": "pickup", "store_id": shop.jingan.pk, "items": f"{sku.pk}:2"},
    )
    assert placed.status_code == 302
    order = Order.unscoped.get()
    assert [(ln.sku_id, ln.quantity) for ln in OrderLine.unscoped.filter(order=order)] == [
        (sku.pk, 2)
    ]
    assert CartLine.unscoped.count() == 1  # the cart is untouched


def test_delivery_checkout_with_an_address_added_inline(shop, customer):
    client = logged_in(customer)
    client.post(
        f"{SHOP}/cart/add/",
        {"product": shop.latte.pk, "sku_id": shop.skus["M/Hot"].pk, "quantity": "1"},
    )
    page = text(client.get(f"{SHOP}/checkout/?fulfilment=delivery"))
    assert 'form="new-address"' in page
    assert "Once you choose an address" in page
    here = f"{SHOP}/checkout/?fulfilment=delivery"
    saved = client.post(f"{SHOP}/account/addresses/new/", {**address_fields(), "next": here})
    assert saved["Location"] == here
    address = CustomerAddress.unscoped.get()
    page = text(client.get(here))
    assert f'name="address_id" value="{address.pk}" checked' in page
    assert "Delivery fee ¥8.00 (free from ¥99.00)" in page
    response = client.post(
        f"{SHOP}/checkout/", {"fulfilment": "delivery", "address_id": address.pk}
    )
    assert response.status_code == 302
    order = Order.unscoped.get()
    assert (order.fulfilment, order.shipping_fee, order.total) == ("delivery", 800, 3400)
    assert order.shipping_address["recipient"] == "王小明"


def test_checkout_refuses_bad_input_by_field_and_writes_nothing(shop, customer, other_merchant):
    from siyu.stores.testing import make_store

    client = logged_in(customer)
    client.post(
        f"{SHOP}/cart/add/",
        {"product": shop.latte.pk, "sku_id": shop.skus["M/Hot"].pk, "quantity": "1"},
    )
    no_store = client.post(f"{SHOP}/checkout/", {"fulfilment": "pickup"})
    assert no_store.status_code == 422
    assert "Choose the store to pick up from." in text(no_store)
    theirs = make_store(other_merchant)
    other = client.post(f"{SHOP}/checkout/", {"fulfilment": "pickup", "store_id": theirs.pk})
    assert other.status_code == 422
    assert "Unknown store." in text(other)
    someone = make_address(make_customer(shop.merchant))
    address = client.post(f"{SHOP}/checkout/", {"fulfilment": "delivery", "address_id": someone.pk})
    assert address.status_code == 422
    assert "Unknown address." in text(address)
    unknown = client.post(
        f"{SHOP}/checkout/",
        {"fulfilment": "pickup", "store_id": shop.jingan.pk, "items": "999999:1"},
    )
    assert unknown.status_code == 422
    assert "Unknown SKU." in text(unknown)
    zero = client.post(
        f"{SHOP}/checkout/",
        {"fulfilment": "pickup", "store_id": shop.jingan.pk, "items": f"{shop.skus['M/Hot'].pk}:0"},
    )
    assert zero.status_code == 422
    assert "At least 1." in text(zero)
    too_many = client.post(
        f"{SHOP}/checkout/",
        {
            "fulfilment": "pickup",
            "store_id": shop.lujiazui.pk,
            "items": f"{shop.skus['L/Iced'].pk}:1",
        },
    )
    assert too_many.status_code == 409
    assert "Out of stock." in text(too_many)
    assert not Order.unscoped.exists()
    assert CartLine.unscoped.count() == 1


def test_cancel_before_payment_releases_the_stock(shop, customer):
    client = logged_in(customer)
    order = make_order(
        shop.merchant, customer=customer, items=[(shop.tiramisu_sku.pk, 2)], store_id=shop.jingan.pk
    )
    assert available(shop.jingan_stock, shop.tiramisu_sku) == 1
    response = client.post(f"{SHOP}/orders/{order.pk}/cancel/")
    assert response["Location"] == f"{SHOP}/orders/{order.pk}/"
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert available(shop.jingan_stock, shop.tiramisu_sku) == 3
    assert "Your order is cancelled." in text(client.get(response["Location"]))


def test_ask_for_a_refund_of_one_item(shop, customer):
    client = logged_in(customer)
    order = make_order(
        shop.merchant,
        customer=customer,
        items=[(shop.skus["M/Hot"].pk, 2), (shop.tiramisu_sku.pk, 1)],
        store_id=shop.jingan.pk,
    )
    pay(order)
    form = text(client.get(f"{SHOP}/orders/{order.pk}/refund/"))
    assert "Ask for a refund" in form
    latte, cake = OrderLine.unscoped.filter(order=order).order_by("id")
    nothing = client.post(
        f"{SHOP}/orders/{order.pk}/refund/",
        {f"qty_{latte.pk}": "0", f"qty_{cake.pk}": "0", "reason": "other"},
    )
    assert nothing.status_code == 422
    assert "Choose at least one item to refund." in text(nothing)
    too_many = client.post(
        f"{SHOP}/orders/{order.pk}/refund/",
        {f"qty_{latte.pk}": "3", f"qty_{cake.pk}": "0", "reason": "other"},
    )
    assert too_many.status_code == 422
    assert "At most 2 can be refunded." in text(too_many)
    no_reason = client.post(
        f"{SHOP}/orders/{order.pk}/refund/", {f"qty_{latte.pk}": "1", f"qty_{cake.pk}": "0"}
    )
    assert no_reason.status_code == 422
    assert not Refund.unscoped.exists()
    done = client.post(
        f"{SHOP}/orders/{order.pk}/refund/",
        {
            f"qty_{latte.pk}": "1",
            f"qty_{cake.pk}": "0",
            "reason": "wrong_item",
            "details": "要的是冰的",
        },
    )
    assert done.status_code == 302
    refund = Refund.unscoped.get()
    assert (refund.status, refund.amount, refund.reason) == (
        "requested",
        2600,
        "Wrong size, flavour or item: 要的是冰的",
    )
    assert [(r.order_line_id, r.quantity) for r in RefundLine.unscoped.filter(refund=refund)] == [
        (latte.pk, 1)
    ]
    detail = text(client.get(f"{SHOP}/orders/{order.pk}/"))
    assert "Waiting for the shop" in detail
    assert client.get(f"{SHOP}/orders/{order.pk}/refund/").status_code == 302  # one at a time


def test_another_customers_order_is_404(shop, customer):
    theirs = make_order(shop.merchant, items=[(shop.skus["M/Hot"].pk, 1)], store_id=shop.jingan.pk)
    client = logged_in(customer)
    for path in ("", "paid/", "refund/"):
        assert client.get(f"{SHOP}/orders/{theirs.pk}/{path}").status_code == 404
    for path in ("pay/", "cancel/"):
        assert client.post(f"{SHOP}/orders/{theirs.pk}/{path}").status_code == 404
    assert Order.unscoped.get(pk=theirs.pk).status == "pending_payment"


def test_my_orders_newest_first_with_tabs(shop, customer):
    first = make_order(
        shop.merchant,
        customer=customer,
        items=[(shop.skus["M/Hot"].pk, 1)],
        store_id=shop.jingan.pk,
    )
    second = make_order(
        shop.merchant,
        customer=customer,
        status="paid",
        items=[(shop.tiramisu_sku.pk, 1)],
        store_id=shop.jingan.pk,
    )
    client = logged_in(customer)
    body = text(client.get(f"{SHOP}/orders/"))
    assert body.index(f"/orders/{second.pk}/") < body.index(f"/orders/{first.pk}/")
    to_pay = text(client.get(f"{SHOP}/orders/?tab=to_pay"))
    assert f"/orders/{first.pk}/" in to_pay
    assert f"/orders/{second.pk}/" not in to_pay
    assert "Pay now" in to_pay
