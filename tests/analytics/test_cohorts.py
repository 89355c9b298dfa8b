"""Cohort matrix and N-month repurchase on a history worked out by hand (Asia/Shanghai).

customer  channel      sales (local day: amount/refunded)
a         store_door   2026-01-15 1000; 02-10 2000; 04-20 500
b         guide        2026-01-31 23:50 3000; 03-01 1000/1000 (full refund); 04-30 400/100
c         store_door   2026-02-03 2500; 02-20 500
d         store_door   2025-12-20 900 (imported); 2026-02-05 1000
e         guide        2026-05-02 700 (after as_of: unseen)
f         ""           2026-01-05 600/600 (full refund: not a first order); 02-07 800

as_of = 2026-05-01, so April is the last month seen.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from siyu.analytics import cohorts
from siyu.analytics.reference import CohortCell, Filters, Period
from siyu.analytics.testing import make_sale
from siyu.core.errors import InvalidInput
from siyu.core.models import Merchant
from siyu.customers.testing import make_customer

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 5, 1)
JAN_FEB = Period(date(2026, 1, 1), date(2026, 3, 1))


@pytest.fixture
def history(merchant: Merchant) -> dict[str, int]:
    channels = {"a": "store_door", "b": "guide", "c": "store_door", "d": "store_door"}
    channels |= {"e": "guide", "f": ""}
    ids = {name: make_customer(merchant, join_channel=ch).pk for name, ch in channels.items()}
    sales = [
        ("a", datetime(2026, 1, 15, 12), 1000, 0, False),
        ("a", datetime(2026, 2, 10, 12), 2000, 0, False),
        ("a", datetime(2026, 4, 20, 12), 500, 0, False),
        ("b", datetime(2026, 1, 31, 23, 50), 3000, 0, False),
        ("b", datetime(2026, 3, 1, 12), 1000, 1000, False),
        ("b", datetime(2026, 4, 30, 12), 400, 100, False),
        ("c", datetime(2026, 2, 3, 12), 2500, 0, False),
        ("c", datetime(2026, 2, 20, 12), 500, 0, False),
        ("d", datetime(2025, 12, 20, 12), 900, 0, True),
        ("d", datetime(2026, 2, 5, 12), 1000, 0, False),
        ("e", datetime(2026, 5, 2, 12), 700, 0, False),
        ("f", datetime(2026, 1, 5, 12), 600, 600, False),
        ("f", datetime(2026, 2, 7, 12), 800, 0, False),
    ]
    for name, at, amount, refunded, imported in sales:
        make_sale(merchant, ids[name], at, amount, refunded, imported=imported)
    return ids


def test_matrix_by_acquisition_month(merchant: Merchant, history: dict[str, int]) -> None:
    matrix = cohorts.cohort_matrix(merchant, JAN_FEB, AS_OF)
    assert [(row.key, row.size) for row in matrix.rows] == [("2026-01", 2), ("2026-02", 2)]
    january, february = matrix.rows
    assert january.cells == (
        CohortCell(0, 2, 2, 4000),  # a and b (b's order 10 minutes before February)
        CohortCell(1, 2, 1, 2000),  # a
        CohortCell(2, 2, 0, 0),  # b's March order was refunded in full
        CohortCell(3, 2, 2, 800),  # a 500, b 400 − 100
    )
    assert february.cells == (
        CohortCell(0, 2, 2, 3800),  # c 2500 + 500, f 800 (d's first order was in December)
        CohortCell(1, 2, 0, 0),
        CohortCell(2, 2, 0, 0),
    )
    assert january.cells[1].retention == 0.5
    assert january.cells[1].revenue_per_customer == 1000
    assert january.cells[3].revenue_per_customer == 400
    assert matrix.width == 4
    assert matrix.heatmap()[:2] == [[0, 0, 1.0], [1, 0, 0.5]]


def test_matrix_by_join_channel(merchant: Merchant, history: dict[str, int]) -> None:
    matrix = cohorts.cohort_matrix(merchant, JAN_FEB, AS_OF, by="channel")
    rows = {row.key: row for row in matrix.rows}
    assert [row.key for row in matrix.rows] == ["", "guide", "store_door"]
    assert rows[""].cells == (CohortCell(0, 1, 1, 800), CohortCell(1, 1, 0, 0),
                              CohortCell(2, 1, 0, 0))  # fmt: skip
    assert rows["guide"].cells == (
        CohortCell(0, 1, 1, 3000),
        CohortCell(1, 1, 0, 0),
        CohortCell(2, 1, 0, 0),
        CohortCell(3, 1, 1, 300),
    )
    # a joined in January, c in February: c's fourth month (May) has not begun.
    assert rows["store_door"].cells == (
        CohortCell(0, 2, 2, 4000),
        CohortCell(1, 2, 1, 2000),
        CohortCell(2, 2, 0, 0),
        CohortCell(3, 1, 1, 500),
    )


def test_matrix_of_a_segment(merchant: Merchant, history: dict[str, int]) -> None:
    only = Filters(customer_ids=[history["a"]])
    matrix = cohorts.cohort_matrix(merchant, JAN_FEB, AS_OF, filters=only)
    assert [(row.key, row.size) for row in matrix.rows] == [("2026-01", 1)]
    empty = cohorts.cohort_matrix(merchant, Period(date(2026, 6, 1), date(2026, 7, 1)), AS_OF)
    assert empty.rows == []
    assert empty.width == 0


def test_n_month_repurchase(merchant: Merchant, history: dict[str, int]) -> None:
    one = cohorts.cohort_repurchase(merchant, date(2026, 1, 1), 1, AS_OF)
    # a again on 02-10 (≤ 02-15); b's next kept order is 04-30 (> 02-28)
    assert (one.customers, one.repurchased, one.rate, one.complete) == (2, 1, 0.5, True)
    three = cohorts.cohort_repurchase(merchant, date(2026, 1, 20), 3, AS_OF)
    assert three.month == date(2026, 1, 1)
    # b: 01-31 + 3 months = 04-30, and "within" includes that day
    assert (three.customers, three.repurchased, three.complete) == (2, 2, True)
    four = cohorts.cohort_repurchase(merchant, date(2026, 1, 1), 4, AS_OF)
    assert not four.complete  # 01-31 + 4 months = 05-31 is not over on 05-01
    february = cohorts.cohort_repurchase(merchant, date(2026, 2, 1), 1, AS_OF)
    # c again on 02-20; f only once; d's first order was in December
    assert (february.customers, february.repurchased) == (2, 1)
    nobody = cohorts.cohort_repurchase(merchant, date(2026, 6, 1), 3, AS_OF)
    assert (nobody.customers, nobody.rate) == (0, None)


def test_bad_input(merchant: Merchant) -> None:
    with pytest.raises(InvalidInput) as error:
        cohorts.cohort_matrix(merchant, JAN_FEB, AS_OF, by="store")
    assert "by" in error.value.fields
    with pytest.raises(InvalidInput) as error:
        cohorts.cohort_repurchase(merchant, date(2026, 1, 1), 0, AS_OF)
    assert "months" in error.value.fields


def test_the_matrix_works_with_the_query_log_on(
    merchant: Merchant, history: dict[str, int]
) -> None:
    """With DEBUG (the demo, development) Django logs each statement by formatting its text
    with the parameters: a literal percent sign in the SQL must survive that."""
    with CaptureQueriesContext(connection) as log:
        matrix = cohorts.cohort_matrix(
            merchant, Period(date(2026, 1, 1), date(2026, 4, 1)), date(2026, 6, 1)
        )
    assert matrix.rows
    assert any("strftime" in q["sql"] or "EXTRACT" in q["sql"] for q in log.captured_queries)
