"""Fixtures of the order tests: a shop (store, stocked SKU), a customer, actors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation

from siyu.core.actors import Actor
from siyu.core.models import Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import actor_for
from siyu.customers.models import Customer
from siyu.orders.testing import Shop, make_customer, make_shop


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Service messages in English (the source language) unless a test chooses otherwise."""
    with translation.override("en"):
        yield


@pytest.fixture
def shop(merchant: Merchant, other_merchant: Merchant) -> Shop:
    """A store of ``merchant`` with a ¥18.00 SKU, 100 in stock, and a delivery warehouse."""
    return make_shop(merchant, delivery=True)


@pytest.fixture
def customer(merchant: Merchant) -> Customer:
    return make_customer(merchant, name="李雷")


@pytest.fixture
def owner(merchant: Merchant) -> Actor:
    return actor_for(merchant, Role.OWNER)


@pytest.fixture
def bound(merchant: Merchant, other_merchant: Merchant) -> Iterator[Merchant]:
    """Bind ``merchant`` (``other_merchant`` exists first: creating one writes an audit entry)."""
    with merchant_context(merchant):
        yield merchant
