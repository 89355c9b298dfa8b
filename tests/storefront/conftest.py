"""Fixtures of the storefront tests: the coffee shop of ``tests/storefront/shop.py``, a customer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation

from siyu.core.models import Merchant
from siyu.customers.models import Customer
from siyu.customers.testing import make_customer
from tests.storefront.shop import Shop, build_shop


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Service messages in English (the source language) unless a test chooses otherwise."""
    with translation.override("en"):
        yield


@pytest.fixture
def shop(merchant: Merchant, other_merchant: Merchant) -> Shop:
    return build_shop(merchant)


@pytest.fixture
def customer(merchant: Merchant) -> Customer:
    return make_customer(merchant, "+8613800138000", name="李雷")
