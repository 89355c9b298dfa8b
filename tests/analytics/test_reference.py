"""The pure helpers the definitions rest on (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from siyu.analytics import reference as ref
from siyu.core.errors import InvalidInput


def test_add_months_clamps_to_the_end_of_a_shorter_month() -> None:
    assert ref.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert ref.add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert ref.add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)


def test_round_half_up() -> None:
    assert ref.round_half_up(7, 2) == 4
    assert ref.round_half_up(5, 3) == 2
    assert ref.round_half_up(-7, 2) == -4
    assert ref.round_half_up(0, 5) == 0


def test_kept_means_not_refunded_in_full() -> None:
    assert ref.is_kept(1000, 0)
    assert ref.is_kept(1000, 999)
    assert not ref.is_kept(1000, 1000)
    assert ref.is_kept(0, 0)  # a free order (fully discounted) is still an order


def test_boundaries_cut_at_months_and_mondays() -> None:
    period = ref.Period(date(2026, 1, 20), date(2026, 3, 5))
    assert ref.month_boundaries(period) == [
        date(2026, 1, 20), date(2026, 2, 1), date(2026, 3, 1), date(2026, 3, 5),
    ]  # fmt: skip
    week = ref.Period(date(2026, 3, 4), date(2026, 3, 17))  # Wednesday to a Tuesday
    assert ref.week_boundaries(week) == [date(2026, 3, 4), date(2026, 3, 9), date(2026, 3, 16),
                                         date(2026, 3, 17)]  # fmt: skip


def test_period() -> None:
    period = ref.Period.of(date(2026, 3, 1), date(2026, 4, 1))
    assert period.days == 31
    assert period.previous() == ref.Period(date(2026, 1, 29), date(2026, 3, 1))
    with pytest.raises(InvalidInput):
        ref.Period.of(date(2026, 3, 1), date(2026, 3, 1))


def test_source_precedence() -> None:
    at = datetime(2026, 3, 1, tzinfo=UTC)
    base = {"id": 1, "customer_id": 1, "placed_at": at, "day": at.date(), "amount": 100}
    everything = ref.SaleRow(**base, store_id=1, group_id=1, guide_id=1, distributor_id=1,
                             campaign_id=1, live_room_id=1)  # fmt: skip
    assert ref.source_of(everything) == "live"
    assert ref.source_of(ref.SaleRow(**base, group_id=1, guide_id=1, distributor_id=1)) == (
        "distributor"
    )
    assert ref.source_of(ref.SaleRow(**base, group_id=1, guide_id=1)) == "guide"
    assert ref.source_of(ref.SaleRow(**base, group_id=1, store_id=3)) == "group"
    assert ref.source_of(ref.SaleRow(**base, store_id=3)) == "organic"


def test_reference_stats_by_hand() -> None:
    at = datetime(2026, 3, 1, 4, tzinfo=UTC)
    sales = [
        ref.SaleRow(1, 1, at, at.date(), 1000),
        ref.SaleRow(2, 1, at.replace(hour=5), at.date(), 500, 500),
        ref.SaleRow(3, 2, at.replace(hour=6), at.date(), 300, 100),
    ]
    period = ref.Period(date(2026, 3, 1), date(2026, 3, 2))
    stats = ref.sale_stats(sales, period)[None]
    assert stats == ref.SaleStats(1800, 600, 3, 2, 1, 2, 2, 0, 2)
    assert stats.aov == 600
