"""Django admin for platform operators: catalog rows of every merchant, read-mostly."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from siyu.catalog.models import Category, Product, ProductImage, Sku
from siyu.core.admin import UnscopedAdmin


class SkuInline(admin.TabularInline):
    model = Sku
    extra = 0
    fields = ("code", "options", "barcode", "price", "list_price", "active")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Sku]:
        return Sku.unscoped.all()


@admin.register(Category)
class CategoryAdmin(UnscopedAdmin):
    list_display = ("name", "merchant", "parent", "depth", "position", "active")
    list_filter = ("active", "depth")
    search_fields = ("name",)


@admin.register(Product)
class ProductAdmin(UnscopedAdmin):
    list_display = ("name", "merchant", "category", "status", "updated_at")
    list_filter = ("status",)
    search_fields = ("name", "skus__barcode", "skus__code")
    inlines = [SkuInline]


@admin.register(ProductImage)
class ProductImageAdmin(UnscopedAdmin):
    list_display = ("product", "merchant", "width", "height", "format", "position")
