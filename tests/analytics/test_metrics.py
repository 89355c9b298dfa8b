"""Sales and activity metrics on a small history whose numbers are worked out by hand.

The merchant is in Asia/Shanghai (UTC+8). The period is March 2026, [03-01, 04-01).

customer  when (local)            amount  refunded  attribution              note
c1        2026-01-10 10:00        5000    0         -                        imported, before
c1        2026-03-02 12:00        3000    0         store 1, guide 7, group 3 -> guide
c1        2026-03-20 09:00        2000    500       store 1, live 1, camp. 2 -> live
c2        2026-03-05 08:00        4000    4000      store 2, distributor 9   full refund
c2        2026-03-06 10:00        1000    0         store 2, group 3         -> group
c3        2026-03-31 23:59:30     1500    0         store 1                  just before midnight
c4        2026-04-01 00:00:10     9999    0         -                        just after: April
c5        2026-02-28 23:59        700     0         -                        previous period
c6        2026-03-01 07:30        800     0         campaign 2               UTC: Feb 28 23:30
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from siyu.analytics import metrics
from siyu.analytics.metrics import Filters, Period
from siyu.analytics.models import ActiveDay
from siyu.analytics.reference import SaleStats
from siyu.analytics.testing import make_active_day, make_sale
from siyu.core.errors import InvalidInput
from siyu.core.models import Merchant
from siyu.customers.testing import make_customer

pytestmark = pytest.mark.django_db

MARCH = Period(date(2026, 3, 1), date(2026, 4, 1))


@pytest.fixture
def shop(merchant: Merchant) -> dict[str, int]:
    channels = ["store_door", "guide", "store_door", "", "", ""]
    ids = {
        f"c{n}": make_customer(merchant, join_channel=channel).pk
        for n, channel in enumerate(channels, start=1)
    }
    c1, c2, c3, c4, c5, c6 = (ids[f"c{n}"] for n in range(1, 7))
    make_sale(merchant, c1, datetime(2026, 1, 10, 10), 5000, imported=True)
    make_sale(merchant, c1, datetime(2026, 3, 2, 12), 3000, store_id=1, guide_id=7, group_id=3)
    make_sale(
        merchant, c1, datetime(2026, 3, 20, 9), 2000, 500, store_id=1, live_room_id=1,
        campaign_id=2,
    )  # fmt: skip
    make_sale(merchant, c2, datetime(2026, 3, 5, 8), 4000, 4000, store_id=2, distributor_id=9)
    make_sale(merchant, c2, datetime(2026, 3, 6, 10), 1000, store_id=2, group_id=3)
    make_sale(merchant, c3, datetime(2026, 3, 31, 23, 59, 30), 1500, store_id=1)
    make_sale(merchant, c4, datetime(2026, 4, 1, 0, 0, 10), 9999)
    make_sale(merchant, c5, datetime(2026, 2, 28, 23, 59), 700)
    make_sale(merchant, c6, datetime(2026, 3, 1, 7, 30), 800, campaign_id=2)
    return ids


def test_march_totals(merchant: Merchant, shop: dict[str, int]) -> None:
    stats = metrics.sale_stats(merchant, MARCH)[None]
    assert stats == SaleStats(
        gmv=12300,
        refunds=4500,
        paid_orders=6,
        refund_count=2,
        full_refund_count=1,
        orders=5,
        buyers=4,
        repeat_buyers=1,
        new_buyers=3,  # c2 (the refunded order was not a first order), c3, c6; c1 imported
    )
    assert stats.net_sales == 7800
    assert stats.aov == 1560  # net ÷ kept orders
    assert stats.frequency == 1.25
    assert stats.repurchase_rate == 0.25
    assert stats.returning_buyers == 1


def test_a_period_with_no_orders(merchant: Merchant, shop: dict[str, int]) -> None:
    empty = Period(date(2026, 5, 1), date(2026, 5, 8))
    stats = metrics.sale_stats(merchant, empty)[None]
    assert stats == SaleStats()
    assert (stats.aov, stats.frequency, stats.repurchase_rate) == (None, None, None)
    assert metrics.activity(merchant, empty) == metrics.Activity(0, 0.0, 0, 0, from_sales=True)
    assert metrics.sale_stats(merchant, empty, by="store") == {}


def test_grouped_by_store(merchant: Merchant, shop: dict[str, int]) -> None:
    by_store = metrics.sale_stats(merchant, MARCH, by="store")
    assert by_store == {
        1: SaleStats(6500, 500, 3, 1, 0, 3, 2, 1, 1),
        2: SaleStats(5000, 4000, 2, 1, 1, 1, 1, 0, 1),
        None: SaleStats(800, 0, 1, 0, 0, 1, 1, 0, 1),
    }


def test_grouped_by_join_channel(merchant: Merchant, shop: dict[str, int]) -> None:
    by_channel = metrics.sale_stats(merchant, MARCH, by="channel")
    assert by_channel == {
        "store_door": SaleStats(6500, 500, 3, 1, 0, 3, 2, 1, 1),
        "guide": SaleStats(5000, 4000, 2, 1, 1, 1, 1, 0, 1),
        "": SaleStats(800, 0, 1, 0, 0, 1, 1, 0, 1),
    }


def test_filters(merchant: Merchant, shop: dict[str, int]) -> None:
    by_guide = metrics.sale_stats(merchant, MARCH, Filters(guide_ids=(7,)))[None]
    assert by_guide == SaleStats(3000, 0, 1, 0, 0, 1, 1, 0, 0)
    segment = Filters(customer_ids={shop["c2"], shop["c3"]})
    assert metrics.sale_stats(merchant, MARCH, segment)[None] == SaleStats(
        6500, 4000, 3, 1, 1, 2, 2, 0, 2
    )
    channel = Filters(join_channels=("guide",), store_ids=(2,))
    assert metrics.sale_stats(merchant, MARCH, channel)[None].net_sales == 1000
    nobody = Filters(customer_ids=[])
    assert metrics.sale_stats(merchant, MARCH, nobody)[None] == SaleStats()


def test_a_segment_given_as_a_queryset(merchant: Merchant, shop: dict[str, int]) -> None:
    from siyu.core.tenancy import merchant_context
    from siyu.customers.models import Customer

    with merchant_context(merchant):
        door = Customer.objects.filter(join_channel="store_door").values("id")
        stats = metrics.sale_stats(merchant, MARCH, Filters(customer_ids=door))[None]
    assert (stats.gmv, stats.buyers) == (6500, 2)


def test_sources_by_precedence(merchant: Merchant, shop: dict[str, int]) -> None:
    shares = metrics.source_shares(merchant, MARCH)
    net = {source: stats.net_sales for source, (stats, _share) in shares.items()}
    assert net == {
        "live": 1500,
        "campaign": 800,
        "distributor": 0,
        "guide": 3000,
        "group": 1000,
        "organic": 1500,
    }
    assert shares["guide"][1] == 3000 / 7800
    assert shares["distributor"][0].full_refund_count == 1


def test_activity_from_sales_when_there_are_no_activity_facts(
    merchant: Merchant, shop: dict[str, int]
) -> None:
    active = metrics.activity(merchant, MARCH)
    assert active.from_sales
    assert active.active == 4  # c1, c2, c3, c6 (a refunded order is still activity)
    assert active.dau == 6 / 31  # (day, customer) pairs: c1×2, c2×2, c3, c6
    assert active.wau == 1  # 03-25..03-31: c3
    assert active.mau == 3  # 03-02..03-31: c1, c2, c3 (c6 bought on 03-01)


def test_activity_from_active_days(merchant: Merchant, shop: dict[str, int]) -> None:
    c1, c2, c3 = shop["c1"], shop["c2"], shop["c3"]
    make_active_day(merchant, c1, date(2026, 3, 31), ActiveDay.MESSAGED)
    make_active_day(merchant, c2, date(2026, 3, 31), ActiveDay.ORDERED | ActiveDay.VISITED)
    make_active_day(merchant, c2, date(2026, 3, 10))
    make_active_day(merchant, c3, date(2026, 2, 25))  # before the period, within 30 days? no
    make_active_day(merchant, c3, date(2026, 4, 1))  # after
    active = metrics.activity(merchant, MARCH)
    assert not active.from_sales
    assert (active.active, active.wau, active.mau) == (2, 2, 2)
    assert active.dau == 3 / 31
    door = metrics.activity(merchant, MARCH, Filters(join_channels=("store_door",)))
    assert (door.active, door.mau) == (1, 1)
    # A filter on the sale cannot apply to activity facts: counted from that store's sales.
    store = metrics.activity(merchant, MARCH, Filters(store_ids=(2,)))
    assert store.from_sales
    assert store.active == 1


def test_overview_with_the_previous_period(merchant: Merchant, shop: dict[str, int]) -> None:
    view = metrics.overview(merchant, MARCH)
    assert view.period.previous() == Period(date(2026, 1, 29), date(2026, 3, 1))
    assert view.previous == SaleStats(700, 0, 1, 0, 0, 1, 1, 0, 1)
    rows = {row["name"]: row for row in view.rows()}
    assert rows["gmv"]["value"] == 12300
    assert rows["gmv"]["previous"] == 700
    assert rows["gmv"]["change"] == (12300 - 700) / 700
    assert rows["repurchase_rate"]["change"] is None  # nobody repurchased before
    assert rows["aov"]["change"] == (1560 - 700) / 700
    assert all(str(row["definition"]) for row in rows.values())


def test_monthly_frequency(merchant: Merchant, shop: dict[str, int]) -> None:
    months = metrics.monthly_frequency(merchant, Period(date(2026, 2, 15), date(2026, 4, 5)))
    assert [(start, s.orders, s.buyers, s.frequency) for start, s in months] == [
        (date(2026, 2, 15), 1, 1, 1.0),
        (date(2026, 3, 1), 5, 4, 1.25),
        (date(2026, 4, 1), 1, 1, 1.0),
    ]


def test_weekly_repurchases(merchant: Merchant, shop: dict[str, int]) -> None:
    weeks = metrics.weekly_repurchases(merchant, MARCH)
    assert [(start, s.repeat_orders) for start, s in weeks] == [
        (date(2026, 3, 1), 0),  # Sunday alone: c6's first order
        (date(2026, 3, 2), 1),  # c1 again; c2's first kept order
        (date(2026, 3, 9), 0),
        (date(2026, 3, 16), 1),  # c1 again
        (date(2026, 3, 23), 0),
        (date(2026, 3, 30), 0),  # c3's first order
    ]


def test_bad_input_names_the_field(merchant: Merchant) -> None:
    with pytest.raises(InvalidInput) as error:
        Period.of(date(2026, 3, 2), date(2026, 3, 1))
    assert "to" in error.value.fields
    with pytest.raises(InvalidInput) as error:
        metrics.sale_stats(merchant, MARCH, by="colour")
    assert "by" in error.value.fields


def test_definitions_cover_every_overview_number() -> None:
    for name in (*metrics.OVERVIEW_NUMBERS, "dau", "wau", "mau", "source_share", "rfm"):
        assert str(metrics.DEFINITIONS[name])


def test_a_large_segment_given_as_ids(merchant: Merchant, shop: dict[str, int]) -> None:
    # More ids than a statement takes as separate parameters: they go as one.
    ids = {shop["c2"], shop["c3"], *range(10**9, 10**9 + 40_000)}
    stats = metrics.sale_stats(merchant, MARCH, Filters(customer_ids=ids))[None]
    assert (stats.gmv, stats.buyers, stats.new_buyers) == (6500, 2, 2)
