"""The catalog API: typed input, money in fen, field-named errors, tenancy and roles."""

from __future__ import annotations

import json

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from siyu.catalog.models import Category, Product, ProductImage, ProductStore, Sku
from siyu.catalog.services import ImageUpload, SkuInput
from siyu.catalog.testing import (
    ean13,
    first_sku,
    image_bytes,
    make_category,
    make_product,
    make_sized_product,
    make_store,
)
from siyu.core.models import AuditEntry
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import api_client

BASE = "/api/v1/catalog"


def send(client, method, url, body=None, **extra):
    kwargs = {"content_type": "application/json"} if body is not None else {}
    data = json.dumps(body) if body is not None else None
    return getattr(client, method)(url, data, HTTP_ACCEPT_LANGUAGE="en", **kwargs, **extra)


@pytest.fixture
def api(merchant):
    return api_client(merchant, Role.OPERATOR)


def latte_body(**changes):
    body = {
        "name": "Iced Latte",
        "status": "on_sale",
        "option_names": ["Size"],
        "skus": [
            {"code": "ILAT-M", "options": {"Size": "M"}, "price": 2600, "barcode": ean13()},
            {"code": "ILAT-L", "options": {"Size": "L"}, "price": 3000, "list_price": 3600},
        ],
    }
    body.update(changes)
    return body


def count(model, merchant):
    with merchant_context(merchant):
        return model.objects.count()


def test_create_a_product_with_its_skus(api, merchant):
    coffee = make_category(merchant, "Coffee")
    response = send(api, "post", f"{BASE}/products", latte_body(category_id=coffee.pk))
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["name"] == "Iced Latte"
    assert (data["price_min"], data["price_max"]) == (2600, 3000)
    assert [(s["code"], s["options"], s["price"], s["list_price"]) for s in data["skus"]] == [
        ("ILAT-M", {"Size": "M"}, 2600, None),
        ("ILAT-L", {"Size": "L"}, 3000, 3600),
    ]
    assert data["category_id"] == coffee.pk
    assert data["sold_in_all_stores"] is True
    assert count(Sku, merchant) == 2


def test_a_negative_price_in_the_second_sku_creates_nothing(api, merchant):
    body = latte_body()
    body["skus"][1]["price"] = -100
    response = send(api, "post", f"{BASE}/products", body)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid"
    assert list(response.json()["fields"]) == ["skus.1.price"]
    assert count(Product, merchant) == 0
    assert count(Sku, merchant) == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"price": 26.0}, "skus.0.price"),  # a float is not money
        ({"price": "2600"}, "skus.0.price"),  # neither is text
        ({"price": 10**9 + 1}, "skus.0.price"),
        ({"list_price": 100}, "skus.0.list_price"),
        ({"barcode": "6901234567890"}, "skus.0.barcode"),
        ({"options": {"Colour": "Red"}}, "skus.0.options"),
        ({"code": "bad code"}, "skus.0.code"),
        ({"weight_grams": -1}, "skus.0.weight_grams"),
    ],
)
def test_bad_sku_fields_are_named(api, merchant, change, field):
    body = latte_body()
    body["skus"][0].update(change)
    response = send(api, "post", f"{BASE}/products", body)
    assert response.status_code == 422
    assert field in response.json()["fields"]
    assert count(Product, merchant) == 0


def test_bad_product_fields_are_named(api, merchant, other_merchant):
    theirs = make_category(other_merchant, "Theirs")
    response = send(
        api,
        "post",
        f"{BASE}/products",
        latte_body(name="", category_id=theirs.pk, all_stores=False, option_names=["Size", "size"]),
    )
    assert response.status_code == 422
    fields = response.json()["fields"]
    assert fields["name"] == "This field is required."
    assert fields["category_id"] == "Unknown category."
    assert fields["store_ids"].startswith("Choose at least one store")
    assert fields["option_names"] == "Each option name may appear once."
    response = send(api, "post", f"{BASE}/products", latte_body(skus=[]))
    assert response.status_code == 422
    assert "skus" in response.json()["fields"]


