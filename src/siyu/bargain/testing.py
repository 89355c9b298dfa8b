"""Test factories of bargains."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from siyu.bargain.models import BargainActivity
from siyu.catalog.models import Sku
from siyu.core import clock
from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context


def make_activity(
    merchant: Merchant,
    sku: Sku,
    *,
    floor_price: int = 100,
    helpers_needed: int = 3,
    stock: int = 10,
    status: str = BargainActivity.Status.ACTIVE,
    **fields: Any,
) -> BargainActivity:
    """A running activity on ``sku`` (started an hour ago, ending in a week, 24 h to cut)."""
    now = clock.now()
    fields.setdefault("name", "Cut the price")
    fields.setdefault("starts_at", now - timedelta(hours=1))
    fields.setdefault("ends_at", now + timedelta(days=7))
    with merchant_context(merchant):
        return BargainActivity.objects.create(
            sku=sku,
            floor_price=floor_price,
            helpers_needed=helpers_needed,
            stock_total=stock,
            stock_left=stock,
            status=status,
            **fields,
        )
