"""The analytics console pages on a small history whose numbers are worked out by hand.

History (merchant in Asia/Shanghai; amounts in fen):

* Ada: 2026-03-02 ¥100 (guide Gina, store Lakeside), 2026-03-05 ¥50;
* Bo: 2026-03-03 ¥80 refunded in full, 2026-03-10 ¥60 with ¥10 refunded;
* Cy: 2026-02-10 ¥40, 2026-03-20 ¥30 (store Lakeside);
* invitations in March: Ada → Bo (03-01), Ada → Di (03-04), Bo → Ed (03-15, a group-buy).

March 2026 (31 days; the period before it is 2026-01-29 – 2026-02-28):
GMV 320.00, refunds 90.00, net 230.00, paid orders 5, orders kept 4, buyers 3, AOV 57.50,
frequency 1.33, repurchase 1 of 3 = 33.3 %, new buyers 2 (Ada; Bo, whose first kept order is
03-10), returning 1 (Cy). Before: GMV 40.00, so GMV changed by +700.0 %.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from siyu.analytics.testing import make_link, make_sale
from siyu.core.models import Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_staff, staff_client
from siyu.customers.models import Customer
from siyu.customers.testing import make_customer
from siyu.stores.testing import make_store

pytestmark = pytest.mark.django_db

MARCH = {"period": "custom", "from": "2026-03-01", "to": "2026-03-31"}


@pytest.fixture
def history(merchant: Merchant) -> dict[str, Any]:
    store = make_store(merchant, name="Lakeside")
    gina = make_staff(merchant, Role.SHOPPING_GUIDE, display_name="Gina")
    ada = make_customer(merchant, name="Ada", join_channel="poster")
    bo = make_customer(merchant, name="Bo", join_channel="poster")
    cy = make_customer(merchant, name="Cy", join_channel="table card")
    di = make_customer(merchant, name="Di")
    ed = make_customer(merchant, name="Ed")
    with merchant_context(merchant):
        Customer.objects.filter(pk=ada.pk).update(owner_guide=gina)
    make_sale(
        merchant, ada.pk, datetime(2026, 3, 2, 10), 10000, guide_id=gina.pk, store_id=store.pk
    )
    make_sale(merchant, ada.pk, datetime(2026, 3, 5, 10), 5000)
    make_sale(merchant, bo.pk, datetime(2026, 3, 3, 10), 8000, refunded=8000)
    make_sale(merchant, bo.pk, datetime(2026, 3, 10, 10), 6000, refunded=1000)
    make_sale(merchant, cy.pk, datetime(2026, 2, 10, 10), 4000)
    make_sale(merchant, cy.pk, datetime(2026, 3, 20, 10), 3000, store_id=store.pk)
    make_link(merchant, ada.pk, bo.pk, datetime(2026, 3, 1, 9))
    make_link(merchant, ada.pk, di.pk, datetime(2026, 3, 4, 9))
    make_link(merchant, bo.pk, ed.pk, datetime(2026, 3, 15, 9), kind="groupbuy")
    return {"store": store, "gina": gina, "ada": ada, "bo": bo, "cy": cy}


def _client(merchant: Merchant, role: str = Role.OPERATOR) -> Client:
    client = staff_client(merchant, role)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _number(body: str, name: str) -> str:
    """The text of one headline number's card."""
    start = body.index(f'data-number="{name}"')
    return body[start : body.index("</div>", start)]


def _csv(response: Any) -> list[list[str]]:
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_overview_shows_the_hand_computed_numbers_with_change_and_definition(
    merchant: Merchant, history: dict[str, Any]
) -> None:
    response = _client(merchant).get("/console/analytics/", MARCH)
    assert response.status_code == 200
    body = response.content.decode()
    assert "¥320.00" in _number(body, "gmv")
    assert "+700.0%" in _number(body, "gmv")
    assert "¥40.00" in _number(body, "gmv")
    assert "¥230.00" in _number(body, "net_sales")
    assert "¥57.50" in _number(body, "aov")
    assert ">4<" in _number(body, "orders")
    assert ">3<" in _number(body, "buyers")
    assert "1.33" in _number(body, "frequency")
    assert "33.3%" in _number(body, "repurchase_rate")
    assert ">2<" in _number(body, "new_buyers")
    assert ">1<" in _number(body, "returning_buyers")
    assert "¥90.00" in _number(body, "refunds")
    assert "Share of the period’s buyers with two or more orders" in body or (
        "Share of the period&#x27;s buyers with two or more orders" in body
    )
    assert 'data-chart="an-daily-chart"' in body
    assert 'data-chart="an-source-chart"' in body
    assert "vendor/echarts.min.js" in body