def test_going_on_sale_without_a_priced_sku_is_refused(api, merchant):
    body = latte_body()
    for sku in body["skus"]:
        sku["price"] = 0
    response = send(api, "post", f"{BASE}/products", body)
    assert response.status_code == 422
    assert "status" in response.json()["fields"]


def test_list_search_filters_and_pagination(api, merchant):
    coffee = make_category(merchant, "Coffee")
    espresso = make_category(merchant, "Espresso", parent=coffee)
    latte = make_product(
        merchant,
        "Latte",
        category_id=espresso.pk,
        skus=[SkuInput(price=2600, barcode="6901234567892")],
        images=[ImageUpload(image_bytes())],
        status=Product.Status.ON_SALE,
    )
    for n in range(3):
        make_product(merchant, f"Bread {n}")
    response = send(api, "get", f"{BASE}/products?q=690123")
    assert response.status_code == 200
    [item] = response.json()["items"]
    assert item["id"] == latte.pk
    assert (item["price_min"], item["price_max"], item["sku_count"]) == (2600, 2600, 1)
    assert item["thumbnail_url"].endswith("-thumb.webp")
    assert item["category_name"] == "Espresso"
    assert send(api, "get", f"{BASE}/products?category_id={coffee.pk}").json()["count"] == 1
    assert send(api, "get", f"{BASE}/products?status=draft").json()["count"] == 3
    page = send(api, "get", f"{BASE}/products?limit=2&offset=0&order=name").json()
    assert (page["count"], page["next_offset"], [i["name"] for i in page["items"]]) == (
        4,
        2,
        ["Bread 0", "Bread 1"],
    )
    assert send(api, "get", f"{BASE}/products?status=sold_out").status_code == 422


def test_list_query_count_is_pinned(api, merchant, django_assert_max_num_queries):
    for n in range(15):
        make_sized_product(merchant, f"Latte {n}", images=[ImageUpload(image_bytes(20, 20))])
    with django_assert_max_num_queries(12):  # auth + count + page + SKUs + images, not per row
        response = send(api, "get", f"{BASE}/products?limit=15")
    assert len(response.json()["items"]) == 15


def test_get_and_patch_a_product(api, merchant):
    product = make_sized_product(merchant)
    skus = send(api, "get", f"{BASE}/products/{product.pk}").json()["skus"]
    assert len(skus) == 4
    response = send(
        api,
        "patch",
        f"{BASE}/products/{product.pk}",
        {
            "name": "Latte (oat)",
            "status": "on_sale",
            "skus": [
                {"id": skus[0]["id"], "options": skus[0]["options"], "price": 2700},
                {"options": {"Size": "XL", "Temperature": "Hot"}, "price": 3500},
            ],
        },
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["name"], data["status"]) == ("Latte (oat)", "on_sale")
    assert [(s["price"], s["active"]) for s in data["skus"]] == [
        (2700, True),
        (3500, True),
        (2800, False),  # left out: deactivated, listed after the others
        (3000, False),
        (3200, False),
    ]
    # category_id null leaves the product uncategorised; name null is refused
    assert (
        send(api, "patch", f"{BASE}/products/{product.pk}", {"category_id": None}).status_code
        == 200
    )
    response = send(api, "patch", f"{BASE}/products/{product.pk}", {"name": None})
    assert response.status_code == 422
    assert response.json()["fields"] == {"name": "May not be null."}


def test_patch_with_a_bad_sku_changes_nothing(api, merchant):
    product = make_sized_product(merchant)
    response = send(
        api,
        "patch",
        f"{BASE}/products/{product.pk}",
        {"name": "Changed", "skus": [{"options": {"Size": "M"}, "price": 100}]},
    )
    assert response.status_code == 422
    assert "skus.0.options" in response.json()["fields"]
    with merchant_context(merchant):
        product.refresh_from_db()
        assert product.name == "Latte"
        assert Sku.objects.filter(product=product, active=True).count() == 4


