"""Fixtures of the catalog tests: an owner actor and a shopping guide actor of ``merchant``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation

from siyu.core.actors import Actor
from siyu.core.models import Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import actor_for


@pytest.fixture
def owner(merchant: Merchant) -> Actor:
    return actor_for(merchant, Role.OWNER)


@pytest.fixture
def guide(merchant: Merchant) -> Actor:
    return actor_for(merchant, Role.SHOPPING_GUIDE)


@pytest.fixture
def bound(merchant: Merchant, other_merchant: Merchant) -> Iterator[Merchant]:
    """Bind ``merchant``; ``other_merchant`` is created first, because creating a merchant
    writes its own audit entry, which a context bound to another merchant refuses."""
    with merchant_context(merchant):
        yield merchant


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Service messages in English (the source language) unless a test chooses otherwise."""
    with translation.override("en"):
        yield
