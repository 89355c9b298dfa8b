"""The analytics numbers through the staff API: the overview (as `siyu report --json`),
cohorts, RFM, the latest lifetime-value fit, the backtest and a customer's value; 4xx naming
the field; the permission."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from siyu.analytics import lifetime
from siyu.analytics.testing import make_sale
from siyu.core.models import Merchant
from siyu.core.permissions import Role
from siyu.core.testing import api_client
from siyu.customers.testing import make_customer

pytestmark = pytest.mark.django_db

API = "/api/v1/analytics"


def _three_sales(merchant: Merchant) -> tuple[int, int]:
    ada, bo = make_customer(merchant), make_customer(merchant)
    make_sale(merchant, ada.pk, datetime(2026, 3, 2, 10), 3000)
    make_sale(merchant, ada.pk, datetime(2026, 3, 20, 10), 2000, refunded=500)
    make_sale(merchant, bo.pk, datetime(2026, 3, 5, 23, 30), 1000, imported=True)
    return ada.pk, bo.pk


def test_the_overview_of_march(merchant: Merchant) -> None:
    _three_sales(merchant)
    client = api_client(merchant, Role.FINANCE)
    answer = client.get(f"{API}/overview?from=2026-03-01&to=2026-03-31")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    numbers = {name: n["value"] for name, n in body["numbers"].items()}
    # 6000 paid, 500 refunded; 3 orders by 2 buyers, one of them twice
    assert (numbers["gmv"], numbers["net_sales"], numbers["orders"], numbers["buyers"]) == (
        6000,
        5500,
        3,
        2,
    )
    assert numbers["repurchase_rate"] == 0.5
    assert body["numbers"]["gmv"]["definition"]
    assert (body["from"], body["to"], body["previous"]["to"]) == (
        "2026-03-01",
        "2026-03-31",
        "2026-02-28",
    )
    grouped = client.get(f"{API}/overview?from=2026-03-01&to=2026-03-31&by=source").json()
    assert [g["key"] for g in grouped["groups"]] == ["organic"]


def test_cohorts_rfm_and_bad_input(merchant: Merchant) -> None:
    _three_sales(merchant)
    client = api_client(merchant)
    matrix = client.get(f"{API}/cohorts?from=2026-03-01&to=2026-03-31").json()
    assert [(r["key"], r["size"]) for r in matrix["rows"]] == [("2026-03", 2)]
    assert matrix["rows"][0]["cells"][0]["buyers"] == 2
    cells = client.get(f"{API}/rfm").json()
    assert cells["customers"] == 2
    assert sum(cells["cells"].values()) == 2
    backwards = client.get(f"{API}/overview?from=2026-03-31&to=2026-03-01")
    assert backwards.status_code == 422
    assert "to" in backwards.json()["fields"]
    assert client.get(f"{API}/overview?from=2026-03-01&to=2026-03-31&by=planet").status_code in (
        400,
        422,
    )
    assert client.get(f"{API}/cohorts?from=x&to=2026-03-31").status_code == 422


def test_lifetime_value_through_the_api(merchant: Merchant) -> None:
    ada, _bo = _three_sales(merchant)
    client = api_client(merchant)
    assert client.get(f"{API}/lifetime").json() == {"run": None}
    lifetime.refresh(merchant, as_of=date(2026, 3, 31))
    run = client.get(f"{API}/lifetime").json()["run"]
    assert run["customers"] == 2
    assert set(run["params"]["bgnbd"]) == {"r", "alpha", "a", "b"}
    value = client.get(f"{API}/customers/{ada}/value").json()
    assert value["scored_at"] is not None
    assert 0 <= value["chance_active_percent"] <= 100
    assert client.get(f"{API}/customers/999999/value").status_code == 404
    check = client.get(f"{API}/lifetime/backtest?as_of=2026-03-10&end=2026-04-01&unit=days")
    assert check.status_code == 200, check.content
    assert check.json()["calibration_end"] == "2026-03-10"
    empty = client.get(f"{API}/lifetime/backtest?as_of=2020-01-01&end=2020-02-01")
    assert empty.status_code == 422
    assert "as_of" in empty.json()["fields"]


def test_only_analytics_viewers(merchant: Merchant) -> None:
    guide = api_client(merchant, Role.SHOPPING_GUIDE)
    assert guide.get(f"{API}/overview?from=2026-03-01&to=2026-03-31").status_code == 403
    assert guide.get(f"{API}/lifetime").status_code == 403
