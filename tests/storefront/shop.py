"""A small coffee shop for the storefront tests (built by ``build_shop``): three stores, categories, products, stock.

* 静安店 (Jing'an, Shanghai) and 陆家嘴店 (Pudong, Shanghai) take pickup orders; 王府井店
  (Beijing) too, far away. A warehouse ships delivery orders (¥8 fee, free from ¥99).
* 拿铁 (Latte): Size M/L × Temperature Hot/Iced, ¥26–¥32, with a picture; 20 of each SKU at
  Jing'an, 0 of "L / Iced" at Lujiazui, 30 in the warehouse.
* 提拉米苏 (Tiramisu): one SKU, ¥38, 3 at Jing'an (low), sold only at Jing'an.
* 旧款杯子 (an old mug): off sale.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from siyu.catalog import illustrations
from siyu.catalog import services as catalog_services
from siyu.catalog.models import Category, Product, Sku
from siyu.catalog.testing import image_bytes, make_category, make_product, make_sized_product
from siyu.core.actors import Actor
from siyu.core.models import Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import actor_for
from siyu.inventory import services as inventory
from siyu.inventory.models import Location
from siyu.orders import services as order_services
from siyu.orders.testing import make_warehouse, stock
from siyu.stores.models import Store
from siyu.stores.testing import make_store

JINGAN = (31.229115, 121.454906)  # 南京西路, 静安区
LUJIAZUI = (31.239703, 121.499755)  # 陆家嘴, 浦东新区
BEIJING = (39.909187, 116.397451)
# Where the customer stands: People's Square, about 1.9 km from Jing'an, 4 km from Lujiazui.
PEOPLES_SQUARE = (31.232, 121.475)


@dataclass
class Shop:
    merchant: Merchant
    jingan: Store
    lujiazui: Store
    beijing: Store
    jingan_stock: Location
    lujiazui_stock: Location
    warehouse: Location
    drinks: Category
    coffee: Category
    cakes: Category
    latte: Product
    skus: dict[str, Sku]  # "M/Hot", "M/Iced", "L/Hot", "L/Iced"
    tiramisu: Product
    tiramisu_sku: Sku
    old_mug: Product

    @property
    def slug(self) -> str:
        return self.merchant.slug


def _store(merchant: Merchant, code: str, name: str, point: tuple[float, float], **fields) -> Store:
    return make_store(
        merchant,
        code=code,
        name=name,
        latitude=Decimal(str(point[0])),
        longitude=Decimal(str(point[1])),
        **fields,
    )


def _picture(illustrated: bool, art: tuple[str, str, bool], label: str) -> bytes:
    if not illustrated:
        return image_bytes(640, 640)
    shape, palette, iced = art
    return illustrations.draw(shape, palette, label, iced=iced, format="PNG")


def build_shop(merchant: Merchant, *, illustrated: bool = False) -> Shop:
    """The shop; ``illustrated``: drawn product pictures and a few more products (for
    screenshots that look like a real shop)."""
    owner = Actor.system(merchant)
    jingan = _store(
        merchant, "SH-JA", "静安店", JINGAN, district="静安区", address="南京西路1618号"
    )
    lujiazui = _store(
        merchant, "SH-LJZ", "陆家嘴店", LUJIAZUI, district="浦东新区", address="陆家嘴环路1000号"
    )
    beijing = _store(
        merchant,
        "BJ-WFJ",
        "王府井店",
        BEIJING,
        province="北京市",
        city="北京市",
        district="东城区",
        address="王府井大街138号",
    )
    drinks = make_category(merchant, "饮品")
    coffee = make_category(merchant, "咖啡", parent=drinks)
    cakes = make_category(merchant, "甜点")
    latte = make_sized_product(
        merchant,
        "拿铁",
        category_id=coffee.pk,
        status=Product.Status.ON_SALE,
        subtitle="Latte",
        description="Espresso with steamed milk.",
    )
    tiramisu = make_product(
        merchant,
        "提拉米苏",
        skus=[catalog_services.SkuInput(code="TIRA-1", price=3800)],
        category_id=cakes.pk,
        status=Product.Status.ON_SALE,
        sold_in_all_stores=False,
        store_ids=[jingan.pk],
    )
    old_mug = make_product(merchant, "旧款杯子", status=Product.Status.OFF_SALE)
    with merchant_context(merchant):
        catalog_services.add_image(
            owner, latte, _picture(illustrated, ("cup", "espresso", False), "Latte"), alt="Latte"
        )
        if illustrated:
            catalog_services.add_image(
                owner, tiramisu, _picture(True, ("cake", "cake", False), "Tiramisu"), alt="Tiramisu"
            )
        jingan_stock = inventory.location_for_store(jingan)
        lujiazui_stock = inventory.location_for_store(lujiazui)
        inventory.location_for_store(beijing)
        skus = {
            f"{s.options['Size']}/{s.options['Temperature']}": s
            for s in Sku.objects.filter(product=latte)
        }
        tiramisu_sku = Sku.objects.get(product=tiramisu)
        order_services.set_shipping_rule(
            actor_for(merchant, Role.OWNER), flat_fee=800, free_over=9900
        )
    warehouse = make_warehouse(merchant)
    for key, sku in skus.items():
        stock(jingan_stock, sku, 20)
        if key != "L/Iced":
            stock(lujiazui_stock, sku, 20)
        stock(warehouse, sku, 30)
    stock(jingan_stock, tiramisu_sku, 3)
    stock(warehouse, tiramisu_sku, 10)
    if illustrated:
        _more_products(
            merchant,
            owner,
            drinks=coffee,
            cakes=cakes,
            stocked=[jingan_stock, lujiazui_stock, warehouse],
        )
    return Shop(
        merchant,
        jingan,
        lujiazui,
        beijing,
        jingan_stock,
        lujiazui_stock,
        warehouse,
        drinks,
        coffee,
        cakes,
        latte,
        skus,
        tiramisu,
        tiramisu_sku,
        old_mug,
    )


EXTRAS = (
    # name, subtitle, price, category, art, label
    (
        "生椰拿铁",
        "Coconut latte · 冰爽顺滑",
        2900,
        "drinks",
        ("cup", "iced", True),
        "Coconut latte",
    ),
    (
        "手冲耶加雪菲",
        "Pour-over Yirgacheffe",
        3600,
        "drinks",
        ("dripper", "pourover", False),
        "Pour-over",
    ),
    ("黄油可颂", "Butter croissant", 1600, "cakes", ("croissant", "pastry", False), "Croissant"),
    ("巧克力蛋糕", "Chocolate cake", 3200, "cakes", ("cake", "cake", False), "Cake"),
    ("经典拼配咖啡豆 250g", "House blend beans", 8800, "beans", ("bag", "beans", False), "Beans"),
    ("城市马克杯", "City mug", 6900, "merch", ("mug", "merch", False), "Mug"),
)


def _more_products(
    merchant: Merchant, owner: Actor, *, drinks: Category, cakes: Category, stocked: list[Location]
) -> None:
    beans = make_category(merchant, "咖啡豆")
    merch = make_category(merchant, "周边")
    where = {"drinks": drinks, "cakes": cakes, "beans": beans, "merch": merch}
    for n, (name, subtitle, price, category, art, label) in enumerate(EXTRAS):
        product = make_product(
            merchant,
            name,
            skus=[catalog_services.SkuInput(code=f"EXTRA-{n}", price=price)],
            subtitle=subtitle,
            category_id=where[category].pk,
            status=Product.Status.ON_SALE,
        )
        with merchant_context(merchant):
            catalog_services.add_image(owner, product, _picture(True, art, label), alt=label)
            sku = Sku.objects.get(product=product)
        for location in stocked:
            stock(location, sku, 12)
