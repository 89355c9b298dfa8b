"""Product and category reads: search by name or barcode, filters, prefetching."""

from __future__ import annotations

import pytest

from siyu.catalog import selectors, services
from siyu.catalog.models import Product
from siyu.catalog.services import ImageUpload, SkuInput
from siyu.catalog.testing import ean13, image_bytes, make_category, make_product, make_store

pytestmark = pytest.mark.usefixtures("bound")


def names(qs):
    return sorted(p.name for p in qs)


def test_search_by_name_ignores_case(merchant):
    make_product(merchant, "Iced LATTE")
    make_product(merchant, "Latte macchiato")
    make_product(merchant, "Mocha")
    assert names(selectors.products(q="latte")) == ["Iced LATTE", "Latte macchiato"]
    assert names(selectors.products(q="  mOCHA ")) == ["Mocha"]


def test_search_by_barcode_exact_or_prefix_finds_the_product_of_that_sku(merchant):
    latte = make_product(
        merchant,
        "Latte",
        option_names=["Size"],
        skus=[
            SkuInput(options={"Size": "M"}, price=2600, barcode="6901234567892"),
            SkuInput(options={"Size": "L"}, price=3000, barcode="6975412000013"),
        ],
    )
    make_product(merchant, "Mocha", skus=[SkuInput(price=3000, barcode="4006381333931")])
    assert [p.pk for p in selectors.products(q="6975412000013")] == [latte.pk]  # exact, once
    assert names(selectors.products(q="690123")) == ["Latte"]  # prefix
    assert names(selectors.products(q="4006")) == ["Mocha"]
    assert names(selectors.products(q="1234567892")) == []  # not a prefix


def test_search_by_sku_code_prefix(merchant):
    make_product(merchant, "Latte", skus=[SkuInput(code="LAT-M", price=1)])
    assert names(selectors.products(q="LAT-")) == ["Latte"]


def test_barcodes_of_another_merchant_are_not_searched(merchant, other_merchant):
    make_product(other_merchant, "Theirs", skus=[SkuInput(price=1, barcode=ean13(5))])
    assert names(selectors.products(q=ean13(5))) == []


def test_category_filter_includes_descendants(merchant):
    drinks = make_category(merchant, "Drinks")
    coffee = make_category(merchant, "Coffee", parent=drinks)
    espresso = make_category(merchant, "Espresso", parent=coffee)
    bakery = make_category(merchant, "Bakery")
    make_product(merchant, "Drip", category_id=coffee.pk)
    make_product(merchant, "Latte", category_id=espresso.pk)
    make_product(merchant, "Bread", category_id=bakery.pk)
    make_product(merchant, "Loose")
    assert names(selectors.products(category_id=drinks.pk)) == ["Drip", "Latte"]
    assert names(selectors.products(category_id=espresso.pk)) == ["Latte"]
    assert names(selectors.products(uncategorized=True)) == ["Loose"]


def test_status_filter_and_archived_hidden_by_default(merchant, owner):
    make_product(merchant, "Draft")
    on = make_product(merchant, "On", status=Product.Status.ON_SALE)
    old = make_product(merchant, "Old")
    services.set_product_status(owner, old, Product.Status.ARCHIVED)
    assert names(selectors.products()) == ["Draft", "On"]
    assert names(selectors.products(status="archived")) == ["Old"]
    assert [p.pk for p in selectors.products(status="on_sale")] == [on.pk]
    assert selectors.status_counts() == {"draft": 1, "on_sale": 1, "off_sale": 0, "archived": 1}


def test_store_filter(merchant, owner):
    a, b = make_store(merchant), make_store(merchant)
    make_product(merchant, "Everywhere")
    make_product(merchant, "Only A", sold_in_all_stores=False, store_ids=[a.pk])
    make_product(merchant, "A and B", sold_in_all_stores=False, store_ids=[a.pk, b.pk])
    assert names(selectors.products(store_id=a.pk)) == ["A and B", "Everywhere", "Only A"]
    assert names(selectors.products(store_id=b.pk)) == ["A and B", "Everywhere"]


def test_price_range_of_active_skus_and_cover(merchant, owner):
    product = make_product(
        merchant,
        option_names=["Size"],
        skus=[
            SkuInput(options={"Size": "M"}, price=2600),
            SkuInput(options={"Size": "L"}, price=3000),
            SkuInput(options={"Size": "XL"}, price=9900, active=False),
        ],
        images=[ImageUpload(image_bytes(), alt="front"), ImageUpload(image_bytes(), alt="back")],
    )
    [row] = selectors.products()
    assert row.pk == product.pk
    assert row.price_range == (2600, 3000)
    assert row.active_sku_count == 2
    assert row.cover.alt == "front"


def test_the_list_query_count_does_not_grow_with_products(merchant, django_assert_num_queries):
    coffee = make_category(merchant, "Coffee")
    for n in range(12):
        make_product(
            merchant,
            f"P{n}",
            category_id=coffee.pk,
            option_names=["Size"],
            skus=[SkuInput(options={"Size": s}, price=1000 + n) for s in ("M", "L")],
            images=[ImageUpload(image_bytes(20, 20))],
        )
    with django_assert_num_queries(3):  # products + category join, SKUs, images
        rows = list(selectors.products(q="P", category_id=None))
        summary = [(p.category.name, p.price_range, p.cover.pk, p.active_sku_count) for p in rows]
    assert len(summary) == 12
    with django_assert_num_queries(4):  # + the category's descendants
        assert len(list(selectors.products(category_id=coffee.pk))) == 12


def test_product_detail_prefetches_everything(merchant, django_assert_num_queries):
    store = make_store(merchant)
    product = make_product(merchant, sold_in_all_stores=False, store_ids=[store.pk])
    with django_assert_num_queries(4):
        detail = selectors.product(product.pk)
        assert [link.store.name for link in detail.store_links.all()] == [store.name]
        assert len(detail.skus.all()) == 1
        assert list(detail.images.all()) == []
    assert selectors.product(product.pk + 1000) is None


def test_category_tree_paths_and_counts(merchant):
    drinks = make_category(merchant, "Drinks")
    coffee = make_category(merchant, "Coffee", parent=drinks, position=5)
    tea = make_category(merchant, "Tea", parent=drinks, position=1)
    make_category(merchant, "Bakery")
    make_product(merchant, category_id=coffee.pk)
    make_product(merchant, category_id=drinks.pk)
    flat = selectors.categories()
    assert [c.name for c in flat] == ["Drinks", "Tea", "Coffee", "Bakery"]
    assert selectors.category_paths()[coffee.pk] == "Drinks / Coffee"
    [drinks_node, bakery_node] = selectors.category_tree()
    assert [n.category.name for n in drinks_node.children] == ["Tea", "Coffee"]
    assert (drinks_node.product_count, drinks_node.total_count) == (1, 2)
    assert bakery_node.total_count == 0
    assert tea.depth == 2
