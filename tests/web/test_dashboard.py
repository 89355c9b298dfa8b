from __future__ import annotations

import json
import re

from siyu.catalog.models import Product
from siyu.catalog.testing import make_category, make_product
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import staff_client
from siyu.stores.models import Store
from siyu.stores.testing import make_store


def chart_data(html: str) -> dict:
    match = re.search(
        r'<script id="dashboard-chart-data" type="application/json">(.*?)</script>', html, re.S
    )
    assert match, "the chart's data is missing"
    return json.loads(match.group(1))


def test_dashboard_counts_and_chart_reflect_the_merchant(merchant, other_merchant):
    make_store(merchant, status=Store.Status.OPEN)
    make_store(merchant, status=Store.Status.TEMPORARILY_CLOSED)
    make_store(other_merchant)
    drinks = make_category(merchant, "Drinks")
    latte = make_product(merchant, "Latte", category_id=drinks.pk)
    make_product(merchant, "Mocha", category_id=drinks.pk)
    with merchant_context(merchant):
        Product.objects.filter(pk=latte.pk).update(status=Product.Status.ON_SALE)
    make_product(other_merchant, "Theirs")

    html = (
        staff_client(merchant, Role.OWNER)
        .get("/console/", HTTP_ACCEPT_LANGUAGE="en")
        .content.decode()
    )
    assert re.search(r"Stores open</span><span class=\"stat-value\">1 / 2<", html)
    assert re.search(r"Products on sale</span><span class=\"stat-value\">1<", html)
    data = chart_data(html)
    assert data["yAxis"]["data"] == ["Drinks"]
    assert [s["data"] for s in data["series"]] == [[1], [1]]


def test_dashboard_blocks_follow_the_role(merchant):
    guide = (
        staff_client(merchant, Role.SHOPPING_GUIDE)
        .get("/console/", HTTP_ACCEPT_LANGUAGE="en")
        .content.decode()
    )
    assert "Products on sale" in guide
    assert "Webhook endpoints" not in guide
    assert "Recent activity" not in guide
    finance = (
        staff_client(merchant, Role.FINANCE)
        .get("/console/", HTTP_ACCEPT_LANGUAGE="en")
        .content.decode()
    )
    assert "Webhook endpoints" in finance
    assert "Recent activity" in finance
