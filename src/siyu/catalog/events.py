"""Domain events of the catalog (registered when the app is ready)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from siyu.core.events import register_event_type

CATEGORY_CHANGED = "catalog.category.changed"
PRODUCT_CREATED = "catalog.product.created"
PRODUCT_UPDATED = "catalog.product.updated"
PRODUCT_STATUS_CHANGED = "catalog.product.status_changed"
PRODUCT_AVAILABILITY_CHANGED = "catalog.product.availability_changed"
PRODUCT_DELETED = "catalog.product.deleted"
SKU_CREATED = "catalog.sku.created"
SKU_UPDATED = "catalog.sku.updated"

EVENT_TYPES = {
    CATEGORY_CHANGED: (
        _("Category changed"),
        _("A category was created, renamed, moved, switched on or off, or deleted."),
    ),
    PRODUCT_CREATED: (_("Product created"), _("A product was created with its SKUs.")),
    PRODUCT_UPDATED: (
        _("Product updated"),
        _("A product's details, options, SKU list or images changed."),
    ),
    PRODUCT_STATUS_CHANGED: (
        _("Product status changed"),
        _("A product went on sale, off sale, back to draft or into the archive."),
    ),
    PRODUCT_AVAILABILITY_CHANGED: (
        _("Product availability changed"),
        _("The stores that sell a product changed."),
    ),
    PRODUCT_DELETED: (_("Product deleted"), _("A product and its SKUs were deleted.")),
    SKU_CREATED: (_("SKU created"), _("A SKU was added to an existing product.")),
    SKU_UPDATED: (
        _("SKU updated"),
        _("A SKU's price, code, barcode, options or active flag changed."),
    ),
}


def register() -> None:
    for name, (label, description) in EVENT_TYPES.items():
        register_event_type(name, label, description)
