"""Factories for catalog tests and benchmarks: small functions, explicit merchant, real services."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from PIL import Image

from siyu.catalog import services
from siyu.catalog.models import Category, Product, Sku
from siyu.catalog.rules import make_ean13
from siyu.core.actors import Actor
from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context
from siyu.core.testing import next_id
from siyu.stores import testing as stores_testing
from siyu.stores.models import Store


def image_bytes(
    width: int = 64,
    height: int = 48,
    *,
    format: str = "PNG",
    color: tuple[int, int, int] = (200, 120, 40),
    mode: str = "RGB",
    exif_orientation: int | None = None,
) -> bytes:
    """A small real image in ``format`` (optionally with an EXIF orientation tag)."""
    image = Image.new("RGB", (width, height), color).convert(mode)
    if mode == "RGBA":
        image.putalpha(128)
    out = io.BytesIO()
    kwargs: dict[str, Any] = {}
    if exif_orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        kwargs["exif"] = exif
    image.save(out, format, **kwargs)
    return out.getvalue()


def ean13(n: int | None = None) -> str:
    """A valid EAN-13 from the in-store range 20–29 (unique per call unless ``n`` is given)."""
    return make_ean13(f"20{(n if n is not None else next_id()):010d}")


def make_category(
    merchant: Merchant, name: str | None = None, parent: Category | None = None, **fields: Any
) -> Category:
    with merchant_context(merchant):
        return services.create_category(
            Actor.system(merchant),
            name=name or f"Category {next_id()}",
            parent_id=parent.pk if parent else None,
            **fields,
        )


def sku_input(price: int = 1800, **fields: Any) -> services.SkuInput:
    return services.SkuInput(price=price, **fields)


def make_product(
    merchant: Merchant,
    name: str | None = None,
    *,
    skus: Sequence[services.SkuInput] | None = None,
    option_names: Sequence[str] = (),
    **fields: Any,
) -> Product:
    """A product with one SKU (¥18.00) unless ``skus`` are given."""
    if skus is None:
        n = next_id()
        skus = [services.SkuInput(code=f"SKU-{n}", price=1800)]
    with merchant_context(merchant):
        return services.create_product(
            Actor.system(merchant),
            name=name or f"Product {next_id()}",
            skus=skus,
            option_names=option_names,
            **fields,
        )


def make_sized_product(merchant: Merchant, name: str = "Latte", **fields: Any) -> Product:
    """A drink with Size × Temperature SKUs: M/L × Hot/Iced, ¥26–¥32."""
    n = next_id()
    skus = [
        services.SkuInput(
            code=f"LAT{n}-{size}-{temp[0]}",
            options={"Size": size, "Temperature": temp},
            price=price + (200 if temp == "Iced" else 0),
            barcode=ean13(),
        )
        for size, price in (("M", 2600), ("L", 3000))
        for temp in ("Hot", "Iced")
    ]
    return make_product(merchant, name, skus=skus, option_names=["Size", "Temperature"], **fields)


def make_store(merchant: Merchant, code: str | None = None, **fields: Any) -> Store:
    """A store row, made by the stores app's factory (the catalog only refers to stores)."""
    if code is not None:
        fields["code"] = code
    return stores_testing.make_store(merchant, **fields)


def first_sku(product: Product) -> Sku:
    with merchant_context(product.merchant):
        sku = Sku.objects.filter(product=product).order_by("position", "id").first()
    assert sku is not None
    return sku
