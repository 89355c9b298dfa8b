"""Product services: create with SKUs, update and sync SKUs, status rules, bulk status, delete."""

from __future__ import annotations

import pytest

from siyu.catalog import services
from siyu.catalog.models import Product, ProductStore, Sku
from siyu.catalog.services import SkuInput
from siyu.catalog.testing import (
    ean13,
    first_sku,
    make_category,
    make_product,
    make_sized_product,
    make_store,
)
from siyu.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from siyu.core.models import AuditEntry, DomainEvent

pytestmark = pytest.mark.usefixtures("bound")


def _events(event_type):
    return list(DomainEvent.objects.filter(event_type=event_type).order_by("id"))


def test_create_with_skus_in_one_call(owner, merchant):
    coffee = make_category(merchant, "Coffee")
    barcode = ean13()
    product = services.create_product(
        owner,
        name=" Iced Latte ",
        subtitle="Double shot",
        category_id=coffee.pk,
        status=Product.Status.ON_SALE,
        option_names=["Size", " Temperature "],
        skus=[
            SkuInput(
                code="ILAT-M",
                options={"Size": "M", "Temperature": "Iced"},
                price=2600,
                barcode=barcode,
            ),
            SkuInput(
                options={"Size": " L ", "Temperature": "Iced"},
                price=3000,
                list_price=3400,
                weight_grams=500,
            ),
        ],
    )
    assert (product.name, product.status, product.option_names) == (
        "Iced Latte",
        "on_sale",
        ["Size", "Temperature"],
    )
    skus = list(Sku.objects.filter(product=product).order_by("position"))
    assert [(s.code, s.options, s.price, s.list_price, s.barcode) for s in skus] == [
        ("ILAT-M", {"Size": "M", "Temperature": "Iced"}, 2600, None, barcode),
        (f"P{product.pk}-1", {"Size": "L", "Temperature": "Iced"}, 3000, 3400, ""),
    ]
    audit = AuditEntry.objects.get(action="catalog.product.create")
    assert [s["code"] for s in audit.after["skus"]] == ["ILAT-M", f"P{product.pk}-1"]
    [created] = _events("catalog.product.created")
    assert created.payload["status"] == "on_sale"
    assert [s["price"] for s in created.payload["skus"]] == [2600, 3000]


def test_a_bad_second_sku_writes_nothing(owner):
    with pytest.raises(InvalidInput) as exc:
        services.create_product(
            owner,
            name="Latte",
            option_names=["Size"],
            skus=[
                SkuInput(code="LAT-M", options={"Size": "M"}, price=2600),
                SkuInput(code="LAT-L", options={"Size": "L"}, price=-100),
            ],
        )
    assert exc.value.fields == {"skus.1.price": "A price cannot be negative."}
    assert not Product.objects.exists()
    assert not Sku.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="catalog").exists()
    assert not DomainEvent.objects.filter(event_type__startswith="catalog").exists()


def test_every_sku_problem_is_named(owner, merchant):
    make_product(merchant, skus=[SkuInput(code="TAKEN", price=100, barcode=ean13(7))])
    with pytest.raises(InvalidInput) as exc:
        services.create_product(
            owner,
            name="",
            option_names=["Size"],
            skus=[
                SkuInput(code="TAKEN", options={"Size": "M"}, price=100),
                SkuInput(code="bad code!", options={"Size": "L"}, price=100),
                SkuInput(code="X1", options={"Colour": "Red"}, price=100),
                SkuInput(code="X2", options={"Size": "M"}, price=100, list_price=50),
                SkuInput(code="X3", options={"Size": "XL"}, price=12.5),  # type: ignore[arg-type]
                SkuInput(code="X4", options={"Size": "XXL"}, price=100, barcode="6901234567890"),
                SkuInput(
                    code="X4", options={"Size": "S"}, price=100, barcode=ean13(7), weight_grams=-3
                ),
            ],
        )
    fields = exc.value.fields
    assert fields["name"] == "This field is required."
    assert fields["skus.0.code"] == "Another SKU has this code."
    assert "skus.1.code" in fields
    assert fields["skus.2.options"].startswith("Unknown options: Colour")
    assert fields["skus.3.list_price"] == "The list price cannot be below the price."
    assert fields["skus.3.options"] == "Another SKU has the same options."
    assert fields["skus.4.price"] == "Give a whole number of fen."
    assert "check digit" in fields["skus.5.barcode"]
    assert fields["skus.6.code"] == "Another SKU has this code."
    assert fields["skus.6.barcode"] == "Another SKU has this barcode."
    assert fields["skus.6.weight_grams"].startswith("Between 0")
    assert Product.objects.count() == 1


def test_a_product_without_options_has_one_sku(owner):
    with pytest.raises(InvalidInput) as exc:
        services.create_product(
            owner, name="Baguette", skus=[SkuInput(price=1400), SkuInput(price=1500)]
        )
    assert "skus.1.options" in exc.value.fields
    with pytest.raises(InvalidInput) as exc:
        services.create_product(owner, name="Baguette", skus=[])
    assert exc.value.fields == {"skus": "Add at least one SKU."}


