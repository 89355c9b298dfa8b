"""The catalog's event types are registered, with labels in both languages."""

from __future__ import annotations

from django.utils import translation

from siyu.catalog import events as catalog_events
from siyu.core.events import EVENT_TYPES


def test_every_catalog_event_type_is_registered_with_a_translated_label():
    names = {name for name in EVENT_TYPES if name.startswith("catalog.")}
    assert names == set(catalog_events.EVENT_TYPES)
    assert {
        "catalog.product.created",
        "catalog.product.updated",
        "catalog.product.status_changed",
        "catalog.sku.updated",
        "catalog.category.changed",
    } <= names
    with translation.override("en"):
        assert str(EVENT_TYPES["catalog.product.status_changed"].label) == "Product status changed"
    with translation.override("zh-hans"):
        assert str(EVENT_TYPES["catalog.product.status_changed"].label) == "商品状态已变更"
        assert all(not str(EVENT_TYPES[n].label).isascii() for n in names)