def test_bulk_status_all_or_nothing(api, merchant):
    a = make_product(merchant, "A")
    b = make_product(merchant, "B")
    free = make_product(merchant, "Free", skus=[SkuInput(price=0)])
    url = f"{BASE}/products/bulk-status"
    response = send(api, "post", url, {"product_ids": [a.pk, free.pk, b.pk], "status": "on_sale"})
    assert response.status_code == 422
    assert list(response.json()["fields"]) == [f"products.{free.pk}"]
    with merchant_context(merchant):
        assert set(Product.objects.values_list("status", flat=True)) == {"draft"}
    response = send(api, "post", url, {"product_ids": [a.pk, b.pk], "status": "on_sale"})
    assert response.status_code == 200
    assert [(i["id"], i["status"]) for i in response.json()["items"]] == [
        (a.pk, "on_sale"),
        (b.pk, "on_sale"),
    ]


def test_skus_add_patch_deactivate(api, merchant):
    product = make_sized_product(merchant)
    response = send(
        api,
        "post",
        f"{BASE}/products/{product.pk}/skus",
        {"options": {"Size": "XL", "Temperature": "Iced"}, "price": 3600, "code": "LAT-XL-I"},
    )
    assert response.status_code == 201
    sku_id = response.json()["id"]
    response = send(api, "patch", f"{BASE}/skus/{sku_id}", {"price": 3800, "list_price": None})
    assert response.json()["price"] == 3800
    response = send(api, "patch", f"{BASE}/skus/{sku_id}", {"price": -1})
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["price"]
    response = send(api, "delete", f"{BASE}/skus/{sku_id}")
    assert response.status_code == 200
    assert response.json()["active"] is False
    with merchant_context(merchant):
        assert Sku.objects.filter(pk=sku_id).exists()  # kept for orders and stock


def test_image_upload_reorder_and_delete(api, merchant):
    product = make_product(merchant)
    response = api.post(
        f"{BASE}/products/{product.pk}/images",
        {
            "files": [
                SimpleUploadedFile("front.jpg", image_bytes(900, 600, format="JPEG")),
                SimpleUploadedFile("anything.bin", image_bytes(300, 300, format="WEBP")),
            ],
            "alt": "Latte",
        },
    )
    assert response.status_code == 201, response.content
    first, second = response.json()
    assert (first["width"], first["height"], first["alt"]) == (900, 600, "Latte")
    with merchant_context(merchant):
        image = ProductImage.objects.get(pk=first["id"])
    assert default_storage.exists(image.thumbnail.name)
    assert first["thumbnail_url"] == image.thumbnail.url
    response = send(
        api,
        "put",
        f"{BASE}/products/{product.pk}/images/order",
        {"image_ids": [second["id"], first["id"]]},
    )
    assert [i["id"] for i in response.json()] == [second["id"], first["id"]]
    assert send(api, "delete", f"{BASE}/images/{first['id']}").status_code == 204
    assert [
        i["id"] for i in send(api, "get", f"{BASE}/products/{product.pk}").json()["images"]
    ] == [second["id"]]