def test_going_on_sale_needs_an_active_sku_with_a_price(owner, merchant):
    with pytest.raises(InvalidInput) as exc:
        services.create_product(
            owner,
            name="Free sample",
            status=Product.Status.ON_SALE,
            skus=[SkuInput(price=0)],
        )
    assert "status" in exc.value.fields
    product = make_product(merchant, skus=[SkuInput(price=0)])
    with pytest.raises(InvalidInput):
        services.set_product_status(owner, product, Product.Status.ON_SALE)
    product.refresh_from_db()
    assert product.status == Product.Status.DRAFT
    services.update_sku(owner, first_sku(product), price=990)
    services.set_product_status(owner, product, Product.Status.ON_SALE)
    product.refresh_from_db()
    assert product.status == Product.Status.ON_SALE
    [event] = _events("catalog.product.status_changed")
    assert (event.payload["from"], event.payload["to"]) == ("draft", "on_sale")
    assert AuditEntry.objects.get(action="catalog.product.status").after == {"status": "on_sale"}


def test_unknown_category_and_stores_are_refused(owner, merchant, other_merchant):
    theirs = make_category(other_merchant, "Theirs")
    their_store = make_store(other_merchant)
    mine = make_store(merchant)
    with pytest.raises(InvalidInput) as exc:
        services.create_product(
            owner,
            name="Latte",
            category_id=theirs.pk,
            skus=[SkuInput(price=100)],
            sold_in_all_stores=False,
            store_ids=[mine.pk, their_store.pk],
        )
    assert exc.value.fields == {"category_id": "Unknown category.", "store_ids.1": "Unknown store."}
    with pytest.raises(InvalidInput) as exc:
        services.create_product(
            owner, name="Latte", skus=[SkuInput(price=100)], sold_in_all_stores=False
        )
    assert "store_ids" in exc.value.fields


def test_create_for_some_stores(owner, merchant):
    a, b = make_store(merchant), make_store(merchant)
    product = services.create_product(
        owner,
        name="Geisha",
        skus=[SkuInput(price=6800)],
        sold_in_all_stores=False,
        store_ids=[b.pk, b.pk],
    )
    assert not product.sold_in_all_stores
    assert list(
        ProductStore.objects.filter(product=product).values_list("store_id", flat=True)
    ) == [b.pk]
    assert a.pk not in product.stores.values_list("pk", flat=True)


def test_update_details(owner, merchant):
    product = make_sized_product(merchant)
    tea = make_category(merchant, "Tea")
    services.update_product(
        owner, product, name="Latte (oat)", category_id=tea.pk, description="Oat milk"
    )
    product.refresh_from_db()
    assert (product.name, product.category_id, product.description) == (
        "Latte (oat)",
        tea.pk,
        "Oat milk",
    )
    [event] = _events("catalog.product.updated")
    assert event.payload["changed"] == ["category", "description", "name"]
    entry = AuditEntry.objects.get(action="catalog.product.update")
    assert entry.before["name"] == "Latte"
    assert entry.after["name"] == "Latte (oat)"


def test_update_syncs_the_sku_list(owner, merchant):
    product = make_sized_product(merchant)  # M/L × Hot/Iced
    skus = list(Sku.objects.filter(product=product).order_by("position"))
    keep, change, *dropped = skus
    services.update_product(
        owner,
        product,
        skus=[
            SkuInput(
                id=keep.pk,
                code=keep.code,
                options=keep.options,
                price=keep.price,
                barcode=keep.barcode,
            ),
            SkuInput(
                id=change.pk, options=change.options, price=2750, barcode=change.barcode
            ),  # no code: kept
            SkuInput(code="NEW-XL", options={"Size": "XL", "Temperature": "Hot"}, price=3400),
        ],
    )
    rows = {s.code: s for s in Sku.objects.filter(product=product)}
    assert rows[change.code].price == 2750
    assert rows["NEW-XL"].active
    assert rows["NEW-XL"].position == 2
    assert all(not rows[s.code].active for s in dropped)  # deactivated, not deleted
    assert len(rows) == 5
    assert [e.payload["code"] for e in _events("catalog.sku.created")] == ["NEW-XL"]
    updated = {e.payload["code"] for e in _events("catalog.sku.updated")}
    assert updated == {change.code, *(s.code for s in dropped)}


def test_update_refuses_a_sku_of_another_product(owner, merchant):
    product = make_sized_product(merchant)
    other = make_product(merchant)
    with pytest.raises(InvalidInput) as exc:
        services.update_product(
            owner,
            product,
            skus=[
                SkuInput(
                    id=first_sku(other).pk, options={"Size": "M", "Temperature": "Hot"}, price=1
                )
            ],
        )
    assert exc.value.fields == {"skus.0.id": "This product has no such SKU."}


def test_renaming_options_in_place_carries_the_values(owner, merchant):
    product = make_sized_product(merchant)
    services.update_product(owner, product, option_names=["杯型", "温度"])
    options = {tuple(s.options.items()) for s in Sku.objects.filter(product=product)}
    assert (("杯型", "M"), ("温度", "Hot")) in options
    with pytest.raises(InvalidInput) as exc:
        services.update_product(owner, product, option_names=["杯型"])
    assert "option_names" in exc.value.fields


