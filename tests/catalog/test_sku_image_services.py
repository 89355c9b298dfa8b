"""SKU, image and availability services."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage

from siyu.catalog import services
from siyu.catalog.models import Product, ProductImage, ProductStore, Sku
from siyu.catalog.services import ImageUpload, SkuInput
from siyu.catalog.testing import (
    ean13,
    first_sku,
    image_bytes,
    make_product,
    make_sized_product,
    make_store,
)
from siyu.core.errors import InvalidInput, NotFound
from siyu.core.models import AuditEntry, DomainEvent

pytestmark = pytest.mark.usefixtures("bound")


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_add_sku(owner, merchant):
    product = make_sized_product(merchant)
    sku = services.add_sku(
        owner,
        product,
        SkuInput(options={"Size": "XL", "Temperature": "Hot"}, price=3400, barcode=ean13()),
    )
    assert sku.code == f"P{product.pk}-1"
    assert sku.position == 4
    assert DomainEvent.objects.filter(
        event_type="catalog.sku.created", aggregate_id=str(sku.pk)
    ).exists()
    with pytest.raises(InvalidInput) as exc:
        services.add_sku(
            owner, product, SkuInput(options={"Size": "xl", "Temperature": "HOT"}, price=1)
        )
    assert exc.value.fields == {"options": "Another SKU has the same options."}


def test_update_sku_records_before_and_after(owner, merchant):
    product = make_sized_product(merchant)
    sku = first_sku(product)
    services.update_sku(owner, sku, price=2700, list_price=3000, weight_grams=420)
    sku.refresh_from_db()
    assert (sku.price, sku.list_price, sku.weight_grams) == (2700, 3000, 420)
    entry = AuditEntry.objects.get(action="catalog.sku.update")
    assert (entry.before["price"], entry.after["price"]) == (2600, 2700)
    event = DomainEvent.objects.get(event_type="catalog.sku.updated")
    assert event.payload["changed"] == ["list_price", "price", "weight_grams"]
    # an unchanged update writes nothing
    services.update_sku(owner, sku, price=2700)
    assert AuditEntry.objects.filter(action="catalog.sku.update").count() == 1


def test_update_sku_validates_everything(owner, merchant):
    product = make_sized_product(merchant)
    a, b = list(Sku.objects.filter(product=product).order_by("position"))[:2]
    with pytest.raises(InvalidInput) as exc:
        services.update_sku(
            owner, a, code=b.code, barcode=b.barcode, list_price=1, options={"Size": "M"}
        )
    assert exc.value.fields == {
        "code": "Another SKU has this code.",
        "barcode": "Another SKU has this barcode.",
        "list_price": "The list price cannot be below the price.",
        "options": "Give a value for: Temperature.",
    }
    with pytest.raises(InvalidInput) as exc:
        services.update_sku(owner, a, code="")
    assert "code" in exc.value.fields


def test_the_last_sellable_sku_of_a_product_on_sale_stays(owner, merchant):
    product = make_product(merchant, status=Product.Status.ON_SALE)
    sku = first_sku(product)
    with pytest.raises(InvalidInput) as exc:
        services.deactivate_sku(owner, sku)
    assert "active" in exc.value.fields
    with pytest.raises(InvalidInput) as exc:
        services.update_sku(owner, sku, price=0)
    assert "price" in exc.value.fields
    services.set_product_status(owner, product, Product.Status.OFF_SALE)
    assert services.deactivate_sku(owner, sku).active is False


def test_reactivating_a_sku_that_repeats_active_options_is_refused(owner, merchant):
    product = make_sized_product(merchant)
    old = first_sku(product)
    services.deactivate_sku(owner, old)
    services.add_sku(owner, product, SkuInput(options=old.options, price=2500))
    with pytest.raises(InvalidInput) as exc:
        services.update_sku(owner, old, active=True)
    assert "options" in exc.value.fields


def test_add_images_makes_thumbnails(owner, merchant):
    product = make_product(merchant)
    first, second = services.add_images(
        owner,
        product,
        [
            ImageUpload(image_bytes(800, 600, format="JPEG"), alt="Front"),
            ImageUpload(image_bytes(100, 300)),
        ],
    )
    assert (first.width, first.height, first.format, first.position) == (800, 600, "JPEG", 0)
    assert first.file.name.endswith(".jpg")
    assert first.thumbnail.name.endswith("-thumb.webp")
    assert default_storage.exists(first.file.name)
    assert default_storage.exists(first.thumbnail.name)
    assert second.position == 1
    assert first.file.name.startswith(f"catalog/{merchant.pk}/{product.pk}/")
    assert AuditEntry.objects.filter(action="catalog.image.add").count() == 2
    event = DomainEvent.objects.filter(event_type="catalog.product.updated").last()
    assert event.payload["changed"] == ["images"]


def test_a_file_that_is_not_an_image_adds_nothing(owner, merchant):
    product = make_product(merchant)
    with pytest.raises(InvalidInput) as exc:
        services.add_images(
            owner, product, [ImageUpload(image_bytes()), ImageUpload(b"%PDF-1.7 not a picture")]
        )
    assert list(exc.value.fields) == ["images.1"]
    assert not ProductImage.objects.exists()
    assert stored_files() == []  # validation comes before any file is written


def test_at_most_twelve_images(owner, merchant):
    product = make_product(merchant)
    services.add_images(owner, product, [ImageUpload(image_bytes(20, 20)) for _ in range(12)])
    with pytest.raises(InvalidInput) as exc:
        services.add_image(owner, product, image_bytes(20, 20))
    assert "images" in exc.value.fields


def test_remove_and_reorder_images(owner, merchant, django_capture_on_commit_callbacks):
    product = make_product(merchant)
    a, b, c = services.add_images(
        owner, product, [ImageUpload(image_bytes(20, 20)) for _ in range(3)]
    )
    assert [i.pk for i in services.reorder_images(owner, product, [c.pk, a.pk, b.pk])] == [
        c.pk,
        a.pk,
        b.pk,
    ]
    assert list(ProductImage.objects.filter(product=product).values_list("pk", flat=True)) == [
        c.pk,
        a.pk,
        b.pk,
    ]
    with pytest.raises(InvalidInput):
        services.reorder_images(owner, product, [c.pk, a.pk])
    with django_capture_on_commit_callbacks(execute=True):
        services.remove_image(owner, a)
    assert not default_storage.exists(a.file.name)
    assert not default_storage.exists(a.thumbnail.name)
    assert default_storage.exists(b.file.name)
    with pytest.raises(NotFound):
        services.remove_images(owner, product, [a.pk])


def test_deleting_a_product_deletes_its_files_after_commit(
    owner, merchant, django_capture_on_commit_callbacks
):
    product = make_product(merchant)
    image = services.add_image(owner, product, image_bytes())
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_product(owner, product)
    assert not default_storage.exists(image.file.name)
    assert not default_storage.exists(image.thumbnail.name)


def test_availability_all_or_some_stores(owner, merchant, other_merchant):
    product = make_product(merchant)
    a, b, c = make_store(merchant), make_store(merchant), make_store(merchant)
    theirs = make_store(other_merchant)
    services.set_availability(owner, product, all_stores=False, store_ids=[a.pk, b.pk])
    assert set(ProductStore.objects.filter(product=product).values_list("store_id", flat=True)) == {
        a.pk,
        b.pk,
    }
    services.set_availability(owner, product, all_stores=False, store_ids=[b.pk, c.pk])
    assert set(ProductStore.objects.filter(product=product).values_list("store_id", flat=True)) == {
        b.pk,
        c.pk,
    }
    entry = AuditEntry.objects.filter(action="catalog.product.availability").order_by("id").last()
    assert entry.before == {"sold_in_all_stores": False, "store_ids": sorted([a.pk, b.pk])}
    with pytest.raises(InvalidInput) as exc:
        services.set_availability(owner, product, all_stores=False, store_ids=[c.pk, theirs.pk])
    assert exc.value.fields == {"store_ids.1": "Unknown store."}
    services.set_availability(owner, product, all_stores=True)
    product.refresh_from_db()
    assert product.sold_in_all_stores
    assert not ProductStore.objects.filter(product=product).exists()
    assert (
        DomainEvent.objects.filter(event_type="catalog.product.availability_changed").count() == 3
    )
