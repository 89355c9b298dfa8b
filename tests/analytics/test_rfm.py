"""RFM: quintile scores by hand, the 11-cell map, and the scores of a sales history."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.utils import translation

from siyu.analytics import rfm
from siyu.analytics.reference import RfmInput
from siyu.analytics.testing import make_sale
from siyu.core.models import Merchant
from siyu.customers.testing import make_customer


def test_quintiles_of_ten_distinct_values() -> None:
    values = {n: n for n in range(1, 11)}
    scores = rfm.quintile_scores(values, higher_is_better=True)
    assert [scores[n] for n in range(1, 11)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    recency = rfm.quintile_scores(values, higher_is_better=False)
    assert [recency[n] for n in range(1, 11)] == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]


def test_ties_share_a_score() -> None:
    # Seven one-order customers and three regulars: nobody orders less than once.
    values = dict.fromkeys(range(7), 1) | {7: 2, 8: 2, 9: 5}
    scores = rfm.quintile_scores(values, higher_is_better=True)
    assert {scores[n] for n in range(7)} == {1}
    assert (scores[7], scores[8], scores[9]) == (4, 4, 5)  # 7 worse of 10 → 1 + 3; 9 → 1 + 4
    assert rfm.quintile_scores({}, higher_is_better=True) == {}
    assert rfm.quintile_scores({1: 10}, higher_is_better=True) == {1: 1}


def test_the_map_names_every_square_with_the_eleven_cells() -> None:
    names = {rfm.CELL_MAP[r][fm] for r in range(1, 6) for fm in range(1, 6)}
    assert names == set(rfm.CELLS)
    assert len(names) == 11
    assert rfm.CELL_MAP[5][5] == "champions"
    assert rfm.CELL_MAP[1][1] == "lost"
    assert rfm.CELL_MAP[1][5] == "cant_lose"
    assert rfm.CELL_MAP[5][1] == "new"


@pytest.mark.django_db
def test_scores_of_a_history(merchant: Merchant) -> None:
    # as_of 2026-05-01; a full refund never counts, a partial one lowers M.
    rows = [
        (1, [(datetime(2026, 1, 15), 1000, 0), (datetime(2026, 2, 10), 2000, 0),
             (datetime(2026, 4, 20), 500, 0)]),
        (2, [(datetime(2026, 1, 31, 23, 50), 3000, 0), (datetime(2026, 3, 1), 1000, 1000),
             (datetime(2026, 4, 30, 23, 59), 400, 100)]),
        (3, [(datetime(2026, 2, 3), 2500, 0), (datetime(2026, 2, 20), 500, 0)]),
        (4, [(datetime(2025, 12, 20), 900, 0), (datetime(2026, 2, 5), 1000, 0)]),
        (5, [(datetime(2026, 1, 5), 600, 600), (datetime(2026, 2, 7), 800, 0)]),
        (6, [(datetime(2026, 5, 1, 0, 1), 700, 0)]),  # after as_of: not scored
        (7, [(datetime(2026, 4, 1), 300, 300)]),  # only a full refund: not a buyer
    ]  # fmt: skip
    customers = {n: make_customer(merchant) for n, _sales in rows}
    for n, sales in rows:
        for at, amount, refunded in sales:
            make_sale(merchant, customers[n].pk, at, amount, refunded, imported=n == 4)
    as_of = date(2026, 5, 1)
    number = {customer.pk: n for n, customer in customers.items()}
    inputs = rfm.rfm_inputs(merchant, as_of)
    assert {number[c]: value for c, value in inputs.items()} == {
        1: RfmInput(11, 3, 3500),
        2: RfmInput(1, 2, 3300),
        3: RfmInput(70, 2, 3000),
        4: RfmInput(85, 2, 1900),
        5: RfmInput(83, 1, 800),
    }
    cells = rfm.rfm_cells(merchant, as_of)
    got = {number[c]: (s.recency, s.frequency, s.monetary, s.fm, s.cell) for c, s in cells.items()}
    assert got == {
        1: (4, 5, 5, 5, "loyal"),
        2: (5, 2, 4, 3, "potential_loyalists"),
        3: (3, 2, 3, 3, "need_attention"),
        4: (1, 2, 2, 2, "hibernating"),
        5: (2, 1, 1, 1, "hibernating"),
    }
    assert rfm.rfm_cell(customers[2], as_of) == "potential_loyalists"
    assert rfm.rfm_cell(customers[7], as_of) is None
    assert rfm.rfm_cell(customers[6]) == "new"  # today: 6 is the latest buyer, with one order
    assert rfm.grid(cells)[(2, 1)] == 1
    with translation.override("en"):
        assert cells[customers[1].pk].cell_label == "Loyal"
    since = rfm.rfm_inputs(merchant, as_of, since=date(2026, 2, 1))
    assert since[customers[4].pk] == RfmInput(85, 1, 1000)