def test_overview_filter_by_store_and_group_by_store(
    merchant: Merchant, history: dict[str, Any]
) -> None:
    client = _client(merchant)
    store = history["store"]
    body = client.get("/console/analytics/", {**MARCH, "store": store.pk}).content.decode()
    # Lakeside had Ada's ¥100 and Cy's ¥30 in March
    assert "¥130.00" in _number(body, "gmv")
    assert ">2<" in _number(body, "buyers")
    grouped = client.get("/console/analytics/", {**MARCH, "by": "store"}).content.decode()
    table = grouped[grouped.index('class="list an-grouped"') :]
    assert "Lakeside" in table
    assert "(none)" in table
    assert table.index("¥130.00") > table.index("Lakeside")
    assert "¥100.00" in table  # the sales without a store: 230 - 130


def test_overview_exports_numbers_as_csv_and_grouped_table_as_xlsx(
    merchant: Merchant, history: dict[str, Any]
) -> None:
    client = _client(merchant)
    response = client.get("/console/analytics/", {**MARCH, "export": "csv", "table": "numbers"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = {row[0]: row for row in _csv(response)}
    assert rows["GMV"][1:4] == ["320.00", "40.00", "7.0"]
    assert rows["Orders"][1] == "4"
    daily = _csv(client.get("/console/analytics/", {**MARCH, "export": "csv", "table": "daily"}))
    assert len(daily) == 1 + 31
    assert daily[2] == ["2026-03-02", "100.00", "100.00", "1", "1"]
    xlsx = client.get(
        "/console/analytics/", {**MARCH, "by": "store", "export": "xlsx", "table": "grouped"}
    )
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:3] == ["Store", "GMV", "Net sales"]
    # biggest net sales first: Lakeside's ¥130, then the ¥100 without a store
    assert values[1][0] == "Lakeside"
    assert float(values[1][2]) == 130.0
    assert values[2][0] == "(none)"
    assert float(values[2][2]) == 100.0


def test_cohorts_by_month_retention_and_revenue(
    merchant: Merchant, history: dict[str, Any]
) -> None:
    client = _client(merchant)
    query = {"period": "custom", "from": "2026-02-01", "to": "2026-03-31"}
    body = client.get("/console/analytics/cohorts/", query).content.decode()
    assert 'data-chart="an-cohort-chart"' in body
    rows = _csv(
        client.get("/console/analytics/cohorts/", {**query, "export": "csv", "table": "cohorts"})
    )
    assert rows[0][:4] == ["Acquisition month", "Customers", "Month 0", "Month 1"]
    # Cy is February's cohort (bought again in March); Ada and Bo are March's
    assert rows[1] == ["2026-02", "1", "1.0", "1.0"]
    assert rows[2][:3] == ["2026-03", "2", "1.0"]
    revenue = _csv(
        client.get(
            "/console/analytics/cohorts/",
            {**query, "value": "revenue", "export": "csv", "table": "cohorts"},
        )
    )
    # February: ¥40 then ¥30 from one customer; March: (100 + 50 + 60 - 10) / 2 = ¥100
    assert revenue[1] == ["2026-02", "1", "40.00", "30.00"]
    assert revenue[2][:3] == ["2026-03", "2", "100.00"]
    by_channel = client.get("/console/analytics/cohorts/", {**query, "key": "channel"})
    assert "table card" in by_channel.content.decode()


def test_rfm_grid_and_named_cells(merchant: Merchant, history: dict[str, Any]) -> None:
    # as of 2026-04-01: Ada R1 F2 M4 (FM 3, at risk), Bo R2 F1 M1 (FM 1, hibernating),
    # Cy R4 F2 M2 (FM 2, potential loyalist)
    client = _client(merchant)
    response = client.get("/console/analytics/rfm/", MARCH)
    assert response.status_code == 200
    assert 'data-chart="an-rfm-chart"' in response.content.decode()
    cells = {
        r[0]: r[1:]
        for r in _csv(
            client.get("/console/analytics/rfm/", {**MARCH, "export": "csv", "table": "cells"})
        )
    }
    assert cells["At risk"] == ["1", "0.3333"]
    assert cells["Hibernating"] == ["1", "0.3333"]
    assert cells["Potential loyalists"] == ["1", "0.3333"]
    assert cells["Champions"] == ["0", "0.0"]
    grid = _csv(client.get("/console/analytics/rfm/", {**MARCH, "export": "csv", "table": "grid"}))
    by_r = {row[0]: row[1:] for row in grid[1:]}
    assert by_r["1"] == ["0", "0", "1", "0", "0"]
    assert by_r["2"] == ["1", "0", "0", "0", "0"]
    assert by_r["4"] == ["0", "1", "0", "0", "0"]


def test_fission_numbers_funnel_and_top_inviters(
    merchant: Merchant, history: dict[str, Any]
) -> None:
    client = _client(merchant)
    body = client.get("/console/analytics/fission/", MARCH).content.decode()
    assert 'data-chart="an-fission-chart"' in body
    # 3 invitations by 2 inviters; only Bo bought after being invited: K = 1 / 2
    assert ">3<" in _number(body, "invitations")
    assert ">1<" in _number(body, "invitees_bought")
    assert "0.50" in _number(body, "k_factor")
    assert ">2<" in _number(body, "tree_depth")  # Ada → Bo → Ed
    kinds = {
        r[0]: r[1:]
        for r in _csv(
            client.get("/console/analytics/fission/", {**MARCH, "export": "csv", "table": "kinds"})
        )
    }
    assert kinds["referral"] == ["2", "1", "1", "1.0", "0.5"]
    assert kinds["groupbuy"] == ["1", "1", "0", "0.0", "0.0"]
    inviters = _csv(
        client.get("/console/analytics/fission/", {**MARCH, "export": "csv", "table": "inviters"})
    )
    assert inviters[1][:4] == ["Ada", "2", "1", "1"]
    funnel = _csv(
        client.get("/console/analytics/fission/", {**MARCH, "export": "csv", "table": "funnel"})
    )
    assert funnel[1:] == [["Invitations", "3"], ["Invitees who bought", "1"]]


def test_leaderboards_of_guides(merchant: Merchant, history: dict[str, Any]) -> None:
    client = _client(merchant)
    body = client.get("/console/analytics/leaderboards/", MARCH).content.decode()
    assert "Gina" in body
    rows = _csv(
        client.get(
            "/console/analytics/leaderboards/", {**MARCH, "export": "csv", "table": "guides"}
        )
    )
    assert rows[0][0] == "Guide"
    # Gina: no customer added in March, Ada (hers) active, ¥100 attributed in 1 order
    assert rows[1] == ["Gina", "0", "1", "100.00", "1", "0.00"]
    distributors = client.get(
        "/console/analytics/leaderboards/", {**MARCH, "export": "xlsx", "table": "distributors"}
    )
    assert distributors.status_code == 200
    load_workbook(io.BytesIO(distributors.content))


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "custom", "from": "2026-13-01", "to": "2026-03-31"}, "from"),
        ({"period": "custom", "from": "2026-03-31", "to": "2026-03-01"}, "to"),
        ({"period": "custom", "from": "2026-03-01"}, "to"),
        ({"period": "fortnight"}, "period"),
        ({"by": "colour"}, "by"),
        ({"store": "x"}, "store"),
        ({"segment": "999999"}, "segment"),
        ({"export": "pdf", "table": "numbers"}, "export"),
        ({"export": "csv", "table": "nope"}, "table"),
    ],
)
def test_bad_query_parameters_answer_400_naming_the_field(
    merchant: Merchant, params: dict[str, str], field: str
) -> None:
    response = _client(merchant).get("/console/analytics/", params)
    assert response.status_code == 400
    assert f"<code>{field}</code>" in response.content.decode()


