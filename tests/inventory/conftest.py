"""Fixtures of the inventory tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation

from siyu.core.actors import Actor
from siyu.core.models import Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import actor_for
from siyu.inventory.models import Location
from siyu.inventory.testing import make_warehouse


@pytest.fixture
def owner(merchant: Merchant) -> Actor:
    return actor_for(merchant, Role.OWNER)


@pytest.fixture
def warehouse(merchant: Merchant) -> Location:
    return make_warehouse(merchant, code="WH-SH", name="上海中央仓")


@pytest.fixture
def bound(merchant: Merchant, other_merchant: Merchant) -> Iterator[Merchant]:
    """Bind ``merchant`` (``other_merchant`` exists first: creating one writes an audit row)."""
    with merchant_context(merchant):
        yield merchant


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield
