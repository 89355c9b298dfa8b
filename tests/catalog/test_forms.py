"""The product form's SKU rows: yuan typed by people become fen, or a reason."""

from __future__ import annotations

import pytest
from django.http import QueryDict

from siyu.catalog import forms


def rows_of(**fields):
    data = QueryDict(mutable=True)
    data.update({"sku_rows": "1", **fields})
    return forms.parse_sku_rows(data, option_count=1)


@pytest.mark.parametrize(
    ("typed", "fen"),
    [
        ("26", 2600),
        ("26.5", 2650),
        ("¥26.50", 2650),
        ("￥26.50", 2650),
        ("1,280.00", 128000),
        (" 0.01 ", 1),
    ],
)
def test_amounts_in_yuan_become_fen(typed, fen):
    rows, inputs = rows_of(**{"sku-0-price": typed, "sku-0-opt-0": "M"})
    assert rows[0].errors == {}
    assert inputs[0].price == fen


@pytest.mark.parametrize("typed", ["30,5", "12,34", "abc", "1.234", "-3", "1e3"])
def test_unclear_amounts_are_refused_not_guessed(typed):
    rows, inputs = rows_of(**{"sku-0-price": typed, "sku-0-opt-0": "M"})
    assert rows[0].errors == {"price": "Enter an amount in yuan, e.g. 12.30."}
    assert inputs[0].price is None


def test_rows_keep_what_was_typed_and_drop_empty_new_rows():
    data = QueryDict(mutable=True)
    data.update(
        {
            "sku_rows": "3",
            "sku-0-id": "7",
            "sku-0-opt-0": "M",
            "sku-0-price": "12",
            "sku-0-weight": "2.5",
            "sku-0-active": "on",
            "sku-2-opt-0": "L",
            "sku-2-price": "",
        }
    )
    rows, inputs = forms.parse_sku_rows(data, option_count=1)
    assert [r.values for r in rows] == [["M"], ["L"]]
    assert rows[0].id == 7
    assert rows[0].errors == {"weight_grams": "Give a whole number of grams."}
    assert rows[1].errors == {"price": "This field is required."}
    assert (inputs[0].active, inputs[1].active) == (True, False)
    forms.attach_options(inputs, rows, ["Size"])
    assert inputs[1].options == {"Size": "L"}


def test_service_errors_go_to_their_rows():
    rows = [forms.SkuRow(), forms.SkuRow()]
    rest = forms.spread_errors(
        rows, {"skus.1.price": "bad", "name": "required", "skus.9.code": "x"}
    )
    assert rows[1].errors == {"price": "bad"}
    assert rest == {"name": "required", "skus.9.code": "x"}


def test_a_silly_row_count_is_capped():
    data = QueryDict(mutable=True)
    data.update({"sku_rows": "100000000"})
    assert forms.parse_sku_rows(data, option_count=0) == ([], [])
    data["sku_rows"] = "lots"
    assert forms.parse_sku_rows(data, option_count=0) == ([], [])