def test_cohort_page_refuses_an_unknown_key(merchant: Merchant) -> None:
    response = _client(merchant).get("/console/analytics/cohorts/", {"key": "city"})
    assert response.status_code == 400
    assert "<code>key</code>" in response.content.decode()


@pytest.mark.parametrize("path", ["", "cohorts/", "rfm/", "fission/", "leaderboards/"])
def test_pages_need_the_analytics_permission(merchant: Merchant, path: str) -> None:
    assert (
        _client(merchant, Role.SHOPPING_GUIDE).get(f"/console/analytics/{path}").status_code == 403
    )
    assert _client(merchant, Role.FINANCE).get(f"/console/analytics/{path}").status_code == 200


def test_pages_render_without_any_history_in_chinese(merchant: Merchant) -> None:
    client = staff_client(merchant, Role.OWNER)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    for path in ("", "cohorts/", "rfm/", "fission/", "leaderboards/"):
        response = client.get(f"/console/analytics/{path}", {"period": "7d"})
        assert response.status_code == 200, path
        assert '<html lang="zh-hans">' in response.content.decode()


def test_another_merchants_sales_are_not_counted(
    merchant: Merchant, other_merchant: Merchant, history: dict[str, Any]
) -> None:
    make_sale(other_merchant, 1, datetime(2026, 3, 2, 10), 99900)
    body = _client(merchant).get("/console/analytics/", MARCH).content.decode()
    assert "¥320.00" in _number(body, "gmv")
