"""Fixtures of the bargain tests: English messages, a shop with a ¥50 SKU and an activity."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation

from siyu.bargain.models import BargainActivity
from siyu.bargain.testing import make_activity
from siyu.core.models import Merchant
from siyu.customers.models import Customer
from siyu.customers.testing import make_customer
from siyu.orders.testing import Shop, make_shop


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Iterator[None]:
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def shop(merchant: Merchant) -> Shop:
    return make_shop(merchant, price=5000)


@pytest.fixture
def activity(merchant: Merchant, shop: Shop) -> BargainActivity:
    """¥50.00 down to ¥1.00 with 3 helpers, 10 in stock."""
    return make_activity(merchant, shop.sku, floor_price=100, helpers_needed=3, stock=10)


@pytest.fixture
def starter(merchant: Merchant) -> Customer:
    return make_customer(merchant)


@pytest.fixture
def friends(merchant: Merchant) -> list[Customer]:
    """Five customers who signed up before any bargain started (not new)."""
    return [make_customer(merchant) for _n in range(5)]
