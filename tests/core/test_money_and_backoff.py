from __future__ import annotations

import itertools
import random
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from siyu.core.backoff import backoff_seconds
from siyu.core.money import AmountError, format_amount, parse_amount


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("12.3", 1230),
        ("¥12.30", 1230),
        ("0", 0),
        ("1,234.5", 123450),
        (Decimal("0.01"), 1),
        (7, 700),
    ],
)
def test_parse_amount(text, fen):
    assert parse_amount(text) == fen


@pytest.mark.parametrize(
    "text", ["", "abc", "1.234", "-1", "NaN", "Infinity", "1e20", "1e3", "30,5", "1,28", "12,345,6"]
)
def test_parse_amount_rejects(text):
    with pytest.raises(AmountError):
        parse_amount(text)


def test_format_amount():
    assert format_amount(1230) == "¥12.30"
    assert format_amount(-5) == "-¥0.05"
    assert format_amount(123456789) == "¥1,234,567.89"
    assert format_amount(500, "JPY") == "JP¥500"


@given(st.integers(min_value=0, max_value=10**12))
def test_format_then_parse_round_trips(fen):
    assert parse_amount(format_amount(fen)) == fen


def test_backoff_grows_exponentially_and_is_capped():
    delays = [backoff_seconds(n, jitter=0) for n in range(1, 12)]
    assert delays[:4] == [30, 60, 120, 240]
    assert max(delays) == 6 * 3600
    assert all(b >= a for a, b in itertools.pairwise(delays))


def test_backoff_jitter_stays_within_bounds():
    rng = random.Random(1)
    for _ in range(200):
        assert 24 <= backoff_seconds(1, rng=rng) <= 36
