"""The demo stock: a warehouse that ships deliveries, every store stocked, books that balance."""

from __future__ import annotations

import random
from statistics import mean

import pytest
from django.core.cache import cache
from django.test import override_settings

from siyu.catalog import demo as catalog_demo
from siyu.catalog.models import ProductStore
from siyu.core.demo import DemoContext
from siyu.core.models import Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import actor_for, make_merchant, shared_rows
from siyu.inventory import demo, services
from siyu.inventory.models import Location, StockLevel, StockMovement
from siyu.inventory.testing import ledger_problems
from siyu.stores import demo as stores_demo

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def seeded_once(django_db_setup, django_db_blocker, tmp_path_factory):
    """The stores, catalogue (with its pictures) and stock demos, seeded once for this module's
    tests (each runs in its own savepoint: one that sells leaves the stock as seeded)."""
    media = tmp_path_factory.mktemp("inventory-demo") / "media"

    def build():
        cache.clear()
        # as tests/conftest.py's _isolated_media_and_cache sets for each test
        with override_settings(MEDIA_ROOT=media, PUBLIC_URL="http://127.0.0.1:9"):
            merchant = make_merchant(slug="lucky-coffee", name="Lucky Coffee")
            ctx = DemoContext(
                merchant=merchant,
                owner=actor_for(merchant, Role.OWNER),
                rng=random.Random(7),
            )
            stores_demo.seed(ctx)
            catalog_demo.seed(ctx)
            steps: list[int] = []
            ctx.advance = steps.append
            demo.seed(ctx)
        return ctx, steps

    with shared_rows(django_db_blocker, build) as seeded:
        yield seeded


@pytest.fixture
def seeded(db, seeded_once):
    return seeded_once


@pytest.fixture
def merchant(seeded):
    """The seeded merchant, read afresh by each test."""
    ctx, _steps = seeded
    return Merchant.objects.get(pk=ctx.merchant.pk)


def test_seed_builds_locations_and_opening_stock(merchant, seeded):
    ctx, steps = seeded
    assert sum(steps) == demo.STEPS
    stores = ctx.shared["stores"]
    with merchant_context(merchant):
        hub = services.delivery_location(merchant)
        assert (hub.name, hub.kind, hub.ships_delivery) == ("上海中央仓", "warehouse", True)
        store_locations = Location.objects.filter(kind="store")
        assert sorted(loc.store_id for loc in store_locations) == sorted(s.pk for s in stores)
        assert all(loc.low_stock_threshold == demo.STORE_THRESHOLD for loc in store_locations)
        levels = list(StockLevel.objects.select_related("sku__product__category__parent"))
        assert StockMovement.objects.count() == len(levels)
        assert set(StockMovement.objects.values_list("kind", flat=True)) == {"receipt"}
        by_location: dict[int, list[StockLevel]] = {}
        for level in levels:
            by_location.setdefault(level.location_id, []).append(level)
        # every store has drinks and bakery; beans and merchandise fewer than drinks
        for location in store_locations:
            kinds = {demo.kind_of(level.sku) for level in by_location[location.pk]}
            assert {"drink", "bakery", "beans", "merch"} <= kinds

            def average(kind: str, location: Location = location) -> float:
                return mean(
                    level.on_hand
                    for level in by_location[location.pk]
                    if demo.kind_of(level.sku) == kind
                )

            assert average("drink") > average("beans")
            assert average("bakery") > average("merch")
        # the warehouse holds far more than any store
        hub_total = sum(level.on_hand for level in by_location[hub.pk])
        assert all(
            hub_total > 10 * sum(level.on_hand for level in by_location[loc.pk])
            for loc in store_locations
        )
        # some SKUs are out or low, so the pages show it
        assert any(level.on_hand == 0 for level in levels)
        assert any(0 < level.on_hand <= demo.STORE_THRESHOLD for level in levels)
        # products sold in some stores only are stocked only there
        for product_id, store_ids in _only_in().items():
            stocked_at = {
                level.location.store_id
                for level in StockLevel.objects.filter(sku__product_id=product_id)
                .select_related("location")
                .filter(location__kind="store")
            }
            assert stocked_at <= store_ids
    assert ledger_problems(merchant) == []


def _only_in() -> dict[int, set[int]]:
    result: dict[int, set[int]] = {}
    for product_id, store_id in ProductStore.objects.values_list("product_id", "store_id"):
        result.setdefault(product_id, set()).add(store_id)
    return result


def test_demo_stock_can_be_sold(merchant, seeded):
    """The opening stock works with the order-facing services."""
    with merchant_context(merchant):
        hub = services.delivery_location(merchant)
        level = StockLevel.objects.filter(location=hub, on_hand__gte=5).first()
        services.reserve(
            location=hub,
            items=[(level.sku_id, 2)],
            reference="order:demo",
            expires_at=services.clock.now(),
        )
        services.commit("order:demo")
        level.refresh_from_db()
        assert level.reserved == 0
    assert ledger_problems(merchant) == []
