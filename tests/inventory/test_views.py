"""Console pages of inventory: who sees what, store-manager scoping, forms with field errors."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from siyu.core.models import AuditEntry
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import staff_client
from siyu.inventory import services
from siyu.inventory.models import Location, StockLevel, StockMovement
from siyu.inventory.testing import (
    counts,
    make_sku,
    make_warehouse,
    reserve,
    stock,
    stocked_sku,
    store_location,
)
from siyu.stores.testing import login, make_store, make_store_staff

pytestmark = pytest.mark.django_db

EN = {"Accept-Language": "en"}
STOCK = reverse("inventory:stock_list")
RECEIVE = reverse("inventory:receive")
ADJUST = reverse("inventory:adjust")
MOVEMENTS = reverse("inventory:movement_list")
LOCATIONS = reverse("inventory:location_list")


def html(response) -> str:
    return response.content.decode()


def location_options(page: str) -> list[str]:
    select = re.search(r'<select name="location"[^>]*>(.*?)</select>', page, re.S)
    assert select is not None
    return [v for v in re.findall(r'<option value="(\d*)"', select.group(1)) if v]


@pytest.fixture
def scene(merchant):
    """A warehouse that ships deliveries, two stores with their locations, a SKU in each."""
    hub = make_warehouse(merchant, code="WH-SH", name="上海中央仓", ships_delivery=True)
    jingan = make_store(merchant, name="静安寺店")
    xuhui = make_store(merchant, name="徐家汇店")
    latte = make_sku(merchant, "拿铁")
    for location in (hub, store_location(jingan), store_location(xuhui)):
        stock(location, latte, 10)
    return {"hub": hub, "jingan": jingan, "xuhui": xuhui, "latte": latte}


# --- who sees what -----------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role.values))
def test_every_role_sees_stock_movements_and_locations(merchant, scene, role):
    client = staff_client(merchant, role)
    for url in (STOCK, MOVEMENTS, LOCATIONS):
        assert client.get(url, headers=EN).status_code == 200


def test_stock_page_shows_levels_of_the_chosen_location(merchant, scene):
    hub = scene["hub"]
    reserve(hub, [(scene["latte"].pk, 3)])
    sold_out = stocked_sku(hub, 0, "可颂")
    client = staff_client(merchant, Role.OPERATOR)
    page = html(client.get(STOCK, headers=EN))  # opens on the delivery location
    assert "上海中央仓" in page
    row = re.search(r"拿铁.*?</tr>", page, re.S).group(0)
    assert [int(n) for n in re.findall(r"</span> (?:<strong>)?(\d+)", row)] == [10, 3, 7]
    assert "Out of stock" in re.search(r"可颂.*?</tr>", page, re.S).group(0)
    assert sold_out.code in page
    assert "Receive stock" in page


def test_stock_page_searches_and_filters_low_stock(merchant, scene, owner):
    hub = scene["hub"]
    with merchant_context(merchant):
        services.update_location(owner, hub, {"low_stock_threshold": 5})
    few = stocked_sku(hub, 4, "燕麦拿铁")
    stocked_sku(hub, 50, "美式咖啡")
    client = staff_client(merchant, Role.OPERATOR)
    low = html(client.get(STOCK, {"location": hub.pk, "low": "on"}, headers=EN))
    assert "燕麦拿铁" in low
    assert "Low stock" in low
    assert "美式咖啡" not in low
    found = html(client.get(STOCK, {"location": hub.pk, "q": few.code}, headers=EN))
    assert "燕麦拿铁" in found
    assert "美式咖啡" not in found


def test_store_managers_see_only_their_stores_locations(merchant, scene):
    mine = store_location(scene["jingan"])
    client = login(make_store_staff(merchant, Role.STORE_MANAGER, scene["jingan"]))
    page = html(client.get(STOCK, headers=EN))
    assert location_options(page) == [str(mine.pk)]
    assert "静安寺店" in page
    assert client.get(STOCK, {"location": scene["hub"].pk}).status_code == 404
    other = store_location(scene["xuhui"])
    assert client.get(STOCK, {"location": other.pk}).status_code == 404
    locations = html(client.get(LOCATIONS, headers=EN))
    assert "静安寺店" in locations
    assert "徐家汇店" not in locations
    assert "Add a warehouse" not in locations
    movements = html(client.get(MOVEMENTS, headers=EN))
    assert location_options(movements) == [str(mine.pk)]
    assert movements.count("<tr>") == 2  # the header and the one receipt at their store


def test_guides_read_their_stores_stock_but_change_nothing(merchant, scene):
    client = login(make_store_staff(merchant, Role.SHOPPING_GUIDE, scene["jingan"]))
    page = html(client.get(STOCK, headers=EN))
    assert "Receive stock" not in page
    assert client.get(RECEIVE).status_code == 403
    assert client.post(ADJUST, {}).status_code == 403


def test_finance_reads_everything_and_changes_nothing(merchant, scene):
    client = staff_client(merchant, Role.FINANCE)
    page = html(client.get(STOCK, headers=EN))
    assert len(location_options(page)) == 3
    assert "Receive stock" not in page
    assert client.get(RECEIVE).status_code == 403


def test_another_merchants_location_is_not_found(merchant, other_merchant, scene):
    theirs = make_warehouse(other_merchant)
    client = staff_client(merchant, Role.OWNER)
    assert client.get(STOCK, {"location": theirs.pk}).status_code == 404
    assert client.get(reverse("inventory:location_edit", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("inventory:location_ship", args=[theirs.pk])).status_code == 404


def test_a_manager_without_stores_sees_an_empty_page(merchant):
    client = login(make_store_staff(merchant, Role.STORE_MANAGER))
    page = html(client.get(STOCK, headers=EN))
    assert "No stock locations yet." in page


# --- receive and adjust ---------------------------------------------------------------------


def test_receive_by_barcode(merchant, scene):
    hub = scene["hub"]
    sku = make_sku(merchant, "挂耳咖啡")
    with merchant_context(merchant):
        sku.barcode = "6975412000017"
        sku.save()
    client = staff_client(merchant, Role.OPERATOR)
    form = html(client.get(RECEIVE, {"location": hub.pk}, headers=EN))
    token = re.search(r'name="token" value="(\w+)"', form).group(1)
    data = {
        "location": hub.pk,
        "sku": "6975412000017",
        "quantity": "12",
        "note": "RK-1",
        "token": token,
    }
    response = client.post(RECEIVE, data, headers=EN)
    assert response.status_code == 302
    assert response["Location"].startswith(f"{STOCK}?location={hub.pk}")
    assert counts(hub, sku) == (12, 0)
    # the same form sent twice (a double tap) receives once
    assert client.post(RECEIVE, data, headers=EN).status_code == 302
    assert counts(hub, sku) == (12, 0)
    movement = StockMovement.unscoped.get(sku=sku)
    assert movement.note == "RK-1"
    assert movement.reference == f"form:{token}"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"quantity": "0"}, "quantity", "greater than or equal to 1"),
        ({"quantity": "abc"}, "quantity", "Enter a whole number"),
        ({"sku": "NOPE"}, "sku", "No SKU has this code or barcode."),
        ({"location": "999999"}, "location", "Select a valid choice"),
    ],
)
def test_receive_shows_field_errors_and_changes_nothing(merchant, scene, change, field, message):
    hub, latte = scene["hub"], scene["latte"]
    client = staff_client(merchant, Role.OPERATOR)
    data = {"location": hub.pk, "sku": latte.code, "quantity": "5", **change}
    response = client.post(RECEIVE, data, headers=EN)
    assert response.status_code == 422
    page = html(response)
    assert message in page
    assert 'aria-invalid="true"' in page
    assert counts(hub, latte) == (10, 0)


def test_receive_form_prefills_the_sku_and_shows_its_level(merchant, scene):
    hub, latte = scene["hub"], scene["latte"]
    client = staff_client(merchant, Role.OPERATOR)
    page = html(client.get(ADJUST, {"location": hub.pk, "sku": latte.pk}, headers=EN))
    assert f'value="{latte.code}"' in page
    assert re.search(r"<dt>On hand</dt><dd>10</dd>", page)


def test_stock_take_and_a_change(merchant, scene):
    hub, latte = scene["hub"], scene["latte"]
    client = staff_client(merchant, Role.OPERATOR)
    base = {"location": hub.pk, "sku": latte.code}
    response = client.post(
        ADJUST, {**base, "mode": "counted", "quantity": "8", "reason": "月末盘点"}, headers=EN
    )
    assert response.status_code == 302
    assert counts(hub, latte) == (8, 0)
    client.post(ADJUST, {**base, "mode": "delta", "quantity": "-3", "reason": "破损"}, headers=EN)
    assert counts(hub, latte) == (5, 0)
    assert AuditEntry.unscoped.filter(action="inventory.stock.adjust").count() == 2


def test_a_stock_take_below_what_is_reserved_is_refused_at_the_field(merchant, scene):
    hub, latte = scene["hub"], scene["latte"]
    reserve(hub, [(latte.pk, 6)])
    client = staff_client(merchant, Role.OPERATOR)
    response = client.post(
        ADJUST,
        {
            "location": hub.pk,
            "sku": latte.code,
            "mode": "counted",
            "quantity": "4",
            "reason": "盘点",
        },
        headers=EN,
    )
    assert response.status_code == 422
    assert "6 units are reserved for unpaid orders" in html(response)
    assert counts(hub, latte) == (10, 6)


def test_adjust_needs_a_reason(merchant, scene):
    hub, latte = scene["hub"], scene["latte"]
    client = staff_client(merchant, Role.OPERATOR)
    response = client.post(
        ADJUST,
        {"location": hub.pk, "sku": latte.code, "mode": "delta", "quantity": "1", "reason": ""},
        headers=EN,
    )
    assert response.status_code == 422
    assert counts(hub, latte) == (10, 0)


def test_store_managers_receive_only_at_their_store(merchant, scene):
    mine = store_location(scene["jingan"])
    client = login(make_store_staff(merchant, Role.STORE_MANAGER, scene["jingan"]))
    latte = scene["latte"]
    ok = client.post(RECEIVE, {"location": mine.pk, "sku": latte.code, "quantity": "2"})
    assert ok.status_code == 302
    assert counts(mine, latte) == (12, 0)
    refused = client.post(
        RECEIVE, {"location": scene["hub"].pk, "sku": latte.code, "quantity": "2"}, headers=EN
    )
    assert refused.status_code == 422  # not one of their locations: not a choice
    assert counts(scene["hub"], latte) == (10, 0)


# --- movements -----------------------------------------------------------------------------


def test_movements_filter_by_location_sku_kind_and_date(merchant, scene):
    hub, latte = scene["hub"], scene["latte"]
    ref = reserve(hub, [(latte.pk, 2)])
    with merchant_context(merchant):
        services.commit(ref)
    client = staff_client(merchant, Role.OPERATOR)
    page = html(client.get(MOVEMENTS, {"location": hub.pk, "sku": latte.code}, headers=EN))
    assert page.count('class="badge movement-') == 3  # receipt, reservation, sale
    sales = html(client.get(MOVEMENTS, {"kind": "sale"}, headers=EN))
    assert sales.count('class="badge movement-') == 1
    by_ref = html(client.get(MOVEMENTS, {"reference": ref}, headers=EN))
    assert by_ref.count('class="badge movement-') == 2
    none = html(client.get(MOVEMENTS, {"date_from": "2001-01-01", "date_to": "2001-01-02"}))
    assert 'class="badge movement-' not in none
    unknown = html(client.get(MOVEMENTS, {"sku": "NOPE"}, headers=EN))
    assert "No SKU has this code or barcode." in unknown
    assert 'class="badge movement-' not in unknown


def test_movements_refuse_an_end_before_the_start(merchant, scene):
    client = staff_client(merchant, Role.OPERATOR)
    response = client.get(
        MOVEMENTS, {"date_from": "2026-03-02", "date_to": "2026-03-01"}, headers=EN
    )
    assert response.status_code == 422
    assert "The end is before the start." in html(response)


# --- locations -----------------------------------------------------------------------------


def test_owner_adds_a_warehouse_that_ships_delivery_orders(merchant, scene):
    client = staff_client(merchant, Role.OWNER)
    response = client.post(
        reverse("inventory:location_create"),
        {
            "code": "WH-BJ",
            "name": "北京仓",
            "low_stock_threshold": "20",
            "ships_delivery": "on",
            "active": "on",
        },
    )
    assert response.status_code == 302
    with merchant_context(merchant):
        beijing = Location.objects.get(code="WH-BJ")
        assert beijing.ships_delivery
        assert beijing.low_stock_threshold == 20
        assert not Location.objects.get(pk=scene["hub"].pk).ships_delivery


def test_a_taken_code_is_a_field_error(merchant, scene):
    client = staff_client(merchant, Role.OWNER)
    response = client.post(
        reverse("inventory:location_create"),
        {"code": "wh-sh", "name": "重复", "low_stock_threshold": "0", "active": "on"},
        headers=EN,
    )
    assert response.status_code == 422
    assert "Another location has this code." in html(response)


def test_choosing_the_delivery_location_moves_it(merchant, scene):
    jingan = store_location(scene["jingan"])
    client = staff_client(merchant, Role.OPERATOR)
    response = client.post(reverse("inventory:location_ship", args=[jingan.pk]))
    assert response.status_code == 302
    assert services.delivery_location(merchant).pk == jingan.pk


def test_the_delivery_location_cannot_be_deactivated(merchant, scene):
    hub = scene["hub"]
    client = staff_client(merchant, Role.OWNER)
    response = client.post(
        reverse("inventory:location_edit", args=[hub.pk]),
        {"code": "WH-SH", "name": "上海中央仓", "low_stock_threshold": "3"},
        headers=EN,
    )
    assert response.status_code == 422
    assert "stays active" in html(response)


def test_edit_a_store_location_threshold(merchant, scene):
    jingan = store_location(scene["jingan"])
    client = staff_client(merchant, Role.OWNER)
    response = client.post(
        reverse("inventory:location_edit", args=[jingan.pk]),
        {"name": "静安寺店 库存", "low_stock_threshold": "5", "active": "on"},
    )
    assert response.status_code == 302
    jingan.refresh_from_db()
    assert (jingan.name, jingan.low_stock_threshold, jingan.code) == (
        "静安寺店 库存",
        5,
        scene["jingan"].code,
    )


def test_store_managers_cannot_manage_locations(merchant, scene):
    mine = store_location(scene["jingan"])
    client = login(make_store_staff(merchant, Role.STORE_MANAGER, scene["jingan"]))
    assert client.get(reverse("inventory:location_create")).status_code == 403
    assert client.get(reverse("inventory:location_edit", args=[mine.pk])).status_code == 403
    assert client.post(reverse("inventory:location_ship", args=[mine.pk])).status_code == 403
    assert client.post(reverse("inventory:location_stores")).status_code == 403


def test_stores_without_a_location_get_one_on_request(merchant, scene):
    newer = make_store(merchant, name="新天地店")  # made directly: no store.created event
    client = staff_client(merchant, Role.OWNER)
    assert "1 store has no stock location yet." in html(client.get(LOCATIONS, headers=EN))
    assert client.post(reverse("inventory:location_stores")).status_code == 302
    with merchant_context(merchant):
        assert Location.objects.filter(store=newer).exists()
    assert "no stock location yet" not in html(client.get(LOCATIONS, headers=EN))


def test_pages_are_translated(merchant, scene):
    client = staff_client(merchant, Role.OWNER)
    page = html(client.get(STOCK, headers={"Accept-Language": "zh-hans"}))
    assert "库存" in page
    assert "入库" in page
    assert "可用" in page


def test_platform_admin_reads_stock_of_every_merchant_but_edits_nothing(
    client, merchant, other_merchant, scene
):
    from siyu.core.models import User

    stock(make_warehouse(other_merchant, name="Their hub"), make_sku(other_merchant), 4)
    admin = User.objects.create_superuser("root", "root@example.com", "Admin-pass-2026")
    client.force_login(admin)
    locations = html(client.get("/admin/inventory/location/"))
    assert "上海中央仓" in locations
    assert "Their hub" in locations
    for model in ("stocklevel", "stockmovement", "stockreservation"):
        assert client.get(f"/admin/inventory/{model}/").status_code == 200
    level = StockLevel.unscoped.filter(location=scene["hub"]).first()
    assert client.get(f"/admin/inventory/stocklevel/{level.pk}/change/").status_code == 200
    assert client.post(f"/admin/inventory/stocklevel/{level.pk}/change/", {}).status_code == 403
    assert client.get("/admin/inventory/stocklevel/add/").status_code == 403
