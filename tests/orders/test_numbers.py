"""Order numbers and pickup codes."""

from __future__ import annotations

import random
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from siyu.orders import numbers


def test_order_number_is_the_date_and_ten_digits():
    number = numbers.order_number(date(2026, 11, 22), random.Random(1))
    assert len(number) == 18
    assert number.startswith("20261122")
    assert numbers.is_order_number(number)
    assert numbers.number_date(number) == date(2026, 11, 22)
    assert numbers.number_date("20261399" + "0" * 10) is None
    assert numbers.number_date("abc") is None


def test_pickup_codes_keep_leading_zeros():
    class Zero:
        def randrange(self, stop: int) -> int:
            return 42

    assert numbers.pickup_code(Zero()) == "000042"
    assert numbers.is_pickup_code(numbers.pickup_code())
    assert not numbers.is_pickup_code("12345")
    assert not numbers.is_pickup_code("12345a")


def test_typed_codes_are_cleaned():
    assert numbers.clean_code(" 123 456 ") == "123456"
    assert numbers.clean_code("123-456") == "123456"
    assert numbers.clean_code("１２３４５６") == "123456"


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(9999, 12, 31)), st.integers(0, 2**32))
def test_numbers_are_always_well_formed(day, seed):
    rng = random.Random(seed)
    assert numbers.number_date(numbers.order_number(day, rng)) == day
    assert numbers.is_pickup_code(numbers.pickup_code(rng))


def test_numbers_rarely_repeat():
    many = {numbers.order_number(date(2026, 1, 1)) for _ in range(20_000)}
    assert len(many) >= 19_990
