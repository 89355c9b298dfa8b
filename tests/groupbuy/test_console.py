"""The console pages of group-buys: list, create (product, then prices and stock), edit,
status moves and the results view with its chart, in English and zh-Hans; the console order
page shows a fulfilment hold."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from siyu.core import clock
from siyu.core.models import Merchant
from siyu.core.permissions import Role
from siyu.core.testing import staff_client
from siyu.customers.testing import make_customer
from siyu.groupbuy.models import GroupBuy, GroupBuySku
from siyu.orders.testing import Shop

from .helpers import buy, fail_overdue, pay_and_seat

pytestmark = pytest.mark.django_db

BASE = "/console/groupbuy/"


def form_data(shop: Shop, **extra: str) -> dict[str, str]:
    now = clock.now()
    data = {
        "product": str(shop.product.pk),
        "name": "3 人团",
        "description": "",
        "team_size": "3",
        "fill_hours": "24",
        "starts_at": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (now + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M"),
        "per_customer_limit": "1",
        f"on_{shop.sku.pk}": "1",
        f"price_{shop.sku.pk}": "18.80",
        f"stock_{shop.sku.pk}": "40",
    }
    data.update(extra)
    return data


def test_create_schedule_and_see_results(merchant: Merchant, shop: Shop) -> None:
    client = staff_client(merchant)
    assert client.get(BASE).status_code == 200
    chooser = client.get(f"{BASE}new/")
    assert shop.product.name in chooser.content.decode()
    form = client.get(f"{BASE}new/?product={shop.product.pk}")
    assert form.status_code == 200
    assert shop.sku.code in form.content.decode()
    saved = client.post(f"{BASE}new/", form_data(shop))
    assert saved.status_code == 302, saved.content.decode()[:3000]
    activity = GroupBuy.unscoped.get()
    assert activity.status == "draft"
    item = GroupBuySku.unscoped.get(activity=activity)
    assert (item.group_price, item.stock_total) == (1880, 40)
    moved = client.post(f"{BASE}{activity.pk}/status/", {"action": "schedule"})
    assert moved.status_code == 302
    activity.refresh_from_db()
    assert activity.status == "running"
    leader = pay_and_seat(buy(merchant, shop, activity, make_customer(merchant)))
    for _n in range(2):
        pay_and_seat(buy(merchant, shop, activity, make_customer(merchant), team_id=leader.team_id))
    page = client.get(f"{BASE}{activity.pk}/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "vendor/echarts.min.js" in body
    assert "cdn" not in body.lower()
    chart = re.search(r'id="groupbuy-chart-data"[^>]*>(.*?)</script>', body, re.S)
    assert chart is not None
    option = json.loads(chart.group(1))
    assert option["series"][0]["data"] == [1]  # one team succeeded today
    assert "100.0%" in body  # success rate
    assert client.get(f"{BASE}{activity.pk}/?team_status=succeeded").status_code == 200
    assert client.get(f"{BASE}{activity.pk}/edit/").status_code == 200


def test_bad_form_input_is_shown_next_to_the_field(merchant: Merchant, shop: Shop) -> None:
    client = staff_client(merchant)
    answer = client.post(
        f"{BASE}new/", form_data(shop, **{f"price_{shop.sku.pk}": "30", "team_size": "1"})
    )
    assert answer.status_code == 422
    body = answer.content.decode()
    assert "The group price must be below the price." in body or "Ensure this value" in body
    answer = client.post(f"{BASE}new/", form_data(shop, **{f"price_{shop.sku.pk}": "30"}))
    assert "The group price must be below the price." in answer.content.decode()
    assert GroupBuy.unscoped.count() == 0


def test_status_refusal_is_a_message(merchant: Merchant, shop: Shop, activity: GroupBuy) -> None:
    client = staff_client(merchant)
    answer = client.post(f"{BASE}{activity.pk}/status/", {"action": "resume"}, follow=True)
    assert "cannot do this" in answer.content.decode()


def test_a_guide_cannot_create(merchant: Merchant) -> None:
    client = staff_client(merchant, role=Role.SHOPPING_GUIDE)
    assert client.get(f"{BASE}new/").status_code == 403


def test_pages_in_zh_hans_and_the_held_order_page(
    merchant: Merchant, shop: Shop, activity: GroupBuy
) -> None:
    member = pay_and_seat(buy(merchant, shop, activity, make_customer(merchant)))
    english = staff_client(merchant)
    order_page = english.get(f"/console/orders/{member.order_id}/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Fulfilment on hold: the group-buy team is still filling" in order_page.content.decode()
    assert "Start preparing" not in order_page.content.decode()
    fail_overdue(clock.now() + timedelta(days=2))
    client = staff_client(merchant)
    client.cookies["django_language"] = "zh-hans"
    listed = client.get(BASE, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "拼团" in listed
    detail = client.get(f"{BASE}{activity.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "成团率" in detail


def test_editing_a_running_group_buy_changes_only_what_may_change(
    merchant: Merchant, shop: Shop, activity: GroupBuy
) -> None:
    client = staff_client(merchant)
    page = client.get(f"{BASE}{activity.pk}/edit/").content.decode()
    assert "This group-buy has started" in page
    data = form_data(
        shop,
        name="更名了",
        team_size="9",
        **{f"price_{shop.sku.pk}": "18.00", f"stock_{shop.sku.pk}": "25"},
    )
    answer = client.post(f"{BASE}{activity.pk}/edit/", data)
    assert answer.status_code == 302, re.findall(
        r"(?:alert|error)[^>]*>([^<]+)<", answer.content.decode()
    )
    activity.refresh_from_db()
    assert (activity.name, activity.team_size) == ("更名了", 3)
    item = GroupBuySku.unscoped.get(activity=activity)
    assert (item.group_price, item.stock_total, item.stock_left) == (1800, 25, 25)
    changed_price = client.post(
        f"{BASE}{activity.pk}/edit/", form_data(shop, **{f"price_{shop.sku.pk}": "17.00"})
    )
    assert changed_price.status_code == 422
    assert "cannot change once the group-buy started" in changed_price.content.decode()
