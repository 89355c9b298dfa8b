"""Demo catalogue of a coffee-and-bakery chain: categories, ~60 products with SKUs and pictures.

Everything goes through the catalog services (so the audit log and the
outbox look like real use). Pictures are drawn locally with Pillow
(``siyu.catalog.illustrations``). Leaves ``ctx.shared["products"]`` (the
products) and ``ctx.shared["skus"]`` (their active SKUs) for later generators.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import transaction

from siyu.catalog import illustrations, services
from siyu.catalog.models import Product, Sku
from siyu.catalog.rules import make_ean13
from siyu.core.demo import DemoContext
from siyu.core.tenancy import merchant_context

SIZE = "杯型"
TEMPERATURE = "温度"
SUGAR = "糖度"
WEIGHT = "规格"
PACK = "规格"
COLOUR = "颜色"

# GS1 prefix 69x is China; "69754" + a made-up company number, then the item number.
BARCODE_STEM = "6975412"


@dataclass(frozen=True)
class Line:
    """A product of the demo menu. ``kind`` picks the SKU matrix and the picture."""

    name: str
    english: str
    price: int  # fen, the base SKU
    kind: str
    category: str
    note: str = ""
    status: str = Product.Status.ON_SALE
    stores: str = "all"  # "all" or "some"
    extra: dict[str, int] = field(default_factory=dict)


# (name, parent) in display order; a parent is listed before its children.
CATEGORIES: list[tuple[str, str | None]] = [
    ("咖啡", None),
    ("意式咖啡", "咖啡"),
    ("手冲咖啡", "咖啡"),
    ("咖啡豆", "咖啡"),
    ("茶饮", None),
    ("烘焙", None),
    ("面包", "烘焙"),
    ("酥点", "烘焙"),
    ("蛋糕", "烘焙"),
    ("周边", None),
]

MENU: list[Line] = [
    # espresso drinks: 杯型 × 温度
    Line("美式咖啡", "Americano", 2200, "espresso", "意式咖啡", "Double shot, hot water"),
    Line("拿铁", "Caffè Latte", 2600, "espresso", "意式咖啡", "Espresso and steamed milk"),
    Line("生椰拿铁", "Coconut Latte", 2900, "espresso", "意式咖啡", "Fresh coconut milk"),
    Line("燕麦拿铁", "Oat Latte", 2900, "espresso", "意式咖啡", "Oat milk, no dairy"),
    Line("卡布奇诺", "Cappuccino", 2600, "espresso", "意式咖啡", "Deep milk foam"),
    Line("馥芮白", "Flat White", 2800, "espresso", "意式咖啡", "Ristretto, thin microfoam"),
    Line(
        "焦糖玛奇朵", "Caramel Macchiato", 3000, "espresso", "意式咖啡", "Vanilla, caramel drizzle"
    ),
    Line("摩卡", "Caffè Mocha", 3000, "espresso", "意式咖啡", "Dark chocolate and espresso"),
    Line("香草拿铁", "Vanilla Latte", 2900, "espresso", "意式咖啡", "Madagascar vanilla"),
    Line("陨石拿铁", "Brown Sugar Latte", 2900, "espresso", "意式咖啡", "Brown sugar boba"),
    Line(
        "桂花拿铁",
        "Osmanthus Latte",
        3000,
        "espresso",
        "意式咖啡",
        "Autumn special",
        status=Product.Status.OFF_SALE,
    ),
    Line(
        "橙C美式", "Orange Americano", 2600, "iced", "意式咖啡", "Orange juice and espresso, iced"
    ),
    Line("冷萃咖啡", "Cold Brew", 2800, "iced", "意式咖啡", "Steeped for 18 hours"),
    Line("脏咖啡", "Dirty", 3200, "iced", "意式咖啡", "Hot ristretto on cold milk", stores="some"),
    # pour-over: 温度 only
    Line(
        "埃塞俄比亚 耶加雪菲",
        "Ethiopia Yirgacheffe",
        4200,
        "pourover",
        "手冲咖啡",
        "Jasmine, lemon, bergamot",
    ),
    Line("哥伦比亚 慧兰", "Colombia Huila", 3800, "pourover", "手冲咖啡", "Caramel, red apple"),
    Line("云南 保山小粒", "Yunnan Baoshan", 3600, "pourover", "手冲咖啡", "Brown sugar, nuts"),
    Line(
        "巴拿马 瑰夏", "Panama Geisha", 6800, "pourover", "手冲咖啡", "Floral, peach", stores="some"
    ),
    Line("肯尼亚 AA", "Kenya AA", 4200, "pourover", "手冲咖啡", "Blackcurrant, tomato"),
    Line(
        "危地马拉 安提瓜", "Guatemala Antigua", 3800, "pourover", "手冲咖啡", "Cocoa, orange peel"
    ),
    # beans: 规格 250g / 500g / 1kg
    Line("经典意式拼配豆", "House Espresso Blend", 8800, "beans", "咖啡豆", "Dark roast"),
    Line("季节拼配豆", "Seasonal Blend", 9800, "beans", "咖啡豆", "Medium roast"),
    Line("耶加雪菲 咖啡豆", "Yirgacheffe Beans", 12800, "beans", "咖啡豆", "Light roast"),
    Line("云南 咖啡豆", "Yunnan Beans", 7800, "beans", "咖啡豆", "Medium roast"),
    Line(
        "瑰夏 咖啡豆",
        "Geisha Beans",
        26800,
        "beans",
        "咖啡豆",
        "Light roast, limited",
        stores="some",
    ),
    Line("低因咖啡豆", "Decaf Beans", 9800, "beans", "咖啡豆", "Swiss water process"),
    Line("挂耳咖啡 10 片装", "Drip Bags ×10", 5900, "dripbags", "咖啡豆", "Ten single-cup bags"),
    # tea: 杯型 × 糖度
    Line("茉莉花茶拿铁", "Jasmine Tea Latte", 2400, "tea", "茶饮", "Jasmine green tea, milk"),
    Line("抹茶拿铁", "Matcha Latte", 2800, "tea", "茶饮", "Uji matcha"),
    Line("伯爵红茶", "Earl Grey", 2200, "tea", "茶饮", "Bergamot black tea"),
    Line("柠檬红茶", "Lemon Black Tea", 2200, "tea", "茶饮", "Fresh lemon, iced"),
    Line("白桃乌龙", "White Peach Oolong", 2600, "tea", "茶饮", "Peach, oolong, iced"),
    Line(
        "桂花酒酿",
        "Osmanthus Rice Wine",
        2600,
        "tea",
        "茶饮",
        "Winter special",
        status=Product.Status.DRAFT,
    ),
    Line("热可可", "Hot Chocolate", 2400, "tea", "茶饮", "70% dark chocolate"),
    # bread: single
    Line("法棍", "Baguette", 1400, "bread", "面包", "Long ferment"),
    Line("全麦吐司", "Wholemeal Loaf", 2200, "bread", "面包", "Sliced, 450 g"),
    Line("肉松小贝", "Pork Floss Bun", 1200, "bread", "面包", "Salad cream, pork floss"),
    Line("碱水结", "Pretzel", 1500, "bread", "面包", "Lye-dipped, sea salt"),
    Line("贝果", "Bagel", 1300, "bread", "面包", "Sesame"),
    Line("芝士恰巴塔", "Cheese Ciabatta", 1800, "bread", "面包", "Cheddar, olive oil"),
    Line("红豆面包", "Red Bean Bun", 1000, "bread", "面包", "Hokkaido milk dough"),
    Line("黑麦欧包", "Rye Sourdough", 2800, "bread", "面包", "40% rye", stores="some"),
    # pastries: 单个 / 6只礼盒
    Line("可颂", "Croissant", 1600, "pastry", "酥点", "French butter"),
    Line("巧克力可颂", "Pain au Chocolat", 1800, "pastry", "酥点", "Two chocolate batons"),
    Line("杏仁可颂", "Almond Croissant", 2000, "pastry", "酥点", "Frangipane, flaked almonds"),
    Line("葡式蛋挞", "Portuguese Egg Tart", 900, "pastry", "酥点", "Flaky, caramelised"),
    Line("肉桂卷", "Cinnamon Roll", 1800, "pastry", "酥点", "Cream-cheese icing"),
    Line("蓝莓司康", "Blueberry Scone", 1500, "pastry", "酥点", "Clotted cream on the side"),
    Line("玛德琳", "Madeleine", 800, "pastry", "酥点", "Lemon zest"),
    Line("蝴蝶酥", "Palmier", 1200, "pastry", "酥点", "Caramelised puff pastry"),
    # cakes: 切块 / 6寸整只
    Line("提拉米苏", "Tiramisu", 3600, "cake", "蛋糕", "Mascarpone, espresso"),
    Line("巴斯克芝士蛋糕", "Basque Cheesecake", 3400, "cake", "蛋糕", "Burnt top"),
    Line(
        "草莓奶油蛋糕",
        "Strawberry Shortcake",
        3800,
        "cake",
        "蛋糕",
        "Seasonal strawberries",
        stores="some",
    ),
    Line("黑森林蛋糕", "Black Forest", 3600, "cake", "蛋糕", "Cherries, kirsch"),
    Line("胡萝卜蛋糕", "Carrot Cake", 3200, "cake", "蛋糕", "Walnuts, cream cheese"),
    Line(
        "抹茶千层",
        "Matcha Mille Crêpe",
        3800,
        "cake",
        "蛋糕",
        "Twenty layers",
        status=Product.Status.DRAFT,
    ),
    # merchandise
    Line("品牌马克杯", "Logo Mug", 8800, "mug", "周边", "Ceramic, 350 ml"),
    Line("随行杯", "Travel Tumbler", 12800, "tumbler", "周边", "Stainless steel, 470 ml"),
    Line("帆布袋", "Canvas Tote", 6900, "merch", "周边", "Organic cotton"),
    Line(
        "手冲壶套装",
        "Pour-over Kit",
        26800,
        "merch",
        "周边",
        "Kettle, dripper, filters",
        stores="some",
    ),
]

SIZES = [("中杯", 0), ("大杯", 300), ("超大杯", 600)]
TEMPERATURES = [("热", 0), ("冰", 0)]
SUGARS = ["标准糖", "少糖", "不另外加糖"]
BEAN_WEIGHTS = [("250g", (1, 1), 250), ("500g", (9, 5), 500), ("1kg", (33, 10), 1000)]
COLOURS = ["曜石黑", "奶油白", "橙"]

ART = {
    "espresso": ("cup", "espresso", False),
    "iced": ("cup", "iced", True),
    "pourover": ("dripper", "pourover", False),
    "tea": ("cup", "tea", True),
    "beans": ("bag", "beans", False),
    "dripbags": ("bag", "pourover", False),
    "bread": ("loaf", "bread", False),
    "pastry": ("croissant", "pastry", False),
    "cake": ("cake", "cake", False),
    "mug": ("mug", "merch", False),
    "tumbler": ("mug", "espresso", False),
    "merch": ("bag", "merch", False),
}

STEPS: int = len(MENU) + 1


def _scaled(fen: int, numerator: int, denominator: int) -> int:
    """``fen × numerator / denominator`` rounded to whole yuan, in integers only
    (menus say ¥158, not ¥158.40; no float touches money)."""
    exact = (fen * numerator + denominator // 2) // denominator
    return (exact + 50) // 100 * 100


def _matrix(line: Line) -> tuple[list[str], list[tuple[dict[str, str], int, int | None]]]:
    """Option names and (options, price, weight in grams) per SKU of a menu line."""
    if line.kind in ("espresso",):
        return [SIZE, TEMPERATURE], [
            ({SIZE: s, TEMPERATURE: t}, line.price + ds + dt, None)
            for (s, ds), (t, dt) in itertools.product(SIZES, TEMPERATURES)
        ]
    if line.kind == "iced":
        return [SIZE], [({SIZE: s}, line.price + ds, None) for s, ds in SIZES[:2]]
    if line.kind == "pourover":
        return [TEMPERATURE], [({TEMPERATURE: t}, line.price, None) for t, _ in TEMPERATURES]
    if line.kind == "tea":
        return [SIZE, SUGAR], [
            ({SIZE: s, SUGAR: sugar}, line.price + ds, None)
            for (s, ds), sugar in itertools.product(SIZES[:2], SUGARS)
        ]
    if line.kind == "beans":
        return [WEIGHT], [
            ({WEIGHT: w}, _scaled(line.price, *factor), grams) for w, factor, grams in BEAN_WEIGHTS
        ]
    if line.kind in ("pastry",):
        return [PACK], [
            ({PACK: "单个"}, line.price, 90),
            ({PACK: "6只礼盒"}, _scaled(line.price, 11, 2), 600),
        ]
    if line.kind == "cake":
        return [PACK], [
            ({PACK: "切块"}, line.price, 150),
            ({PACK: "6寸整只"}, _scaled(line.price, 13, 2), 900),
        ]
    if line.kind == "tumbler":
        return [COLOUR], [({COLOUR: c}, line.price, 380) for c in COLOURS]
    return [], [({}, line.price, 400 if line.kind in ("mug", "merch") else 120)]


def _barcodes() -> Iterator[str]:
    for n in itertools.count(1):
        yield make_ean13(f"{BARCODE_STEM}{n:05d}")


def seed(ctx: DemoContext) -> None:
    """Create the demo catalogue for ``ctx.merchant`` (about 60 products, 190 SKUs)."""
    with merchant_context(ctx.merchant), transaction.atomic():
        _seed(ctx)


def _seed(ctx: DemoContext) -> None:
    actor = ctx.owner
    categories: dict[str, int] = {}
    for name, parent in CATEGORIES:
        category = services.create_category(
            actor, name=name, parent_id=categories[parent] if parent else None
        )
        categories[name] = category.pk
    ctx.advance(1)

    stores = list(ctx.shared.get("stores") or [])
    barcodes = _barcodes()
    products: list[Product] = []
    for number, line in enumerate(MENU, start=1):
        option_names, matrix = _matrix(line)
        # drinks are made to order: no barcode; packed goods carry one
        packed = line.kind not in ("espresso", "iced", "pourover", "tea")
        skus = [
            services.SkuInput(
                code=f"{line.kind[:3].upper()}{number:03d}-{index + 1:02d}",
                options=options,
                price=price,
                list_price=_scaled(price, 6, 5) if line.kind in ("beans", "merch") else None,
                barcode=next(barcodes) if packed else "",
                weight_grams=grams,
            )
            for index, (options, price, grams) in enumerate(matrix)
        ]
        shape, palette, iced = ART[line.kind]
        picture = illustrations.draw(
            shape, palette, line.english, iced=iced, tint=ctx.rng.randint(-8, 6)
        )
        some_stores = line.stores == "some" and len(stores) > 1
        chosen = ctx.rng.sample(stores, k=max(1, len(stores) // 2)) if some_stores else []
        product = services.create_product(
            actor,
            name=line.name,
            subtitle=f"{line.english} · {line.note}" if line.note else line.english,
            description=line.note,
            category_id=categories[line.category],
            status=line.status,
            option_names=option_names,
            position=number,
            skus=skus,
            sold_in_all_stores=not some_stores,
            store_ids=[s.pk for s in chosen],
            images=[services.ImageUpload(data=picture, alt=line.english)],
        )
        products.append(product)
        ctx.advance(1)
    ctx.shared["products"] = products
    ctx.shared["skus"] = list(
        Sku.objects.filter(product__in=products, active=True).select_related("product")
    )
