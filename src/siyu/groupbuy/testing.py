"""Factories of group-buy tests and demo data: the real services, explicit merchant."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context
from siyu.groupbuy import activities
from siyu.groupbuy.models import GroupBuy
from siyu.orders.testing import Shop


def make_groupbuy(
    merchant: Merchant,
    shop: Shop,
    *,
    team_size: int = 3,
    group_price: int | None = None,
    stock: int = 100,
    fill_hours: int = 24,
    status: str = "running",
    **fields: Any,
) -> GroupBuy:
    """A group-buy of ``shop``'s SKU (group price: 60 % of its price unless given), running
    from an hour ago for a week (``status="draft"`` leaves it a draft)."""
    now = clock.now()
    data: dict[str, Any] = {
        "name": "3 for the price of 2",
        "product_id": shop.product.pk,
        "team_size": team_size,
        "fill_hours": fill_hours,
        "starts_at": now - timedelta(hours=1),
        "ends_at": now + timedelta(days=7),
        "skus": [
            {
                "sku_id": shop.sku.pk,
                "group_price": group_price if group_price is not None else shop.sku.price * 6 // 10,
                "stock": stock,
            }
        ],
    }
    data.update(fields)
    actor = Actor.system(merchant, label="test staff")
    with merchant_context(merchant):
        activity = activities.create(actor, data)
        if status != "draft":
            activity = activities.set_status(actor, activity.pk, "schedule")
        if status == "paused":
            activity = activities.set_status(actor, activity.pk, "pause")
        return activity
