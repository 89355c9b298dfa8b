"""The demo catalogue: believable, complete, and built through the services."""

from __future__ import annotations

import random

from siyu.catalog import demo, illustrations
from siyu.catalog.models import Category, Product, ProductImage, ProductStore, Sku
from siyu.catalog.rules import is_valid_gtin
from siyu.catalog.testing import make_store
from siyu.core.actors import Actor
from siyu.core.demo import DemoContext
from siyu.core.models import AuditEntry
from siyu.core.tenancy import merchant_context


def test_seed_builds_the_coffee_and_bakery_catalogue(merchant):
    stores = [make_store(merchant) for _ in range(4)]
    steps: list[int] = []
    ctx = DemoContext(
        merchant=merchant,
        owner=Actor.system(merchant, label="demo"),
        rng=random.Random(3),
        advance=steps.append,
        shared={"stores": stores},
    )
    demo.seed(ctx)
    assert sum(steps) == demo.STEPS
    with merchant_context(merchant):
        products = list(Product.objects.all())
        skus = list(Sku.objects.all())
        assert 55 <= len(products) <= 65
        assert Category.objects.filter(parent__isnull=True).count() == 4
        assert Category.objects.filter(depth=2).count() == 6
        statuses = {p.status for p in products}
        assert statuses == {"on_sale", "off_sale", "draft"}
        assert sum(p.status == "on_sale" for p in products) >= 50
        restricted = [p for p in products if not p.sold_in_all_stores]
        assert restricted
        assert all(ProductStore.objects.filter(product=p).count() == 2 for p in restricted)
        assert ProductImage.objects.count() == len(products)
        assert all(img.thumbnail.name.endswith(".webp") for img in ProductImage.objects.all())
        barcodes = [s.barcode for s in skus if s.barcode]
        assert len(barcodes) > 60
        assert all(is_valid_gtin(b) and len(b) == 13 for b in barcodes)
        assert len(set(barcodes)) == len(barcodes)
        assert all(isinstance(s.price, int) and 500 <= s.price <= 200_000 for s in skus)
        latte = Product.objects.get(name="拿铁")
        assert latte.option_names == ["杯型", "温度"]
        assert Sku.objects.filter(product=latte).count() == 6
        beans = Product.objects.get(name="经典意式拼配豆")
        assert sorted(Sku.objects.filter(product=beans).values_list("price", flat=True)) == [
            8800,
            15800,
            29000,
        ]
    assert {p.pk for p in ctx.shared["products"]} == {p.pk for p in products}
    assert len(ctx.shared["skus"]) == sum(1 for s in skus if s.active)
    assert AuditEntry.unscoped.filter(
        merchant=merchant, action="catalog.product.create"
    ).count() == len(products)


def test_seed_without_stores_sells_everything_everywhere(merchant):
    ctx = DemoContext(merchant=merchant, owner=Actor.system(merchant), rng=random.Random(1))
    demo.seed(ctx)
    with merchant_context(merchant):
        assert not Product.objects.filter(sold_in_all_stores=False).exists()


def test_every_illustration_draws():
    for shape in illustrations.SHAPES:
        data = illustrations.draw(shape, "espresso", "Test", size=120, format="PNG")
        assert data.startswith(b"\x89PNG")


def test_illustration_labels_lose_their_accents_but_not_their_letters():
    from siyu.catalog.illustrations import plain

    assert plain("Caffè Latte") == "Caffe Latte"
    assert plain("Crème brûlée") == "Creme brulee"
    assert plain("Flat White") == "Flat White"
