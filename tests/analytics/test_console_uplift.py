"""The community-uplift page: the estimator's inputs read from the facts, and the page.

History (customers 1–3, merchant in Asia/Shanghai): customer 1 bought in January and March
2026 and joined a group on 1 February; customer 2 bought in February (a second February order
was refunded in full and does not count); customer 3 never bought and joined on 31 March at
23:30 local time (15:30 UTC: still March locally). Months count from January 2026 = 0.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest

from siyu.analytics.testing import make_sale, make_span
from siyu.analytics.uplift_data import uplift_inputs
from siyu.core.models import Merchant
from siyu.core.permissions import Role
from siyu.core.testing import staff_client

pytestmark = pytest.mark.django_db
URL = "/console/analytics/uplift/"


@pytest.fixture
def history(merchant: Merchant) -> None:
    make_sale(merchant, 1, datetime(2026, 1, 15, 12), 3000)
    make_sale(merchant, 1, datetime(2026, 3, 10, 12), 5000, refunded=1000)
    make_sale(merchant, 2, datetime(2026, 2, 3, 12), 2000)
    make_sale(merchant, 2, datetime(2026, 2, 5, 12), 2000, refunded=2000)
    make_span(merchant, 1, 7, datetime(2026, 2, 1, 9))
    make_span(merchant, 3, 7, datetime(2026, 3, 31, 23, 30))


def test_inputs_are_months_of_kept_sales_first_orders_and_first_joins(
    merchant: Merchant, history: None
) -> None:
    inputs = uplift_inputs(merchant)
    assert inputs is not None
    assert inputs.first_month == 2026 * 12
    activity = inputs.activity
    assert (activity.n_customers, activity.n_months) == (3, 3)
    entries = sorted(
        zip(
            activity.customer.tolist(),
            activity.month.tolist(),
            activity.orders.tolist(),
            activity.spend.tolist(),
            strict=True,
        )
    )
    assert entries == [(0, 0, 1, 3000), (0, 2, 1, 4000), (1, 1, 1, 2000)]
    assert inputs.acquired.tolist() == [0, 1, -1]
    assert inputs.joined.tolist() == [1, -1, 2]


def test_no_sales_no_inputs(merchant: Merchant) -> None:
    assert uplift_inputs(merchant) is None


def _client(merchant: Merchant) -> object:
    client = staff_client(merchant, Role.OPERATOR)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_a_thin_history_is_too_thin_to_tell(merchant: Merchant, history: None) -> None:
    client = _client(merchant)
    body = client.get(URL).content.decode()  # type: ignore[attr-defined]
    assert 'data-verdict="too_thin"' in body
    assert "Too thin to tell" in body
    assert 'data-chart="an-uplift-chart"' in body
    response = client.get(URL, {"export": "csv", "table": "effects"})  # type: ignore[attr-defined]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["Monthly purchase frequency", "AOV"]
    assert {r[-1] for r in rows[1:]} == {"Too thin to tell"}


def test_without_sales_the_page_says_so(merchant: Merchant) -> None:
    body = _client(merchant).get(URL).content.decode()  # type: ignore[attr-defined]
    assert "No sales yet" in body


def test_a_bad_window_is_a_400_naming_it(merchant: Merchant) -> None:
    response = _client(merchant).get(URL, {"window": "12"})  # type: ignore[attr-defined]
    assert response.status_code == 400
    assert "<code>window</code>" in response.content.decode()
    assert staff_client(merchant, Role.SHOPPING_GUIDE).get(URL).status_code == 403
