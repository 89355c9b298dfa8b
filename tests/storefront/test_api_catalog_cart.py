"""The customer API's public reads (catalog, nearest stores) and the cart with its preview.

Bad input answers a 4xx naming the field and writes nothing; another merchant's rows are
never found.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from siyu.catalog.testing import make_product
from siyu.customers.testing import make_address, make_customer, storefront_client
from siyu.orders.models import CartLine
from siyu.stores.testing import make_store
from tests.storefront.shop import PEOPLES_SQUARE

API = "/api/v1/storefront/lucky-coffee"


def anon() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def send(client: Client, method: str, path: str, body: dict | None = None):
    return client.generic(
        method, f"{API}{path}", data=json.dumps(body or {}), content_type="application/json"
    )


@pytest.fixture
def client(customer) -> Client:
    return storefront_client(customer, HTTP_ACCEPT_LANGUAGE="en")


# --- catalog -----------------------------------------------------------------------------------


def test_categories_in_tree_order_without_logging_in(shop):
    response = anon().get(f"{API}/catalog/categories")
    assert response.status_code == 200
    rows = [(c["name"], c["parent_id"], c["depth"]) for c in response.json()]
    assert rows == [
        ("饮品", None, 1),
        ("咖啡", shop.drinks.pk, 2),
        ("甜点", None, 1),
    ]


def test_products_on_sale_with_prices_thumbnails_and_pagination(shop):
    response = anon().get(f"{API}/catalog/products")
    assert response.status_code == 200
    page = response.json()
    assert page["count"] == 2
    assert page["next_offset"] is None
    latte = next(p for p in page["items"] if p["name"] == "拿铁")
    assert (latte["price_from"], latte["price_to"]) == (2600, 3200)
    assert latte["category_id"] == shop.coffee.pk
    assert "-thumb." in latte["thumbnail"]
    assert latte["stock"] == {"state": "in_stock", "left": None}  # the delivery warehouse
    assert all(p["name"] != "旧款杯子" for p in page["items"])
    first = anon().get(f"{API}/catalog/products?limit=1").json()
    assert (len(first["items"]), first["count"], first["next_offset"]) == (1, 2, 1)


def test_products_by_name_category_and_store(shop):
    found = anon().get(f"{API}/catalog/products?q=拿").json()
    assert [p["name"] for p in found["items"]] == ["拿铁"]
    drinks = anon().get(f"{API}/catalog/products?category={shop.drinks.pk}").json()
    assert [p["name"] for p in drinks["items"]] == ["拿铁"]  # in a subcategory
    lujiazui = anon().get(f"{API}/catalog/products?store={shop.lujiazui.pk}").json()
    assert [p["name"] for p in lujiazui["items"]] == ["拿铁"]  # the tiramisu is Jing'an's only
    jingan = anon().get(f"{API}/catalog/products?store={shop.jingan.pk}").json()
    tiramisu = next(p for p in jingan["items"] if p["name"] == "提拉米苏")
    assert tiramisu["stock"] == {"state": "low", "left": 3}


def test_unknown_or_foreign_store_and_category_are_422(shop, other_merchant):
    theirs = make_store(other_merchant)
    response = anon().get(f"{API}/catalog/products?store={theirs.pk}")
    assert response.status_code == 422
    assert response.json()["fields"] == {"store": "Unknown store."}
    assert anon().get(f"{API}/catalog/products?category=999999").json()["fields"] == {
        "category": "Unknown category."
    }
    bad = anon().get(f"{API}/catalog/products?limit=0")
    assert bad.status_code == 422
    assert "limit" in bad.json()["fields"]


def test_a_product_with_its_skus_and_stock_at_a_store(shop):
    response = anon().get(f"{API}/catalog/products/{shop.latte.pk}?store={shop.lujiazui.pk}")
    assert response.status_code == 200
    product = response.json()
    assert product["option_names"] == ["Size", "Temperature"]
    assert product["store"]["name"] == "陆家嘴店"
    assert product["sold_at_store"] is True
    skus = {(s["options"]["Size"], s["options"]["Temperature"]): s for s in product["skus"]}
    assert skus[("L", "Iced")]["price"] == 3200
    assert skus[("L", "Iced")]["stock"] == {"state": "sold_out", "left": None}
    assert skus[("M", "Hot")]["stock"] == {"state": "in_stock", "left": None}
    assert product["images"][0]["url"].endswith(".png")
    assert "-thumb." in product["images"][0]["thumbnail"]
    tiramisu = anon().get(f"{API}/catalog/products/{shop.tiramisu.pk}?store={shop.lujiazui.pk}")
    assert tiramisu.json()["sold_at_store"] is False


def test_products_off_sale_or_of_another_merchant_are_404(shop, other_merchant):
    theirs = make_product(other_merchant, status="on_sale")
    for pk in (shop.old_mug.pk, theirs.pk, 999999):
        response = anon().get(f"{API}/catalog/products/{pk}")
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"


def test_nearest_stores_for_pickup(shop):
    lat, lng = PEOPLES_SQUARE
    response = anon().get(f"{API}/stores/nearest?lat={lat}&lng={lng}&pickup=true")
    assert response.status_code == 200
    stores = response.json()
    assert [s["name"] for s in stores] == ["静安店", "陆家嘴店", "王府井店"]
    assert 1_500 < stores[0]["distance_m"] < 2_500
    assert stores[0]["open_now"] in (True, False)
    assert anon().get(f"{API}/stores/nearest?lat=91&lng=0").status_code == 422


def test_an_unknown_shop_is_404(db):
    assert anon().get("/api/v1/storefront/no-such-shop/catalog/products").status_code == 404


# --- cart --------------------------------------------------------------------------------------------


def test_the_cart_needs_a_customer(shop):
    response = anon().get(f"{API}/cart")
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


def test_writes_need_the_csrf_token(shop, customer):
    strict = storefront_client(customer, enforce_csrf_checks=True)
    response = send(strict, "POST", "/cart/lines", {"sku_id": shop.skus["M/Hot"].pk})
    assert response.status_code == 403
    assert not CartLine.unscoped.exists()


def test_put_change_and_remove_cart_lines(shop, client):
    sku = shop.skus["M/Hot"]
    added = send(client, "POST", "/cart/lines", {"sku_id": sku.pk, "quantity": 2})
    assert added.status_code == 201, added.content
    cart = added.json()
    assert [(ln["sku_id"], ln["quantity"], ln["gross"]) for ln in cart["lines"]] == [
        (sku.pk, 2, 5200)
    ]
    assert (cart["count"], cart["subtotal"], cart["total"]) == (2, 5200, 5200)
    assert cart["lines"][0]["product_name"] == "拿铁"
    assert cart["lines"][0]["options"] == {"Size": "M", "Temperature": "Hot"}
    again = send(client, "POST", "/cart/lines", {"sku_id": sku.pk, "quantity": 1}).json()
    assert again["lines"][0]["quantity"] == 3
    changed = send(client, "PATCH", f"/cart/lines/{sku.pk}", {"quantity": 5})
    assert changed.status_code == 200
    assert changed.json()["lines"][0]["quantity"] == 5
    removed = send(client, "DELETE", f"/cart/lines/{sku.pk}")
    assert removed.status_code == 200
    assert removed.json()["lines"] == []
    assert send(client, "DELETE", f"/cart/lines/{sku.pk}").status_code == 404


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"sku_id": 999999, "quantity": 1}, "sku_id", "Unknown SKU."),
        ({"sku_id": "SKU", "quantity": 1}, "sku_id", None),
        ({"quantity": 1}, "sku_id", None),
        ({"sku_id": "latte", "quantity": 0}, "quantity", "At least 1."),
        ({"sku_id": "latte", "quantity": 100}, "quantity", "At most 99."),
        ({"sku_id": "mug", "quantity": 1}, "sku_id", "No longer on sale."),
        ({"sku_id": "theirs", "quantity": 1}, "sku_id", "Unknown SKU."),
        ({"sku_id": "tiramisu", "quantity": 1, "store_id": "lujiazui"}, "sku_id", None),
        (
            {"sku_id": "latte", "quantity": 1, "store_id": "their_store"},
            "store_id",
            "Unknown store.",
        ),
    ],
)
def test_bad_cart_lines_are_422_naming_the_field(shop, client, other_merchant, body, field, reason):
    from siyu.catalog.testing import first_sku

    names = {
        "latte": shop.skus["M/Hot"].pk,
        "mug": first_sku(shop.old_mug).pk,
        "theirs": first_sku(make_product(other_merchant, status="on_sale")).pk,
        "tiramisu": shop.tiramisu_sku.pk,
        "lujiazui": shop.lujiazui.pk,
        "their_store": make_store(other_merchant).pk,
    }
    body = {
        key: names.get(value, value) if isinstance(value, str) else value
        for key, value in body.items()
    }
    response = send(client, "POST", "/cart/lines", body)
    assert response.status_code == 422, response.content
    fields = response.json()["fields"]
    assert field in fields
    if reason:
        assert fields[field] == reason
    assert not CartLine.unscoped.exists()


def test_a_patch_to_zero_changes_nothing(shop, client):
    sku = shop.skus["M/Hot"]
    send(client, "POST", "/cart/lines", {"sku_id": sku.pk, "quantity": 2})
    response = send(client, "PATCH", f"/cart/lines/{sku.pk}", {"quantity": 0})
    assert response.status_code == 422
    assert response.json()["fields"] == {"quantity": "At least 1."}
    assert CartLine.unscoped.get().quantity == 2


def test_preview_prices_pickup_and_delivery_and_flags_stock(shop, client, customer):
    send(client, "POST", "/cart/lines", {"sku_id": shop.skus["L/Iced"].pk, "quantity": 1})
    send(client, "POST", "/cart/lines", {"sku_id": shop.skus["M/Hot"].pk, "quantity": 2})
    pickup = send(
        client, "POST", "/cart/preview", {"fulfilment": "pickup", "store_id": shop.jingan.pk}
    )
    assert pickup.status_code == 200, pickup.content
    body = pickup.json()
    assert (body["subtotal"], body["shipping_fee"], body["total"]) == (8400, 0, 8400)
    assert body["can_place"] is True
    assert body["store"]["name"] == "静安店"
    texts = [f["text"] for f in body["explanation"]]
    assert "Pickup in store: no shipping fee" in texts
    short = send(
        client, "POST", "/cart/preview", {"fulfilment": "pickup", "store_id": shop.lujiazui.pk}
    ).json()
    iced = next(ln for ln in short["lines"] if ln["sku_id"] == shop.skus["L/Iced"].pk)
    assert (iced["available"], iced["problem"]) == (0, "Out of stock.")
    assert short["can_place"] is False
    assert short["total"] == 5200  # what can be bought
    address = make_address(customer)
    delivery = send(
        client, "POST", "/cart/preview", {"fulfilment": "delivery", "address_id": address.pk}
    ).json()
    assert (delivery["shipping_fee"], delivery["total"]) == (800, 9200)  # free only from ¥99
    assert delivery["can_place"] is True


def test_preview_charges_the_delivery_fee_below_the_threshold(shop, client, customer):
    send(client, "POST", "/cart/lines", {"sku_id": shop.skus["M/Hot"].pk, "quantity": 1})
    address = make_address(customer)
    body = send(
        client, "POST", "/cart/preview", {"fulfilment": "delivery", "address_id": address.pk}
    ).json()
    assert (body["subtotal"], body["shipping_fee"], body["total"]) == (2600, 800, 3400)
    assert "Delivery fee ¥8.00 (free from ¥99.00)" in [f["text"] for f in body["explanation"]]
    without = send(client, "POST", "/cart/preview", {"fulfilment": "delivery"}).json()
    assert without["can_place"] is False
    assert without["problems"] == {"address_id": "Choose a delivery address."}


def test_preview_refuses_another_customers_address_and_another_merchants_store(
    shop, client, other_merchant
):
    send(client, "POST", "/cart/lines", {"sku_id": shop.skus["M/Hot"].pk, "quantity": 1})
    theirs = make_address(make_customer(shop.merchant))
    response = send(
        client, "POST", "/cart/preview", {"fulfilment": "delivery", "address_id": theirs.pk}
    )
    assert response.status_code == 422
    assert response.json()["fields"] == {"address_id": "Unknown address."}
    store = make_store(other_merchant)
    response = send(client, "POST", "/cart/preview", {"fulfilment": "pickup", "store_id": store.pk})
    assert response.status_code == 422
    assert response.json()["fields"] == {"store_id": "Unknown store."}
    response = send(client, "POST", "/cart/preview", {"fulfilment": "teleport"})
    assert response.status_code == 422
    assert "fulfilment" in response.json()["fields"]
