"""Pure checks: prices in fen, SKU codes, GTIN check digits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from siyu.catalog import rules


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (0, True),
        (1230, True),
        (10**9, True),
        (10**9 + 1, False),
        (-1, False),
        (12.3, False),
        ("12", False),
        (True, False),
        (None, False),
    ],
)
def test_price_problem(value, ok):
    assert (rules.price_problem(value) is None) is ok


def test_list_price_must_not_be_below_the_price():
    assert rules.list_price_problem(1000, None) is None
    assert rules.list_price_problem(1000, 1000) is None
    assert rules.list_price_problem(1000, 1200) is None
    assert "below" in rules.list_price_problem(1000, 999)
    assert rules.list_price_problem(1000, -5) is not None


def test_known_barcodes():
    assert rules.is_valid_gtin("6901234567892")  # EAN-13
    assert rules.is_valid_gtin("96385074")  # EAN-8
    assert rules.is_valid_gtin("036000291452")  # UPC-A
    assert not rules.is_valid_gtin("6901234567891")
    assert rules.make_ean13("690123456789") == "6901234567892"


def test_barcode_problem():
    assert rules.barcode_problem("") is None
    assert rules.barcode_problem("6901234567892") is None
    assert "expected 2" in rules.barcode_problem("6901234567890")
    assert rules.barcode_problem("SHOP-0042") is None  # a shop's own label
    assert rules.barcode_problem("12345") is None  # not a GTIN length: not checked
    assert rules.barcode_problem("69 01") is not None
    assert rules.barcode_problem("x" * 33) is not None


def test_sku_codes():
    assert rules.sku_code_problem("LAT-M-HOT") is None
    assert rules.sku_code_problem("a.b_c/1") is None
    assert rules.sku_code_problem("") is not None
    assert rules.sku_code_problem("-LEADING") is not None
    assert rules.sku_code_problem("拿铁") is not None
    assert rules.sku_code_problem("A" * 65) is not None


def test_weight():
    assert rules.weight_problem(None) is None
    assert rules.weight_problem(250) is None
    assert rules.weight_problem(-1) is not None
    assert rules.weight_problem(2.5) is not None


def test_price_range():
    assert rules.price_range([]) is None
    assert rules.price_range([3000, 2600, 3200]) == (2600, 3200)


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_every_made_ean13_is_valid_and_any_single_digit_change_is_caught(body):
    code = rules.make_ean13(body)
    assert rules.is_valid_gtin(code)
    for position in range(13):
        digit = int(code[position])
        wrong = code[:position] + str((digit + 1) % 10) + code[position + 1 :]
        assert not rules.is_valid_gtin(wrong)
