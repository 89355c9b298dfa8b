"""Template helpers of the catalog pages (``{% load catalog %}``)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def get_path(paths: dict[int, str], category_id: int | None) -> str:
    """``{{ paths|get_path:product.category_id }}`` → ``"Coffee / Espresso"``."""
    if category_id is None:
        return ""
    return paths.get(category_id, "")


@register.filter
def status_badge(status: Any) -> str:
    """The badge class of a product status."""
    return {
        "on_sale": "badge-ok",
        "off_sale": "badge-warn",
        "draft": "badge-brand",
    }.get(str(status), "")