def test_changing_the_number_of_options_with_new_skus(owner, merchant):
    product = make_sized_product(merchant)
    services.update_product(
        owner,
        product,
        option_names=["Size"],
        skus=[SkuInput(code="ONE", options={"Size": "One size"}, price=2800)],
    )
    active = list(Sku.objects.filter(product=product, active=True))
    assert [(s.code, s.options) for s in active] == [("ONE", {"Size": "One size"})]
    # the deactivated SKUs were reshaped to the new options (blank values)
    assert all(set(s.options) == {"Size"} for s in Sku.objects.filter(product=product))


def test_an_on_sale_product_keeps_a_sellable_sku(owner, merchant):
    product = make_product(
        merchant,
        option_names=["Size"],
        skus=[
            SkuInput(options={"Size": "M"}, price=2600),
            SkuInput(options={"Size": "L"}, price=0),
        ],
        status=Product.Status.ON_SALE,
    )
    with pytest.raises(InvalidInput) as exc:
        services.update_product(owner, product, skus=[SkuInput(options={"Size": "L"}, price=0)])
    assert "skus" in exc.value.fields
    assert Sku.objects.filter(product=product, active=True).count() == 2


def test_status_given_with_the_skus_is_checked_against_the_new_skus(owner, merchant):
    product = make_product(merchant, skus=[SkuInput(price=0)])
    sku = first_sku(product)
    services.update_product(owner, product, status="on_sale", skus=[SkuInput(id=sku.pk, price=500)])
    product.refresh_from_db()
    assert product.status == "on_sale"
    assert [e.payload["to"] for e in _events("catalog.product.status_changed")] == ["on_sale"]


def test_bulk_status_is_all_or_nothing(owner, merchant):
    ok = make_product(merchant, "Latte")
    also_ok = make_product(merchant, "Mocha")
    free = make_product(merchant, "Water", skus=[SkuInput(price=0)])
    with pytest.raises(InvalidInput) as exc:
        services.bulk_set_status(owner, [ok.pk, free.pk, also_ok.pk], Product.Status.ON_SALE)
    assert list(exc.value.fields) == [f"products.{free.pk}"]
    assert exc.value.fields[f"products.{free.pk}"].startswith("Water: To go on sale")
    assert set(Product.objects.values_list("status", flat=True)) == {"draft"}
    changed = services.bulk_set_status(owner, [ok.pk, also_ok.pk], Product.Status.ON_SALE)
    assert [p.status for p in changed] == ["on_sale", "on_sale"]
    assert len(_events("catalog.product.status_changed")) == 2
    changed = services.bulk_set_status(owner, [ok.pk, free.pk], Product.Status.OFF_SALE)
    assert {p.pk: p.status for p in changed} == {ok.pk: "off_sale", free.pk: "off_sale"}


def test_bulk_status_with_an_unknown_product_is_not_found(owner, merchant, other_merchant):
    mine = make_product(merchant)
    theirs = make_product(other_merchant)
    with pytest.raises(NotFound) as exc:
        services.bulk_set_status(owner, [mine.pk, theirs.pk], Product.Status.OFF_SALE)
    assert exc.value.fields == {"product_ids.1": "Not found."}
    with pytest.raises(InvalidInput):
        services.bulk_set_status(owner, [], Product.Status.OFF_SALE)
    with pytest.raises(InvalidInput):
        services.bulk_set_status(owner, [mine.pk], "sold_out")


def test_delete_refuses_a_product_on_sale_and_deletes_others(owner, merchant):
    product = make_product(merchant, status=Product.Status.ON_SALE)
    with pytest.raises(Conflict):
        services.delete_product(owner, product)
    services.set_product_status(owner, product, Product.Status.ARCHIVED)
    pk = product.pk
    services.delete_product(owner, product)
    assert not Product.objects.filter(pk=pk).exists()
    assert not Sku.objects.filter(product_id=pk).exists()
    [event] = _events("catalog.product.deleted")
    assert event.aggregate_id == str(pk)
    assert len(event.payload["sku_ids"]) == 1


def test_a_shopping_guide_may_read_but_not_write(guide, merchant):
    product = make_product(merchant)
    calls = [
        lambda: services.create_product(guide, name="X", skus=[SkuInput(price=1)]),
        lambda: services.update_product(guide, product, name="Y"),
        lambda: services.set_product_status(guide, product, "on_sale"),
        lambda: services.bulk_set_status(guide, [product.pk], "on_sale"),
        lambda: services.delete_product(guide, product),
        lambda: services.add_sku(guide, product, SkuInput(price=1)),
        lambda: services.update_sku(guide, first_sku(product), price=5),
        lambda: services.set_availability(guide, product, all_stores=True),
        lambda: services.reorder_images(guide, product, []),
    ]
    for call in calls:
        with pytest.raises(Forbidden):
            call()
    product.refresh_from_db()
    assert (product.name, product.status) == (product.name, "draft")
    assert first_sku(product).price == 1800
