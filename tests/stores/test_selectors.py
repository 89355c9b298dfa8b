"""Reads: store search and filters, nearest stores, staff lists."""

from __future__ import annotations

import random
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from siyu.core.models import Membership
from siyu.core.permissions import Role
from siyu.core.testing import make_staff
from siyu.stores import geo, selectors
from siyu.stores.models import Store
from siyu.stores.testing import make_store, make_store_staff

pytestmark = pytest.mark.django_db

ORIGIN = (31.230416, 121.473701)  # People's Square
D = Decimal


def test_search_and_filters(bound):
    a = make_store(bound, code="JA01", name="南京西路店", city="上海市", district="静安区")
    b = make_store(
        bound,
        code="XH01",
        name="徐家汇店",
        district="徐汇区",
        address="漕溪北路88号",
        pickup_enabled=False,
    )
    c = make_store(
        bound,
        code="BJ01",
        name="国贸店",
        city="北京市",
        district="朝阳区",
        status="temporarily_closed",
    )
    assert list(selectors.stores()) == [c, a, b]  # by code
    assert list(selectors.stores(q="徐家汇")) == [b]
    assert list(selectors.stores(q="ja01")) == [a]
    assert list(selectors.stores(q="漕溪北路")) == [b]
    assert list(selectors.stores(city="上海市")) == [a, b]
    assert list(selectors.stores(district="朝阳区")) == [c]
    assert list(selectors.stores(status="temporarily_closed")) == [c]
    assert list(selectors.stores(pickup=False)) == [b]
    assert list(selectors.stores(pickup=True, city="上海市")) == [a]
    assert selectors.cities() == ["上海市", "北京市"]
    assert selectors.districts("上海市") == ["徐汇区", "静安区"]


def test_store_list_counts_staff(bound):
    store = make_store(bound)
    make_store_staff(bound, Role.SHOPPING_GUIDE, store)
    make_store_staff(bound, Role.STORE_MANAGER, store)
    assert selectors.stores_with_staff_count().get(pk=store.pk).staff_count == 2


def test_nearest_against_hand_computed_distances(bound):
    # 0.01° of latitude is 1,111.95 m on the mean sphere; 0.01° of longitude at
    # 31.23° N is 1,111.95 m × cos(31.23°) = 950.82 m.
    north = make_store(bound, name="north", latitude=D("31.240416"), longitude=D("121.473701"))
    east = make_store(bound, name="east", latitude=D("31.230416"), longitude=D("121.483701"))
    south = make_store(bound, name="south", latitude=D("31.210416"), longitude=D("121.473701"))
    far = make_store(bound, name="far", latitude=D("31.330416"), longitude=D("121.473701"))
    found = selectors.nearest_stores(*ORIGIN, limit=10)
    assert [(n.store, n.distance_m) for n in found] == [
        (east, 951),
        (north, 1112),
        (south, 2224),
        (far, 11120),
    ]
    assert found[0].name == "east"
    assert found[0].distance_text == "951 m"
    assert [n.store for n in selectors.nearest_stores(*ORIGIN, limit=2)] == [east, north]
    within = selectors.nearest_stores(*ORIGIN, radius_m=2_000)
    assert [n.store for n in within] == [east, north]
    assert selectors.nearest_stores(*ORIGIN, radius_m=900) == []


def test_nearest_filters_status_pickup_and_hours(bound):
    shanghai = ZoneInfo("Asia/Shanghai")
    open_one = make_store(bound, latitude=D("31.231"), longitude=D("121.474"))
    no_pickup = make_store(
        bound, latitude=D("31.232"), longitude=D("121.474"), pickup_enabled=False
    )
    paused = make_store(
        bound, latitude=D("31.233"), longitude=D("121.474"), status="temporarily_closed"
    )
    make_store(bound, latitude=D("31.2305"), longitude=D("121.4737"), status="closed")
    night = make_store(
        bound,
        latitude=D("31.234"),
        longitude=D("121.474"),
        opening_hours={"tue": [["22:00", "04:00"]]},
    )
    everything = [n.store for n in selectors.nearest_stores(*ORIGIN)]
    assert everything == [open_one, no_pickup, paused, night]  # closed for good never shows
    assert [n.store for n in selectors.nearest_stores(*ORIGIN, pickup_only=True)] == [
        open_one,
        night,
    ]
    # Tuesday 2026-11-24 23:30 in Shanghai: the daytime stores (07:00–22:00) are closed
    late = datetime(2026, 11, 24, 23, 30, tzinfo=shanghai)
    assert [n.store for n in selectors.nearest_stores(*ORIGIN, open_only=True, at=late)] == [night]
    noon = datetime(2026, 11, 24, 4, 0, tzinfo=ZoneInfo("UTC"))  # 12:00 in Shanghai
    assert [n.store for n in selectors.nearest_stores(*ORIGIN, open_only=True, at=noon)] == [
        open_one,
        no_pickup,
    ]


