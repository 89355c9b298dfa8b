"""Fixtures of the group-buy tests: English messages, a shop and a running group-buy."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation

from siyu.core.models import Merchant
from siyu.groupbuy.models import GroupBuy
from siyu.groupbuy.testing import make_groupbuy
from siyu.orders.testing import Shop, make_shop


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Iterator[None]:
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def shop(merchant: Merchant) -> Shop:
    return make_shop(merchant, price=3000, quantity=500)


@pytest.fixture
def activity(merchant: Merchant, shop: Shop) -> GroupBuy:
    return make_groupbuy(merchant, shop, team_size=3, group_price=1800, stock=20)
