"""The lifetime-value page reads what the scoring stored on customers.

Scores set by hand (as the refresh writes them): Ada ¥1,200 predicted, 30 % still active,
high value and probably leaving; Cy ¥600, 80 %, high value and active; Bo ¥30, 90 %, active;
Di never scored. So: 3 scored, ¥1,830.00 predicted in all, ¥610.00 a customer; one customer
in each of the bands 0–50, 500–1000 and 1000–2000.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from siyu.core.models import Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import staff_client
from siyu.customers.models import Customer
from siyu.customers.testing import make_customer

pytestmark = pytest.mark.django_db
URL = "/console/analytics/value/"


def _score(merchant: Merchant, customer: Customer, value: int, alive: int, segment: str) -> None:
    with merchant_context(merchant):
        Customer.objects.filter(pk=customer.pk).update(
            clv_value=value, clv_alive=alive, clv_segment=segment, clv_scored_at=timezone.now()
        )


@pytest.fixture
def scored(merchant: Merchant) -> dict[str, Customer]:
    people = {name: make_customer(merchant, name=name) for name in ("Ada", "Bo", "Cy", "Di")}
    _score(merchant, people["Ada"], 120000, 30, "high_value_leaving")
    _score(merchant, people["Cy"], 60000, 80, "high_value_active")
    _score(merchant, people["Bo"], 3000, 90, "active")
    return people


def _client(merchant: Merchant) -> Any:
    client = staff_client(merchant, Role.OPERATOR)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _csv(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_summary_leaving_list_and_distribution(
    merchant: Merchant, scored: dict[str, Customer]
) -> None:
    client = _client(merchant)
    body = client.get(URL).content.decode()
    assert 'data-chart="an-value-chart"' in body
    assert "¥1,830.00" in body
    assert "¥610.00" in body
    leaving = body[body.index("High value, probably leaving</h2>") :]
    leaving = leaving[: leaving.index("</table>")]
    assert "Ada" in leaving
    assert "Cy" not in leaving
    bands = {r[0]: r[1] for r in _csv(client.get(URL, {"export": "csv", "table": "distribution"}))}
    assert bands["0–50"] == "1"
    assert bands["500–1000"] == "1"
    assert bands["1000–2000"] == "1"
    assert bands["≥5000"] == "0"


def test_top_customers_export_as_xlsx(merchant: Merchant, scored: dict[str, Customer]) -> None:
    response = _client(merchant).get(URL, {"export": "xlsx", "table": "top"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert [r[0] for r in rows[1:]] == ["Ada", "Cy", "Bo"]
    assert float(rows[1][1]) == 1200.0
    assert rows[1][2] == 30


def test_segments_count_and_share(merchant: Merchant, scored: dict[str, Customer]) -> None:
    rows = _csv(_client(merchant).get(URL, {"export": "csv", "table": "segments"}))
    assert rows[1:] == [
        ["High value, active", "1"],
        ["High value, probably leaving", "1"],
        ["Active", "1"],
        ["Probably leaving", "0"],
    ]


def test_nothing_scored_says_so(merchant: Merchant) -> None:
    response = _client(merchant).get(URL)
    assert response.status_code == 200
    assert "No customer has been scored yet" in response.content.decode()


def test_value_page_needs_the_permission_and_a_known_table(merchant: Merchant) -> None:
    assert staff_client(merchant, Role.SHOPPING_GUIDE).get(URL).status_code == 403
    response = _client(merchant).get(URL, {"export": "csv", "table": "everything"})
    assert response.status_code == 400
    assert "<code>table</code>" in response.content.decode()
