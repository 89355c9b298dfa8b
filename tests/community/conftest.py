"""Fixtures of the community tests: staff actors, a store, customers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation

from siyu.core.actors import Actor
from siyu.core.models import Merchant
from siyu.core.permissions import Role
from siyu.core.testing import actor_for
from siyu.customers.models import Customer
from siyu.customers.testing import make_customer
from siyu.stores.models import Store
from siyu.stores.testing import make_store


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Iterator[None]:
    """English everywhere: in the test's thread, and in requests and websocket consumers
    that carry no language (the default language decides them; zh-Hans is complete)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def owner(merchant: Merchant) -> Actor:
    return actor_for(merchant, Role.OWNER)


@pytest.fixture
def store(merchant: Merchant) -> Store:
    return make_store(merchant, name="Jing'an")


@pytest.fixture
def customer(merchant: Merchant) -> Customer:
    return make_customer(merchant, name="Xiaoming")
