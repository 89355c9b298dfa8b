"""The catalog: a category tree, products with their SKUs and images, and where they are sold.

Money is integer fen. Every row carries its merchant (``MerchantOwned``); rules
that span rows (tree depth, option matrix, "on sale needs a sellable SKU") are
enforced by ``siyu.catalog.services``, and the database keeps the ones it can
(uniqueness, list price ≥ price, non-negative amounts) as a last line.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.catalog.rules import MAX_PRICE, price_range
from siyu.core.tenancy import MerchantOwned

MAX_CATEGORY_DEPTH = 3


class Category(MerchantOwned):
    """A node of the merchant's category tree (at most three levels)."""

    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("parent category"),
    )
    name = models.CharField(_("name"), max_length=60)
    position = models.PositiveIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)
    depth = models.PositiveSmallIntegerField(_("depth"), default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["position", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                models.F("merchant"),
                models.F("parent"),
                Lower("name"),
                name="category_name_unique_in_parent",
                condition=models.Q(parent__isnull=False),
            ),
            models.UniqueConstraint(
                models.F("merchant"),
                Lower("name"),
                name="category_name_unique_at_root",
                condition=models.Q(parent__isnull=True),
            ),
            models.CheckConstraint(
                condition=models.Q(depth__gte=1, depth__lte=MAX_CATEGORY_DEPTH),
                name="category_depth_range",
            ),
        ]
        indexes = [models.Index(fields=["merchant", "parent", "position"], name="category_tree")]

    def __str__(self) -> str:
        return self.name


class Product(MerchantOwned):
    """Something the merchant sells; what a customer picks (size, temperature...) is a SKU."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ON_SALE = "on_sale", _("On sale")
        OFF_SALE = "off_sale", _("Off sale")
        ARCHIVED = "archived", _("Archived")

    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="products",
        verbose_name=_("category"),
    )
    name = models.CharField(_("name"), max_length=120)
    subtitle = models.CharField(_("subtitle"), max_length=200, blank=True)
    description = models.TextField(pgettext_lazy("of a product", "description"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    # The names of the choices a customer makes, in display order, e.g. ["Size", "Temperature"].
    option_names = models.JSONField(_("option names"), default=list, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    # False: sold only in the stores listed in ``ProductStore``.
    sold_in_all_stores = models.BooleanField(_("sold in all stores"), default=True)
    stores = models.ManyToManyField(
        "stores.Store",
        through="ProductStore",
        related_name="+",
        blank=True,
        verbose_name=_("stores"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["position", "-id"]
        indexes = [
            models.Index(fields=["merchant", "status", "position"], name="product_status_list"),
            models.Index(fields=["merchant", "category", "status"], name="product_category"),
            models.Index(fields=["merchant", "-updated_at"], name="product_recent"),
            models.Index(fields=["merchant", "name"], name="product_name"),
        ]

    def __str__(self) -> str:
        return self.name

    # The properties below read ``skus`` / ``images``; lists prefetch them (selectors.products).

    @property
    def price_range(self) -> tuple[int, int] | None:
        """Lowest and highest price of the active SKUs, in fen."""
        return price_range([s.price for s in self.skus.all() if s.active])

    @property
    def cover(self) -> ProductImage | None:
        images = list(self.images.all())
        return images[0] if images else None

    @property
    def active_sku_count(self) -> int:
        return sum(1 for s in self.skus.all() if s.active)


class Sku(MerchantOwned):
    """One sellable variant of a product, with its own code, barcode and price in fen."""

    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="skus", verbose_name=_("product")
    )
    code = models.CharField(_("SKU code"), max_length=64)
    # {option name: value}, with exactly the product's option names as keys.
    options = models.JSONField(_("options"), default=dict, blank=True)
    barcode = models.CharField(_("barcode"), max_length=32, blank=True)
    price = models.PositiveBigIntegerField(_("price (fen)"))
    list_price = models.PositiveBigIntegerField(_("list price (fen)"), null=True, blank=True)
    weight_grams = models.PositiveIntegerField(_("weight (g)"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("SKU")
        verbose_name_plural = _("SKUs")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "code"], name="sku_code_unique"),
            models.UniqueConstraint(
                fields=["merchant", "barcode"],
                name="sku_barcode_unique",
                condition=~models.Q(barcode=""),
            ),
            models.CheckConstraint(condition=models.Q(price__lte=MAX_PRICE), name="sku_price_max"),
            models.CheckConstraint(
                condition=models.Q(list_price__isnull=True)
                | models.Q(list_price__gte=models.F("price"), list_price__lte=MAX_PRICE),
                name="sku_list_price_not_below_price",
            ),
        ]
        indexes = [
            models.Index(fields=["product", "active", "position"], name="sku_product"),
            # Prefix search on barcodes (LIKE 'prefix%') needs the pattern operator class on
            # PostgreSQL; other databases ignore the operator classes.
            models.Index(
                fields=["merchant", "barcode"],
                name="sku_barcode_prefix",
                opclasses=["int8_ops", "varchar_pattern_ops"],
            ),
            models.Index(
                fields=["merchant", "code"],
                name="sku_code_prefix",
                opclasses=["int8_ops", "varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def option_label(self) -> str:
        """``"Large / Iced"``: the option values in the product's order."""
        names = self.product.option_names if self.product_id else list(self.options)
        return " / ".join(str(self.options.get(name, "")) for name in names)


def _image_path(instance: ProductImage, filename: str) -> str:
    return f"catalog/{instance.merchant_id}/{instance.product_id}/{filename}"


class ProductImage(MerchantOwned):
    """A picture of a product; the thumbnail is generated on upload."""

    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="images", verbose_name=_("product")
    )
    file = models.FileField(_("image"), upload_to=_image_path, max_length=200)
    thumbnail = models.FileField(_("thumbnail"), upload_to=_image_path, max_length=200)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    format = models.CharField(_("format"), max_length=8)
    byte_size = models.PositiveIntegerField(_("size in bytes"), default=0)
    alt = models.CharField(_("alternative text"), max_length=200, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    key = models.UUIDField(default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("product image")
        verbose_name_plural = _("product images")
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["product", "position"], name="product_image_order")]

    def __str__(self) -> str:
        return self.alt or self.file.name or ""


class ProductStore(MerchantOwned):
    """A store that sells a product whose ``sold_in_all_stores`` is off."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="store_links")
    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("product availability")
        verbose_name_plural = _("product availability")
        constraints = [
            models.UniqueConstraint(fields=["product", "store"], name="product_store_once")
        ]
        indexes = [models.Index(fields=["merchant", "store"], name="product_store_by_store")]

    def __str__(self) -> str:
        return f"{self.product_id} @ {self.store_id}"
