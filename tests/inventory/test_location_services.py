"""Location services: warehouses, the one delivery location, store locations, who may."""

from __future__ import annotations

import pytest

from siyu.core.errors import Conflict, Forbidden, InvalidInput
from siyu.core.models import AuditEntry
from siyu.core.permissions import Role
from siyu.core.testing import actor_for
from siyu.inventory import services
from siyu.inventory.consumers import create_store_location
from siyu.inventory.models import Location
from siyu.stores import services as store_services
from siyu.stores.models import Store
from siyu.stores.testing import make_store, store_manager_of

pytestmark = pytest.mark.django_db


def test_create_a_warehouse_with_an_audit_entry(bound, owner):
    hub = services.create_warehouse(
        owner, code=" WH-SH ", name="  上海   中央仓 ", low_stock_threshold=20
    )
    assert (hub.kind, hub.code, hub.name, hub.low_stock_threshold) == (
        "warehouse",
        "WH-SH",
        "上海 中央仓",
        20,
    )
    assert hub.store_id is None
    entry = AuditEntry.objects.get(action="inventory.location.create")
    assert entry.after["code"] == "WH-SH"


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"code": ""}, "code"),
        ({"code": "-WH"}, "code"),
        ({"code": "W" * 33}, "code"),
        ({"name": ""}, "name"),
        ({"name": "仓" * 101}, "name"),
        ({"low_stock_threshold": -1}, "low_stock_threshold"),
        ({"low_stock_threshold": "5"}, "low_stock_threshold"),
        ({"ships_delivery": "yes"}, "ships_delivery"),
        ({"ships_delivery": True, "active": False}, "ships_delivery"),
    ],
)
def test_bad_warehouses_are_refused_and_nothing_is_written(bound, owner, fields, bad):
    values = {"code": "WH-1", "name": "一号仓", **fields}
    with pytest.raises(InvalidInput) as caught:
        services.create_warehouse(owner, **values)
    assert bad in caught.value.fields
    assert not Location.objects.exists()


def test_codes_are_unique_per_merchant_ignoring_case(bound, owner, merchant, other_merchant):
    services.create_warehouse(owner, code="WH-1", name="一号仓")
    with pytest.raises(Conflict) as caught:
        services.create_warehouse(owner, code="wh-1", name="又一个")
    assert "code" in caught.value.fields
    # another merchant may use the same code
    from siyu.core.tenancy import merchant_context

    with merchant_context(other_merchant):
        services.create_warehouse(actor_for(other_merchant), code="WH-1", name="Their hub")


def test_exactly_one_location_ships_delivery_orders(bound, owner):
    first = services.create_warehouse(owner, code="WH-1", name="一号仓", ships_delivery=True)
    second = services.create_warehouse(owner, code="WH-2", name="二号仓", ships_delivery=True)
    first.refresh_from_db()
    assert (first.ships_delivery, second.ships_delivery) == (False, True)
    services.set_delivery_location(owner, first)
    assert list(Location.objects.filter(ships_delivery=True)) == [first]
    with pytest.raises(InvalidInput) as caught:
        services.update_location(owner, first, {"ships_delivery": False})
    assert "ships_delivery" in caught.value.fields
    with pytest.raises(InvalidInput) as caught:
        services.update_location(owner, first, {"active": False})
    assert "active" in caught.value.fields
    services.update_location(owner, second, {"active": False})
    second.refresh_from_db()
    with pytest.raises(InvalidInput):
        services.set_delivery_location(owner, second)
    assert services.delivery_location(bound).pk == first.pk


def test_update_location_changes_only_what_changed(bound, owner):
    hub = services.create_warehouse(owner, code="WH-1", name="一号仓")
    services.update_location(owner, hub, {"name": "一号仓"})
    assert not AuditEntry.objects.filter(action="inventory.location.update").exists()
    services.update_location(owner, hub, {"code": "WH-01", "low_stock_threshold": 3})
    hub.refresh_from_db()
    assert (hub.code, hub.low_stock_threshold) == ("WH-01", 3)
    services.create_warehouse(owner, code="WH-2", name="二号仓")
    with pytest.raises(Conflict):
        services.update_location(owner, hub, {"code": "WH-2"})
    with pytest.raises(InvalidInput) as caught:
        services.update_location(owner, hub, {"kind": "store"})
    assert caught.value.fields == {"kind": "Unknown field."}


def test_store_roles_do_not_manage_locations(bound, merchant):
    store = make_store(merchant)
    location = services.location_for_store(store)
    manager = store_manager_of(merchant, store)
    with pytest.raises(Forbidden):
        services.create_warehouse(manager, code="WH-9", name="x")
    with pytest.raises(Forbidden):
        services.update_location(manager, location, {"low_stock_threshold": 1})
    with pytest.raises(Forbidden):
        services.set_delivery_location(manager, location)
    with pytest.raises(Forbidden):
        services.create_warehouse(actor_for(merchant, Role.FINANCE), code="WH-9", name="x")
    assert services.can_work_at(manager, location)
    assert not services.can_manage_locations(manager)


def test_a_new_store_gets_its_location_through_the_outbox(
    bound, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        store = store_services.create_store(
            owner,
            code="SH-XTD",
            name="新天地店",
            city="上海市",
            address="马当路245号",
            latitude="31.219300",
            longitude="121.474500",
        )
    location = Location.objects.get(store=store)
    assert (location.kind, location.code, location.name) == ("store", "SH-XTD", "新天地店")


def test_the_consumer_is_idempotent(bound, merchant):
    from siyu.core.models import DomainEvent

    store = make_store(merchant)
    event = DomainEvent.unscoped.create(
        merchant=merchant,
        event_type="stores.store.created",
        aggregate_type="stores.store",
        aggregate_id=str(store.pk),
        payload={},
    )
    create_store_location(event)
    create_store_location(event)
    assert Location.objects.filter(store=store).count() == 1


def test_create_store_locations_fills_the_gaps(bound, owner, merchant):
    a, b = make_store(merchant), make_store(merchant)
    services.location_for_store(a)
    assert services.create_store_locations(owner) == 1
    assert Location.objects.filter(store=b).exists()
    assert services.create_store_locations(owner) == 0
    assert Store.objects.filter(stock_location__isnull=True).count() == 0
