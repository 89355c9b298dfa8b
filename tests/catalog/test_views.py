"""Console pages of the catalog: roles, tenancy, and the product form end to end."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from siyu.catalog.models import Category, Product, ProductImage, ProductStore, Sku
from siyu.catalog.services import ImageUpload, SkuInput
from siyu.catalog.testing import (
    ean13,
    image_bytes,
    make_category,
    make_product,
    make_sized_product,
    make_store,
)
from siyu.core.models import AuditEntry
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import staff_client

LIST = "/console/catalog/products/"
NEW = "/console/catalog/products/new/"
CATEGORIES = "/console/catalog/categories/"


def edit_url(product):
    return f"/console/catalog/products/{product.pk}/"


@pytest.fixture
def owner_client(merchant):
    client = staff_client(merchant, Role.OWNER)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def product_form(**changes):
    data = {
        "name": "Iced Latte",
        "subtitle": "Double shot",
        "category": "",
        "status": "on_sale",
        "description": "",
        "option_names": "Size, Sugar",
        "all_stores": "1",
        "sku_rows": "2",
        "sku-0-opt-0": "M",
        "sku-0-opt-1": "Less",
        "sku-0-price": "26",
        "sku-0-barcode": ean13(),
        "sku-0-active": "on",
        "sku-1-opt-0": "L",
        "sku-1-opt-1": "Less",
        "sku-1-price": "30.50",
        "sku-1-list_price": "36.00",
        "sku-1-code": "ILAT-L",
        "sku-1-weight": "520",
        "sku-1-active": "on",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    "role", [Role.OWNER, Role.OPERATOR, Role.STORE_MANAGER, Role.SHOPPING_GUIDE, Role.FINANCE]
)
def test_lists_render_for_every_role_that_may_view(merchant, role):
    coffee = make_category(merchant, "Coffee")
    product = make_product(
        merchant, "Flat White", category_id=coffee.pk, images=[ImageUpload(image_bytes())]
    )
    client = staff_client(merchant, role)
    response = client.get(LIST, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Flat White" in body
    assert "¥18.00" in body
    assert "-thumb.webp" in body
    can_manage = role in (Role.OWNER, Role.OPERATOR)
    assert ("Put on sale" in body) is can_manage
    assert ("New product" in body) is can_manage
    assert client.get(CATEGORIES).status_code == 200
    detail = client.get(edit_url(product), HTTP_ACCEPT_LANGUAGE="en")
    assert detail.status_code == 200
    assert ('<fieldset class="plain" disabled>' in detail.content.decode()) is not can_manage


@pytest.mark.parametrize("role", [Role.STORE_MANAGER, Role.SHOPPING_GUIDE, Role.FINANCE])
def test_read_only_roles_cannot_write_through_pages(merchant, role):
    product = make_product(merchant, "Latte")
    category = make_category(merchant, "Coffee")
    client = staff_client(merchant, role)
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, product_form()).status_code == 403
    assert client.post(edit_url(product), product_form(name="Hijacked")).status_code == 403
    assert client.post(f"{edit_url(product)}delete/").status_code == 403
    assert (
        client.post(
            f"{LIST}bulk-status/", {"product": [product.pk], "status": "on_sale"}
        ).status_code
        == 403
    )
    assert client.post(CATEGORIES, {"name": "Tea"}).status_code == 403
    assert (
        client.post(f"{CATEGORIES}{category.pk}/", {f"c{category.pk}-name": "Tea"}).status_code
        == 403
    )
    assert client.post(f"{CATEGORIES}{category.pk}/delete/").status_code == 403
    with merchant_context(merchant):
        assert list(Product.objects.values_list("name", "status")) == [("Latte", "draft")]
        assert list(Category.objects.values_list("name", flat=True)) == ["Coffee"]


def test_another_merchants_ids_are_not_found(owner_client, other_merchant):
    product = make_product(other_merchant, "Theirs")
    category = make_category(other_merchant, "Theirs")
    assert owner_client.get(edit_url(product)).status_code == 404
    assert owner_client.post(edit_url(product), product_form()).status_code == 404
    assert owner_client.post(f"{edit_url(product)}delete/").status_code == 404
    assert (
        owner_client.post(
            f"{CATEGORIES}{category.pk}/", {f"c{category.pk}-name": "Mine"}
        ).status_code
        == 404
    )
    assert owner_client.post(f"{CATEGORIES}{category.pk}/delete/").status_code == 404
    with merchant_context(other_merchant):
        assert Product.objects.get(pk=product.pk).name == "Theirs"
        assert Category.objects.filter(pk=category.pk).exists()


def test_create_a_product_with_skus_and_pictures_through_the_form(owner_client, merchant):
    coffee = make_category(merchant, "Coffee")
    store = make_store(merchant)
    data = product_form(category=str(coffee.pk), all_stores="0", stores=[str(store.pk)])
    data["images"] = [
        SimpleUploadedFile("front.jpg", image_bytes(600, 400, format="JPEG")),
        SimpleUploadedFile("side.png", image_bytes(300, 300)),
    ]
    response = owner_client.post(NEW, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"] == LIST
    with merchant_context(merchant):
        product = Product.objects.get(name="Iced Latte")
        skus = list(Sku.objects.filter(product=product).order_by("position"))
        images = list(ProductImage.objects.filter(product=product))
        stores = list(
            ProductStore.objects.filter(product=product).values_list("store_id", flat=True)
        )
    assert (product.status, product.category_id, product.option_names) == (
        "on_sale",
        coffee.pk,
        ["Size", "Sugar"],
    )
    assert [(s.options, s.price, s.list_price, s.weight_grams) for s in skus] == [
        ({"Size": "M", "Sugar": "Less"}, 2600, None, None),
        ({"Size": "L", "Sugar": "Less"}, 3050, 3600, 520),
    ]
    assert skus[1].code == "ILAT-L"
    assert skus[0].code == f"P{product.pk}-1"
    assert [(i.width, i.height) for i in images] == [(600, 400), (300, 300)]
    assert stores == [store.pk]
    listing = owner_client.get(LIST).content.decode()
    assert "Iced Latte" in listing
    assert "¥26.00" in listing
    assert "¥30.50" in listing
    assert images[0].thumbnail.url in listing


def test_form_errors_come_back_next_to_their_rows_and_nothing_is_saved(owner_client, merchant):
    data = product_form(**{"sku-1-price": "-3", "sku-0-barcode": "6901234567890"})
    data["images"] = [SimpleUploadedFile("cat.jpg", b"meow, not a picture")]
    response = owner_client.post(NEW, data)
    assert response.status_code == 422
    state = response.context["sku_state"]
    assert state["rows"][1]["errors"]["price"] == "Enter an amount in yuan, e.g. 12.30."
    assert state["rows"][1]["price"] == "-3"  # what was typed comes back
    # the form is checked first; the service's checks come once the amounts parse
    data = product_form(**{"sku-0-barcode": "6901234567890"})
    data["images"] = [SimpleUploadedFile("cat.jpg", b"meow, not a picture")]
    response = owner_client.post(NEW, data)
    assert response.status_code == 422
    state = response.context["sku_state"]
    assert "check digit" in state["rows"][0]["errors"]["barcode"]
    assert response.context["extra_errors"]["images"] == "This file is not an image we can read."
    with merchant_context(merchant):
        assert not Product.objects.exists()
        assert not ProductImage.objects.exists()


def test_required_fields_and_option_name_rules(owner_client, merchant):
    response = owner_client.post(NEW, product_form(name="", option_names="Size, size"))
    assert response.status_code == 422
    assert response.context["form"].errors["name"] == ["This field is required."]
    assert response.context["form"].errors["option_names"] == ["Each option name may appear once."]
    with merchant_context(merchant):
        assert not Product.objects.exists()


def test_generate_rows_for_every_combination(owner_client, merchant):
    data = product_form(action="generate", **{"values-0": "M, L, XL", "values-1": "Less, Normal"})
    response = owner_client.post(NEW, data)
    assert response.status_code == 200
    rows = response.context["sku_state"]["rows"]
    assert [r["values"] for r in rows] == [
        ["M", "Less"],
        ["L", "Less"],
        ["M", "Normal"],
        ["L", "Normal"],
        ["XL", "Less"],
        ["XL", "Normal"],
    ]
    assert rows[0]["price"] == "26"  # typed rows are kept
    with merchant_context(merchant):
        assert not Product.objects.exists()  # generating saves nothing


def test_edit_updates_fields_skus_stores_and_pictures(owner_client, merchant):
    product = make_sized_product(
        merchant, images=[ImageUpload(image_bytes()), ImageUpload(image_bytes())]
    )
    with merchant_context(merchant):
        skus = list(Sku.objects.filter(product=product).order_by("position"))
        old_image, kept_image = ProductImage.objects.filter(product=product).order_by("position")
    store = make_store(merchant)
    page = owner_client.get(edit_url(product))
    assert page.status_code == 200
    assert [r["id"] for r in page.context["sku_state"]["rows"]] == [s.pk for s in skus]
    data = {
        "name": "Latte",
        "status": "on_sale",
        "option_names": "Size, Temperature",
        "all_stores": "0",
        "stores": [str(store.pk)],
        "sku_rows": "2",
        "sku-0-id": str(skus[0].pk),
        "sku-0-code": skus[0].code,
        "sku-0-opt-0": "M",
        "sku-0-opt-1": "Hot",
        "sku-0-price": "27.00",
        "sku-0-barcode": skus[0].barcode,
        "sku-0-active": "on",
        "sku-1-opt-0": "XL",
        "sku-1-opt-1": "Hot",
        "sku-1-price": "35",
        "sku-1-active": "on",
        "remove_image": [str(old_image.pk)],
        "images": [SimpleUploadedFile("new.webp", image_bytes(50, 50, format="WEBP"))],
    }
    response = owner_client.post(edit_url(product), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    with merchant_context(merchant):
        product.refresh_from_db()
        active = {
            s.options["Size"]: s.price for s in Sku.objects.filter(product=product, active=True)
        }
        inactive = Sku.objects.filter(product=product, active=False).count()
        images = list(ProductImage.objects.filter(product=product).order_by("position"))
        stores = list(
            ProductStore.objects.filter(product=product).values_list("store_id", flat=True)
        )
    assert product.status == "on_sale"
    assert active == {"M": 2700, "XL": 3500}
    assert inactive == 3
    assert images[0].pk == kept_image.pk
    assert len(images) == 2
    assert images[1].width == 50
    assert stores == [store.pk]
    assert not product.sold_in_all_stores


def test_edit_error_rolls_back_every_part(owner_client, merchant):
    product = make_sized_product(merchant, images=[ImageUpload(image_bytes())])
    store = make_store(merchant)
    page = owner_client.get(edit_url(product))
    rows = page.context["sku_state"]["rows"]
    data = {
        "name": "Renamed",
        "status": "draft",
        "option_names": "Size, Temperature",
        "all_stores": "0",
        "stores": [str(store.pk)],
        "sku_rows": str(len(rows)),
        "images": [SimpleUploadedFile("bad.gif", b"GIF89a broken")],
    }
    for i, row in enumerate(rows):
        data.update(
            {
                f"sku-{i}-id": str(row["id"]),
                f"sku-{i}-code": row["code"],
                f"sku-{i}-opt-0": row["values"][0],
                f"sku-{i}-opt-1": row["values"][1],
                f"sku-{i}-price": row["price"],
                f"sku-{i}-barcode": row["barcode"],
                f"sku-{i}-active": "on",
            }
        )
    response = owner_client.post(edit_url(product), data)
    assert response.status_code == 422
    with merchant_context(merchant):
        product.refresh_from_db()
        assert product.name == "Latte"  # the update ran, then the bad picture rolled it back
        assert product.sold_in_all_stores
        assert ProductImage.objects.filter(product=product).count() == 1


def test_bulk_status_through_the_list(owner_client, merchant):
    a = make_product(merchant, "A")
    free = make_product(merchant, "Free", skus=[SkuInput(price=0)])
    response = owner_client.post(
        f"{LIST}bulk-status/", {"product": [a.pk, free.pk], "status": "on_sale"}, follow=True
    )
    body = response.content.decode()
    assert "Free: To go on sale" in body
    with merchant_context(merchant):
        assert set(Product.objects.values_list("status", flat=True)) == {"draft"}
    response = owner_client.post(
        f"{LIST}bulk-status/", {"product": [a.pk], "status": "on_sale", "next": f"{LIST}?q=A"}
    )
    assert response["Location"] == f"{LIST}?q=A"
    with merchant_context(merchant):
        assert Product.objects.get(pk=a.pk).status == "on_sale"
    # a "next" outside the product list is ignored
    response = owner_client.post(
        f"{LIST}bulk-status/",
        {"product": [a.pk], "status": "off_sale", "next": "https://evil.example/"},
    )
    assert response["Location"] == LIST


def test_list_search_by_barcode_and_filters(owner_client, merchant):
    coffee = make_category(merchant, "Coffee")
    make_product(
        merchant,
        "Latte",
        category_id=coffee.pk,
        skus=[SkuInput(price=100, barcode="6901234567892")],
    )
    make_product(merchant, "Bread")
    body = owner_client.get(f"{LIST}?q=69012345").content.decode()
    assert "Latte" in body
    assert "Bread" not in body
    body = owner_client.get(f"{LIST}?category={coffee.pk}").content.decode()
    assert "Latte" in body
    assert "Bread" not in body
    body = owner_client.get(f"{LIST}?category=none").content.decode()
    assert "Bread" in body
    assert "Latte" not in body
    assert owner_client.get(f"{LIST}?status=nonsense").status_code == 200  # ignored, not a crash


def test_list_pages_and_query_count(owner_client, merchant, django_assert_max_num_queries):
    for n in range(30):
        make_product(merchant, f"Bun {n:02d}", images=[ImageUpload(image_bytes(20, 20))])
    with django_assert_max_num_queries(16):
        response = owner_client.get(LIST)
    assert len(response.context["page"].object_list) == 25
    assert "1–25 of 30" in response.content.decode()
    assert len(owner_client.get(f"{LIST}?page=2").context["page"].object_list) == 5


def test_delete_product_from_its_page(owner_client, merchant):
    on_sale = make_product(merchant, "Selling", status=Product.Status.ON_SALE)
    response = owner_client.post(f"{edit_url(on_sale)}delete/", follow=True)
    assert "Take the product off sale" in response.content.decode()
    draft = make_product(merchant, "Draft")
    owner_client.post(f"{edit_url(draft)}delete/")
    with merchant_context(merchant):
        assert list(Product.objects.values_list("name", flat=True)) == ["Selling"]


def test_category_page_add_rename_move_delete(owner_client, merchant):
    response = owner_client.post(CATEGORIES, {"name": "Coffee", "parent": "", "active": "on"})
    assert response.status_code == 302
    with merchant_context(merchant):
        coffee = Category.objects.get(name="Coffee")
    owner_client.post(CATEGORIES, {"name": "Espresso", "parent": str(coffee.pk), "active": "on"})
    response = owner_client.post(CATEGORIES, {"name": "coffee", "parent": ""})
    assert response.status_code == 422
    assert response.context["form"].errors["name"] == ["Another category here has this name."]
    page = owner_client.get(CATEGORIES).content.decode()
    assert "Espresso" in page
    with merchant_context(merchant):
        espresso = Category.objects.get(name="Espresso")
    owner_client.post(
        f"{CATEGORIES}{espresso.pk}/",
        {
            f"c{espresso.pk}-name": "Espresso bar",
            f"c{espresso.pk}-parent": "",
            f"c{espresso.pk}-active": "on",
        },
    )
    with merchant_context(merchant):
        espresso.refresh_from_db()
    assert (espresso.name, espresso.parent_id, espresso.depth) == ("Espresso bar", None, 1)
    make_product(merchant, category_id=coffee.pk)
    response = owner_client.post(f"{CATEGORIES}{coffee.pk}/delete/", follow=True)
    assert "1 product is in it" in response.content.decode()
    owner_client.post(f"{CATEGORIES}{espresso.pk}/delete/")
    with merchant_context(merchant):
        assert list(Category.objects.values_list("name", flat=True)) == ["Coffee"]
    assert (
        AuditEntry.unscoped.filter(merchant=merchant, action="catalog.category.delete").count() == 1
    )


def test_pages_are_translated_into_chinese(merchant):
    client = staff_client(merchant)
    make_product(merchant, "拿铁")
    body = client.get(LIST, HTTP_ACCEPT_LANGUAGE="zh-Hans").content.decode()
    assert "上架" in body  # "Put on sale"
    assert "下架" in body
    assert "新建商品" in body
    assert "草稿" in body
    body = client.get(NEW, HTTP_ACCEPT_LANGUAGE="zh-Hans").content.decode()
    assert "规格与 SKU" in body
    assert "添加 SKU" in body
    assert "售价（元）" in body
    body = client.get(CATEGORIES, HTTP_ACCEPT_LANGUAGE="zh-Hans").content.decode()
    assert "新增分类" in body


def test_products_sold_only_in_some_stores_are_marked_in_the_list(owner_client, merchant):
    store = make_store(merchant)
    make_product(merchant, "Everywhere")
    assert "Some stores" not in owner_client.get(LIST).content.decode()
    make_product(merchant, "Geisha", sold_in_all_stores=False, store_ids=[store.pk])
    assert "Some stores" in owner_client.get(LIST).content.decode()