def test_nearest_widens_until_it_finds_a_store(other_merchant, bound):
    make_store(other_merchant, latitude=D("31.2305"), longitude=D("121.4737"))  # not ours
    beijing = make_store(bound, latitude=D("39.908722"), longitude=D("116.397499"))
    found = selectors.nearest_stores(*ORIGIN, limit=3)
    assert [n.store for n in found] == [beijing]
    assert 1_060_000 < found[0].distance_m < 1_075_000


def test_nearest_across_the_antimeridian(bound):
    west = make_store(bound, latitude=D("-17.7"), longitude=D("-179.95"))
    found = selectors.nearest_stores(-17.7, 179.95, radius_m=20_000)
    assert [n.store for n in found] == [west]
    assert found[0].distance_m == pytest.approx(10_600, abs=100)


def bulk_stores(merchant, n, seed=7):
    """``n`` stores spread over mainland China's populated east (as a 9,100-store chain is)."""
    rng = random.Random(seed)
    Store.unscoped.bulk_create(
        Store(
            merchant=merchant,
            code=f"L{i:05d}",
            name=f"Store {i}",
            city="城市",
            address="地址",
            latitude=D(f"{rng.uniform(22.0, 41.0):.6f}"),
            longitude=D(f"{rng.uniform(102.0, 122.0):.6f}"),
            opening_hours={"mon": [["07:00", "21:00"]]},
        )
        for i in range(n)
    )


def test_nearest_with_a_luckin_sized_chain_matches_brute_force(
    bound, django_assert_max_num_queries
):
    bulk_stores(bound, 9_100)
    every = list(Store.objects.all())
    expected = [
        s.pk
        for _d, s in geo.rank_by_distance(
            *ORIGIN, every, lambda s: (s.latitude, s.longitude), limit=10
        )
    ]
    # one ranking query per search radius, then one for the winners' rows
    with django_assert_max_num_queries(len(selectors.SEARCH_RADII_M) + 1):
        found = selectors.nearest_stores(*ORIGIN, limit=10)
    assert [n.store.pk for n in found] == expected
    with django_assert_max_num_queries(2):
        selectors.nearest_stores(*ORIGIN, limit=10, radius_m=50_000)
    # open at 03:00 on a Monday: nowhere, so every radius is searched; each store's hours
    # are read once, in batches growing from the nearest (13 queries measured)
    with django_assert_max_num_queries(13):
        late = datetime(2026, 11, 23, 3, 0)
        assert selectors.nearest_stores(*ORIGIN, open_only=True, at=late) == []


def test_staff_members_filters(other_merchant, bound):
    store = make_store(bound)
    make_staff(other_merchant, Role.SHOPPING_GUIDE)
    guide = make_store_staff(bound, Role.SHOPPING_GUIDE, store, display_name="张悦")
    manager = make_store_staff(bound, Role.STORE_MANAGER, store)
    finance = make_staff(bound, Role.FINANCE, phone="+8613900000000")
    finance.is_active = False
    finance.save()
    everyone = selectors.staff_members(bound)
    assert set(everyone) == set(Membership.objects.filter(merchant=bound))
    assert list(everyone)[-1] == finance  # inactive last
    assert list(selectors.staff_members(bound, role=Role.SHOPPING_GUIDE)) == [guide]
    assert set(selectors.staff_members(bound, store_id=store.pk)) == {guide, manager}
    assert list(selectors.staff_members(bound, active=False)) == [finance]
    assert list(selectors.staff_members(bound, q="张")) == [guide]
    assert list(selectors.staff_members(bound, q="139000")) == [finance]
    assert selectors.staff_member(bound, guide.pk) == guide
    assert selectors.store_staff(store) == [guide, manager]  # by role: guide, then manager
    assert selectors.assigned_store_ids(guide) == {store.pk}
