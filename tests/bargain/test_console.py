"""The console pages of bargains: create, schedule, pause, the results view, in both
languages; a role without the permission is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from siyu.bargain import services
from siyu.bargain.models import BargainActivity
from siyu.core import clock
from siyu.core.models import Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import staff_client
from siyu.customers.models import Customer
from siyu.customers.testing import make_customer
from siyu.orders.testing import Shop

pytestmark = pytest.mark.django_db


def local(moment: object) -> str:
    return clock.local(moment, "Asia/Shanghai").strftime("%Y-%m-%dT%H:%M")  # type: ignore[arg-type]


def test_create_schedule_pause_and_see_results(
    merchant: Merchant, shop: Shop, starter: Customer, friends: list[Customer]
) -> None:
    client = staff_client(merchant)
    assert client.get("/console/bargain/").status_code == 200
    assert client.get("/console/bargain/new/").status_code == 200
    now = clock.now()
    form = {
        "name": "Cut the latte",
        "sku": str(shop.sku.pk),
        "floor_price": "9.90",
        "helpers_needed": "2",
        "time_limit_hours": "24",
        "starts_at": local(now - timedelta(minutes=5)),
        "ends_at": local(now + timedelta(days=2)),
        "stock_total": "50",
        "per_customer_limit": "1",
        "new_customer_weight": "2",
        "buy_before_floor": "on",
    }
    bad = client.post("/console/bargain/new/", {**form, "floor_price": "50"})
    assert bad.status_code == 422
    assert "must be below the SKU" in bad.content.decode()
    no_helpers = client.post("/console/bargain/new/", {**form, "helpers_needed": "0"})
    assert no_helpers.status_code == 422
    made = client.post("/console/bargain/new/", form)
    assert made.status_code == 302, made.content.decode()[:2000]
    with merchant_context(merchant):
        activity = BargainActivity.objects.get()
    assert (activity.floor_price, activity.status, activity.new_customer_weight) == (
        990,
        "draft",
        2,
    )
    detail = f"/console/bargain/{activity.pk}/"
    assert client.post(f"{detail}status/", {"status": "active"}).status_code == 302
    activity.refresh_from_db()
    assert activity.status == "active"
    with merchant_context(merchant):
        bargain = services.start(starter, activity.pk)
        services.help_cut(friends[0], bargain.pk)
        services.help_cut(make_customer(merchant), bargain.pk)  # new: counts 2, reaches the floor
    page = client.get(detail).content.decode()
    assert 'data-name="participants">3<' in page
    assert 'data-name="completed">1<' in page
    assert 'data-name="new_customers">1<' in page
    assert 'data-name="k_factor">0.33<' in page
    assert client.post(f"{detail}status/", {"status": "paused"}).status_code == 302
    activity.refresh_from_db()
    assert activity.status == "paused"
    # once scheduled, the floor price is locked on the form
    edit = client.get(f"{detail}edit/").content.decode()
    assert 'name="floor_price"' in edit
    assert "disabled" in edit


def test_pages_render_in_chinese(merchant: Merchant, activity: BargainActivity) -> None:
    client = staff_client(merchant)
    client.cookies["django_language"] = "zh-hans"
    listed = client.get("/console/bargain/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert listed.status_code == 200
    assert "砍价" in listed.content.decode()
    detail = client.get(f"/console/bargain/{activity.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "裂变系数" in detail.content.decode()


def test_a_role_without_the_permission_cannot_manage(
    merchant: Merchant, activity: BargainActivity
) -> None:
    guide = staff_client(merchant, role=Role.SHOPPING_GUIDE)
    assert guide.get("/console/bargain/new/").status_code == 403
    assert (
        guide.post(f"/console/bargain/{activity.pk}/status/", {"status": "paused"}).status_code
        == 403
    )
    activity.refresh_from_db()
    assert activity.status == "active"


def test_another_merchants_activity_is_404(
    merchant: Merchant, other_merchant: Merchant, activity: BargainActivity
) -> None:
    rival = staff_client(other_merchant)
    assert rival.get(f"/console/bargain/{activity.pk}/").status_code == 404
    assert (
        rival.post(f"/console/bargain/{activity.pk}/status/", {"status": "ended"}).status_code
        == 404
    )