def test_uploading_a_file_that_is_not_an_image_is_refused(api, merchant):
    product = make_product(merchant)
    response = api.post(
        f"{BASE}/products/{product.pk}/images",
        {
            "files": [
                SimpleUploadedFile(
                    "photo.jpg", b"<html>not a photo</html>", content_type="image/jpeg"
                )
            ]
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 422
    assert response.json()["fields"] == {"files.0": "This file is not an image we can read."}
    assert count(ProductImage, merchant) == 0


def test_upload_size_limit(api, merchant, settings):
    settings.MAX_IMAGE_UPLOAD_BYTES = 1000
    product = make_product(merchant)
    response = api.post(
        f"{BASE}/products/{product.pk}/images",
        {"files": [SimpleUploadedFile("big.png", image_bytes(400, 400, format="BMP"))]},
    )
    assert response.status_code == 422
    assert "files.0" in response.json()["fields"]


def test_availability(api, merchant, other_merchant):
    product = make_product(merchant)
    a, b = make_store(merchant), make_store(merchant)
    theirs = make_store(other_merchant)
    url = f"{BASE}/products/{product.pk}/availability"
    response = send(api, "put", url, {"all_stores": False, "store_ids": [b.pk, a.pk]})
    assert response.json() == {
        "product_id": product.pk,
        "all_stores": False,
        "store_ids": sorted([a.pk, b.pk]),
    }
    response = send(api, "put", url, {"all_stores": False, "store_ids": [theirs.pk]})
    assert response.status_code == 422
    assert response.json()["fields"] == {"store_ids.0": "Unknown store."}
    assert send(api, "get", f"{BASE}/products?store_id={theirs.pk}").json()["count"] == 0
    assert send(api, "get", f"{BASE}/products?store_id={a.pk}").json()["count"] == 1
    assert send(api, "put", url, {"all_stores": True}).json()["store_ids"] == []
    assert count(ProductStore, merchant) == 0


def test_categories_flat_tree_create_patch_delete(api, merchant):
    response = send(api, "post", f"{BASE}/categories", {"name": "Coffee"})
    assert response.status_code == 201
    coffee = response.json()["id"]
    espresso = send(
        api, "post", f"{BASE}/categories", {"name": "Espresso", "parent_id": coffee}
    ).json()
    assert (espresso["depth"], espresso["path"]) == (2, "Coffee / Espresso")
    tree = send(api, "get", f"{BASE}/categories/tree").json()
    assert [(n["name"], [c["name"] for c in n["children"]]) for n in tree] == [
        ("Coffee", ["Espresso"])
    ]
    flat = send(api, "get", f"{BASE}/categories").json()
    assert [c["path"] for c in flat] == ["Coffee", "Coffee / Espresso"]
    response = send(
        api,
        "patch",
        f"{BASE}/categories/{espresso['id']}",
        {"parent_id": None, "name": "Espresso bar"},
    )
    assert (response.json()["parent_id"], response.json()["depth"]) == (None, 1)
    response = send(api, "patch", f"{BASE}/categories/{coffee}", {"parent_id": coffee})
    assert response.status_code == 422
    assert "parent_id" in response.json()["fields"]
    make_product(merchant, category_id=coffee)
    response = send(api, "delete", f"{BASE}/categories/{coffee}")
    assert response.status_code == 409
    assert response.json()["fields"]["products"].startswith("1 product is in it")
    assert send(api, "delete", f"{BASE}/categories/{espresso['id']}").status_code == 204
    assert count(Category, merchant) == 1


def test_product_delete(api, merchant):
    on_sale = make_product(merchant, status=Product.Status.ON_SALE)
    draft = make_product(merchant)
    assert send(api, "delete", f"{BASE}/products/{on_sale.pk}").status_code == 409
    assert send(api, "delete", f"{BASE}/products/{draft.pk}").status_code == 204
    assert count(Product, merchant) == 1


@pytest.fixture
def theirs(other_merchant):
    category = make_category(other_merchant, "Theirs")
    product = make_product(
        other_merchant, "Their latte", category_id=category.pk, images=[ImageUpload(image_bytes())]
    )
    with merchant_context(other_merchant):
        image = ProductImage.objects.get(product=product)
    return {
        "product": product.pk,
        "sku": first_sku(product).pk,
        "category": category.pk,
        "image": image.pk,
    }


ENDPOINTS = [
    ("get", "/products/{product}", None),
    ("patch", "/products/{product}", {"name": "Mine now"}),
    ("delete", "/products/{product}", None),
    ("post", "/products/{product}/skus", {"price": 1}),
    ("patch", "/skus/{sku}", {"price": 1}),
    ("delete", "/skus/{sku}", None),
    ("put", "/products/{product}/images/order", {"image_ids": []}),
    ("delete", "/images/{image}", None),
    ("put", "/products/{product}/availability", {"all_stores": True}),
    ("patch", "/categories/{category}", {"name": "Mine"}),
    ("delete", "/categories/{category}", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_another_merchants_rows_are_not_found(api, theirs, other_merchant, method, path, body):
    response = send(api, method, BASE + path.format(**theirs), body)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    with merchant_context(other_merchant):
        assert Product.objects.get(pk=theirs["product"]).name == "Their latte"
        assert Sku.objects.get(pk=theirs["sku"]).price == 1800
        assert ProductImage.objects.filter(pk=theirs["image"]).exists()
        assert Category.objects.get(pk=theirs["category"]).name == "Theirs"


def test_another_merchants_product_in_bulk_or_upload_is_not_found(api, theirs, merchant):
    mine = make_product(merchant)
    response = send(
        api,
        "post",
        f"{BASE}/products/bulk-status",
        {"product_ids": [mine.pk, theirs["product"]], "status": "off_sale"},
    )
    assert response.status_code == 404
    assert response.json()["fields"] == {"product_ids.1": "Not found."}
    response = api.post(
        f"{BASE}/products/{theirs['product']}/images",
        {"files": [SimpleUploadedFile("a.png", image_bytes())]},
    )
    assert response.status_code == 404


@pytest.mark.parametrize("role", [Role.SHOPPING_GUIDE, Role.FINANCE, Role.STORE_MANAGER])
def test_read_only_roles_may_read_but_not_write(merchant, role):
    client = api_client(merchant, role)
    product = make_sized_product(merchant)
    category = make_category(merchant, "Coffee")
    assert send(client, "get", f"{BASE}/products").status_code == 200
    assert send(client, "get", f"{BASE}/products/{product.pk}").status_code == 200
    assert send(client, "get", f"{BASE}/categories/tree").status_code == 200
    writes = [
        ("post", "/products", latte_body()),
        ("patch", f"/products/{product.pk}", {"name": "X"}),
        ("delete", f"/products/{product.pk}", None),
        ("post", "/products/bulk-status", {"product_ids": [product.pk], "status": "on_sale"}),
        ("post", f"/products/{product.pk}/skus", {"price": 1}),
        ("patch", f"/skus/{first_sku(product).pk}", {"price": 1}),
        ("put", f"/products/{product.pk}/availability", {"all_stores": True}),
        ("post", "/categories", {"name": "Tea"}),
        ("patch", f"/categories/{category.pk}", {"name": "Tea"}),
        ("delete", f"/categories/{category.pk}", None),
    ]
    for method, path, body in writes:
        response = send(client, method, BASE + path, body)
        assert response.status_code == 403, (method, path)
    response = client.post(
        f"{BASE}/products/{product.pk}/images",
        {"files": [SimpleUploadedFile("a.png", image_bytes())]},
    )
    assert response.status_code == 403
    with merchant_context(merchant):
        assert Product.objects.count() == 1
        assert Category.objects.count() == 1
    assert not AuditEntry.unscoped.filter(
        merchant=merchant, action__startswith="catalog", actor_api_key=client.api_key
    ).exists()


def test_an_idempotent_create_happens_once(api, merchant):
    body = json.dumps(latte_body())
    first = api.post(
        f"{BASE}/products", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    again = api.post(
        f"{BASE}/products", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(Product, merchant) == 1


def test_the_openapi_document_describes_the_catalog(client, openapi_generated_once):
    doc = client.get("/api/v1/openapi.json").json()
    paths = doc["paths"]
    for path in (
        "/api/v1/catalog/products",
        "/api/v1/catalog/products/bulk-status",
        "/api/v1/catalog/products/{product_id}/images",
        "/api/v1/catalog/skus/{sku_id}",
        "/api/v1/catalog/categories/tree",
    ):
        assert path in paths
    sku = doc["components"]["schemas"]["SkuIn"]
    assert sku["properties"]["price"]["type"] == "integer"
    assert sku["examples"][0]["price"] == 3200
