"""Fixtures of the customer tests: staff actors, customers, and the storefront account API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation

from siyu.core.actors import Actor
from siyu.core.models import Merchant
from siyu.core.permissions import Role
from siyu.core.testing import actor_for
from siyu.customers.models import Customer
from siyu.customers.testing import make_customer


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Service messages in English (the source language) unless a test chooses otherwise."""
    with translation.override("en"):
        yield


@pytest.fixture
def owner(merchant: Merchant) -> Actor:
    return actor_for(merchant, Role.OWNER)


@pytest.fixture
def guide(merchant: Merchant) -> Actor:
    return actor_for(merchant, Role.SHOPPING_GUIDE)


@pytest.fixture
def customer(merchant: Merchant) -> Customer:
    return make_customer(merchant, "+8613812345678", name="王小明")


@pytest.fixture
def account_api(settings: pytest.FixtureRequest) -> str:
    """The URL prefix of the storefront account API, mounted for the test if the project
    does not mount it yet (see tests/customers/api_urls.py)."""
    settings.ROOT_URLCONF = "tests.customers.api_urls"  # type: ignore[attr-defined]
    return "/api/v1/storefront/{slug}/account"
