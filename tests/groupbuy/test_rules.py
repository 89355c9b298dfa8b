"""The pure rules of group-buys: the group price as a pricing adjuster, phases, deadlines,
ratios and how members are shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siyu.groupbuy import rules
from siyu.orders.pricing import PricingLine, ShippingRule, describe, price_cart

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def test_the_group_price_takes_the_difference_off_its_sku_only() -> None:
    priced = price_cart(
        [PricingLine(1, 2, 3000), PricingLine(2, 1, 1000)],
        fulfilment="pickup",
        shipping=ShippingRule(),
        adjustments=[rules.GroupPrice(7, 1, 1800)],
    )
    assert (priced.subtotal, priced.total) == (7000, 4600)
    (discount,) = priced.discounts
    assert (discount.code, discount.amount, discount.line) == ("groupbuy:7", 2400, 0)
    assert describe(discount.note) == "Group-buy price ¥18.00 each: −¥24.00"


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    price=st.integers(min_value=0, max_value=10**6),
    group=st.integers(min_value=1, max_value=10**6),
    quantity=st.integers(min_value=1, max_value=99),
)
def test_a_line_never_costs_more_than_the_group_price_nor_less(
    price: int, group: int, quantity: int
) -> None:
    priced = price_cart(
        [PricingLine(1, quantity, price)],
        fulfilment="pickup",
        shipping=ShippingRule(),
        adjustments=[rules.GroupPrice(1, 1, group)],
    )
    assert priced.total == min(price, group) * quantity


@pytest.mark.parametrize(
    ("status", "now", "expected"),
    [
        ("draft", T0, "draft"),
        ("scheduled", T0 - timedelta(hours=1), "scheduled"),
        ("scheduled", T0, "running"),
        ("running", T0, "running"),
        ("paused", T0, "paused"),
        ("running", T0 + timedelta(days=2), "ended"),
        ("paused", T0 + timedelta(days=2), "ended"),
        ("ended", T0, "ended"),
    ],
)
def test_phase(status: str, now: datetime, expected: str) -> None:
    assert rules.phase(status, T0, T0 + timedelta(days=1), now) == expected


def test_a_team_fills_within_its_hours_and_never_after_the_activity() -> None:
    assert rules.team_deadline(T0, 24, T0 + timedelta(days=3)) == T0 + timedelta(hours=24)
    assert rules.team_deadline(T0, 24, T0 + timedelta(hours=5)) == T0 + timedelta(hours=5)


def test_ratios() -> None:
    assert rules.success_rate(3, 1) == 0.75
    assert rules.success_rate(0, 0) is None
    assert rules.k_factor(2, 8) == 0.25
    assert rules.k_factor(0, 0) is None


@pytest.mark.parametrize(
    ("name", "phone", "initials", "masked"),
    [
        ("王小明", "+8613800001234", "王", "王**"),
        ("Lily", "+8613800001234", "L", "L**"),
        ("李", "+8613800001234", "李", "李*"),
        ("", "+8613812345678", "78", "138****5678"),
    ],
)
def test_members_are_shown_without_their_full_name_or_phone(
    name: str, phone: str, initials: str, masked: str
) -> None:
    assert rules.initials(name, phone) == initials
    assert rules.masked_name(name, phone) == masked
