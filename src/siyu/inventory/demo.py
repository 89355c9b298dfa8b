"""Demo stock: a central warehouse that ships delivery orders, a location per store, opening stock.

The warehouse and the store locations go through the services; the opening
stock (a few thousand levels) is written with two bulk inserts — the levels,
and one ``receipt`` movement per level with the same quantity — so the ledger
matches the levels exactly and the step takes well under a second. No
``inventory.stock.changed`` event per level: opening stock is not news.

Stores carry what a coffee shop carries: plenty of made-to-order drinks and
the day's bakery, a few bags of beans and pieces of merchandise. A handful of
SKUs are low or sold out so the stock pages have something to show.
"""

from __future__ import annotations

from django.db import transaction

from siyu.catalog.models import Product, ProductStore, Sku
from siyu.core.demo import DemoContext
from siyu.core.tenancy import merchant_context
from siyu.inventory import services
from siyu.inventory.models import Location, StockLevel, StockMovement
from siyu.stores.models import Store

STEPS = 3
WAREHOUSE_CODE = "WH-SH-01"
WAREHOUSE_NAME = "上海中央仓"
OPENING_REFERENCE = "demo:opening"
WAREHOUSE_THRESHOLD = 20
STORE_THRESHOLD = 5

# (warehouse range, store range) of opening stock per kind of product
RANGES: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
    "drink": ((3000, 6000), (150, 400)),
    "bakery": ((600, 1500), (15, 60)),
    "beans": ((300, 900), (3, 18)),
    "merch": ((100, 400), (1, 10)),
}
DRINK_CATEGORIES = {"意式咖啡", "手冲咖啡", "茶饮", "咖啡"}
BAKERY_CATEGORIES = {"面包", "酥点", "蛋糕", "烘焙"}
BEAN_CATEGORIES = {"咖啡豆"}


def kind_of(sku: Sku) -> str:
    category = sku.product.category
    names = {category.name, category.parent.name if category.parent else ""} if category else set()
    if names & BEAN_CATEGORIES:
        return "beans"
    if names & DRINK_CATEGORIES:
        return "drink"
    if names & BAKERY_CATEGORIES:
        return "bakery"
    return "merch"


def seed(ctx: DemoContext) -> None:
    """Locations and opening stock for ``ctx.merchant`` (uses ``ctx.shared["stores"]``)."""
    with merchant_context(ctx.merchant), transaction.atomic():
        _seed(ctx)


def _seed(ctx: DemoContext) -> None:
    warehouse = services.create_warehouse(
        ctx.owner,
        code=WAREHOUSE_CODE,
        name=WAREHOUSE_NAME,
        ships_delivery=True,
        low_stock_threshold=WAREHOUSE_THRESHOLD,
    )
    stores: list[Store] = list(ctx.shared.get("stores") or Store.objects.order_by("code"))
    store_locations: list[Location] = []
    for store in stores:
        location = services.location_for_store(store)
        if location.low_stock_threshold != STORE_THRESHOLD:
            location = services.update_location(
                ctx.owner, location, {"low_stock_threshold": STORE_THRESHOLD}
            )
        store_locations.append(location)
    ctx.advance(1)

    skus = list(
        Sku.objects.filter(active=True)
        .exclude(product__status=Product.Status.ARCHIVED)
        .select_related("product__category__parent")
        .order_by("id")
    )
    # products sold in some stores only are stocked only there
    only_in: dict[int, set[int]] = {}
    for product_id, store_id in ProductStore.objects.values_list("product_id", "store_id"):
        only_in.setdefault(product_id, set()).add(store_id)
    rng = ctx.rng
    quantities: dict[tuple[int, int], int] = {}
    for sku in skus:
        (wh_low, wh_high), (st_low, st_high) = RANGES[kind_of(sku)]
        quantities[(warehouse.pk, sku.pk)] = rng.randint(wh_low, wh_high)
        for location in store_locations:
            sold_here = sku.product.sold_in_all_stores or location.store_id in only_in.get(
                sku.product_id, set()
            )
            if sold_here:
                quantities[(location.pk, sku.pk)] = rng.randint(st_low, st_high)
    # a few SKUs running low or sold out, at the warehouse and in stores
    keys = sorted(quantities)
    for key in rng.sample(keys, k=min(len(keys), 3 + 2 * len(store_locations))):
        location_id = key[0]
        threshold = WAREHOUSE_THRESHOLD if location_id == warehouse.pk else STORE_THRESHOLD
        quantities[key] = rng.choice([0, 0, 1, 2, max(0, threshold - 1)])
    ctx.advance(1)

    merchant_id = ctx.merchant.pk
    StockLevel.objects.bulk_create(
        [
            StockLevel(merchant_id=merchant_id, location_id=loc, sku_id=sku, on_hand=n)
            for (loc, sku), n in sorted(quantities.items())
        ],
        batch_size=2000,
    )
    StockMovement.objects.bulk_create(
        [
            StockMovement(
                merchant_id=merchant_id,
                location_id=loc,
                sku_id=sku,
                kind=StockMovement.Kind.RECEIPT,
                on_hand_delta=n,
                on_hand_after=n,
                reserved_after=0,
                reference=OPENING_REFERENCE,
                note="期初库存",
                actor_label=ctx.owner.label,
            )
            for (loc, sku), n in sorted(quantities.items())
        ],
        batch_size=2000,
    )
    ctx.shared["stock_locations"] = {"warehouse": warehouse, "stores": store_locations}
    ctx.advance(1)
