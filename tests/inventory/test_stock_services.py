"""Stock services: receive, adjust, reserve, commit, release, restock, expire, available."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction

from siyu.core import clock
from siyu.core.errors import Forbidden, InvalidInput, NotFound
from siyu.core.models import AuditEntry, DomainEvent
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import actor_for
from siyu.inventory import services
from siyu.inventory.models import StockLevel, StockMovement, StockReservation
from siyu.inventory.services import OutOfStock
from siyu.inventory.testing import (
    counts,
    ledger_problems,
    make_sku,
    make_warehouse,
    reserve,
    stock,
    stocked_sku,
    store_location,
)
from siyu.stores.testing import make_store, store_manager_of

pytestmark = pytest.mark.django_db


def events_of(merchant, event_type):
    return list(DomainEvent.unscoped.filter(merchant=merchant, event_type=event_type))


def movements(location, sku):
    return list(
        StockMovement.unscoped.filter(location=location, sku=sku)
        .order_by("id")
        .values_list("kind", "on_hand_delta", "reserved_delta", "on_hand_after", "reserved_after")
    )


# --- receive -------------------------------------------------------------------------------


def test_receive_adds_to_on_hand_with_a_movement_an_audit_entry_and_an_event(
    bound, owner, warehouse
):
    sku = make_sku(bound, "拿铁")
    movement = services.receive(
        owner, location=warehouse, sku=sku, quantity=24, note="  PO-7  ", reference="DN-1"
    )
    assert counts(warehouse, sku) == (24, 0)
    assert (movement.kind, movement.on_hand_delta, movement.on_hand_after) == ("receipt", 24, 24)
    assert movement.note == "PO-7"
    assert movement.actor_label == owner.label
    services.receive(owner, location=warehouse, sku=sku, quantity=6)
    assert counts(warehouse, sku) == (30, 0)
    assert movements(warehouse, sku) == [("receipt", 24, 0, 24, 0), ("receipt", 6, 0, 30, 0)]
    assert AuditEntry.objects.filter(action="inventory.stock.receive").count() == 2
    changed = events_of(bound, "inventory.stock.changed")
    assert [e.payload["on_hand"] for e in changed] == [24, 30]
    assert changed[0].payload["kind"] == "receipt"
    assert changed[0].payload["sku_id"] == sku.pk


def test_receiving_the_same_reference_again_changes_nothing(bound, owner, warehouse):
    sku = make_sku(bound)
    first = services.receive(owner, location=warehouse, sku=sku, quantity=5, reference="DN-9")
    again = services.receive(owner, location=warehouse, sku=sku, quantity=5, reference="DN-9")
    assert again.pk == first.pk
    assert counts(warehouse, sku) == (5, 0)
    assert len(events_of(bound, "inventory.stock.changed")) == 1


@pytest.mark.parametrize(
    ("quantity", "field"),
    [(0, "quantity"), (-3, "quantity"), ("5", "quantity"), (True, "quantity"), (10**7, "quantity")],
)
def test_receive_refuses_bad_quantities_and_writes_nothing(
    bound, owner, warehouse, quantity, field
):
    sku = make_sku(bound)
    with pytest.raises(InvalidInput) as caught:
        services.receive(owner, location=warehouse, sku=sku, quantity=quantity)
    assert field in caught.value.fields
    assert not StockLevel.objects.exists()
    assert not StockMovement.objects.exists()


def test_receive_refuses_a_long_note_and_an_inactive_location(bound, owner, warehouse):
    sku = make_sku(bound)
    with pytest.raises(InvalidInput) as caught:
        services.receive(owner, location=warehouse, sku=sku, quantity=1, note="x" * 201)
    assert set(caught.value.fields) == {"note"}
    services.update_location(owner, warehouse, {"active": False})
    warehouse.refresh_from_db()
    with pytest.raises(InvalidInput) as caught:
        services.receive(owner, location=warehouse, sku=sku, quantity=1)
    assert set(caught.value.fields) == {"location"}


def test_another_merchants_sku_or_location_is_not_found(
    bound, owner, warehouse, merchant, other_merchant
):
    foreign_sku = make_sku(other_merchant)
    with pytest.raises(NotFound):
        services.receive(owner, location=warehouse, sku=foreign_sku, quantity=1)
    foreign_location = make_warehouse(other_merchant)
    with pytest.raises(NotFound):
        services.receive(owner, location=foreign_location, sku=make_sku(merchant), quantity=1)
    assert not StockMovement.unscoped.exists()


def test_store_managers_receive_only_at_their_stores_and_guides_not_at_all(bound, merchant):
    mine, theirs = make_store(merchant), make_store(merchant)
    manager = store_manager_of(merchant, mine)
    sku = make_sku(merchant)
    services.receive(manager, location=services.location_for_store(mine), sku=sku, quantity=3)
    with pytest.raises(Forbidden):
        services.receive(manager, location=services.location_for_store(theirs), sku=sku, quantity=3)
    with pytest.raises(Forbidden):
        services.receive(manager, location=make_warehouse(merchant), sku=sku, quantity=3)
    guide = actor_for(merchant, Role.SHOPPING_GUIDE)
    with pytest.raises(Forbidden):
        services.receive(guide, location=services.location_for_store(mine), sku=sku, quantity=1)
    assert StockMovement.objects.count() == 1


# --- adjust --------------------------------------------------------------------------------


def test_adjust_by_a_change_and_by_a_count(bound, owner, warehouse):
    sku = stocked_sku(warehouse, 20)
    services.adjust(owner, location=warehouse, sku=sku, delta=-2, reason="破损")
    assert counts(warehouse, sku) == (18, 0)
    counted = services.adjust(owner, location=warehouse, sku=sku, counted=15, reason="月末盘点")
    assert counts(warehouse, sku) == (15, 0)
    assert counted.on_hand_delta == -3
    assert "counted 15 (books 18)" in counted.note
    assert "月末盘点" in counted.note
    same = services.adjust(owner, location=warehouse, sku=sku, counted=15, reason="复盘")
    assert same.on_hand_delta == 0  # the count is on the books even when it agrees
    kinds = [e.payload["kind"] for e in events_of(bound, "inventory.stock.changed")]
    assert kinds == ["receipt", "adjustment", "adjustment"]  # no event for a change of 0
    assert AuditEntry.objects.filter(action="inventory.stock.adjust").count() == 3
    assert ledger_problems(bound) == []


def test_a_count_of_a_sku_never_stocked_here_creates_its_level(bound, owner, warehouse):
    sku = make_sku(bound)
    services.adjust(owner, location=warehouse, sku=sku, counted=4, reason="found on a shelf")
    assert counts(warehouse, sku) == (4, 0)


def test_adjust_cannot_take_on_hand_below_what_is_reserved(bound, owner, warehouse):
    sku = stocked_sku(warehouse, 10)
    reserve(warehouse, [(sku.pk, 7)])
    with pytest.raises(InvalidInput) as caught:
        services.adjust(owner, location=warehouse, sku=sku, counted=6, reason="盘点")
    assert "7 units are reserved" in caught.value.fields["counted"]
    with pytest.raises(InvalidInput) as caught:
        services.adjust(owner, location=warehouse, sku=sku, delta=-4, reason="破损")
    assert "cannot go below 7" in caught.value.fields["delta"]
    services.adjust(owner, location=warehouse, sku=sku, delta=-3, reason="破损")
    assert counts(warehouse, sku) == (7, 7)


def test_adjust_cannot_take_on_hand_below_zero(bound, owner, warehouse):
    sku = stocked_sku(warehouse, 2)
    with pytest.raises(InvalidInput) as caught:
        services.adjust(owner, location=warehouse, sku=sku, delta=-3, reason="丢失")
    assert caught.value.fields == {"delta": "Only 2 units are on hand."}
    assert counts(warehouse, sku) == (2, 0)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "counted"),
        ({"delta": 1, "counted": 1}, "counted"),
        ({"delta": 0}, "delta"),
        ({"delta": "2"}, "delta"),
        ({"counted": -1}, "counted"),
        ({"counted": 1, "reason": "  "}, "reason"),
    ],
)
def test_adjust_refuses_bad_input_and_writes_nothing(bound, owner, warehouse, kwargs, field):
    sku = stocked_sku(warehouse, 5)
    before = StockMovement.objects.count()
    kwargs.setdefault("reason", "盘点")
    with pytest.raises(InvalidInput) as caught:
        services.adjust(owner, location=warehouse, sku=sku, **kwargs)
    assert field in caught.value.fields
    assert StockMovement.objects.count() == before
    assert counts(warehouse, sku) == (5, 0)


def test_adjust_with_a_reference_applies_once(bound, owner, warehouse):
    sku = stocked_sku(warehouse, 5)
    a = services.adjust(owner, location=warehouse, sku=sku, delta=-1, reason="x", reference="t1")
    b = services.adjust(owner, location=warehouse, sku=sku, delta=-1, reason="x", reference="t1")
    assert a.pk == b.pk
    assert counts(warehouse, sku) == (4, 0)


# --- reserve --------------------------------------------------------------------------------


def test_reserve_holds_stock_and_writes_the_reservation_and_the_ledger(bound, warehouse):
    sku = stocked_sku(warehouse, 10)
    expires = clock.now() + timedelta(minutes=15)
    services.reserve(
        location=warehouse, items=[(sku.pk, 3)], reference="order:1", expires_at=expires
    )
    assert counts(warehouse, sku) == (10, 3)
    assert services.available(warehouse, [sku.pk]) == {sku.pk: 7}
    (held,) = StockReservation.objects.all()
    assert (held.reference, held.quantity, held.status, held.expires_at) == (
        "order:1",
        3,
        "active",
        expires,
    )
    assert movements(warehouse, sku)[-1] == ("reservation", 0, 3, 10, 3)
    # reservations tell nobody: the order's own events do
    assert len(events_of(bound, "inventory.stock.changed")) == 1


def test_reserving_the_same_reference_again_is_a_no_op(bound, warehouse):
    sku = stocked_sku(warehouse, 10)
    reserve(warehouse, [(sku.pk, 3)], "order:7")
    reserve(warehouse, [(sku.pk, 3)], "order:7")
    reserve(warehouse, [(sku.pk, 5)], "order:7")
    assert counts(warehouse, sku) == (10, 3)
    assert StockReservation.objects.count() == 1


def test_reserve_adds_up_repeated_skus(bound, warehouse):
    sku = stocked_sku(warehouse, 10)
    reserve(warehouse, [(sku.pk, 2), (sku.pk, 3)])
    assert counts(warehouse, sku) == (10, 5)
    assert StockReservation.objects.get().quantity == 5


def test_reserve_is_all_or_nothing_and_names_every_short_sku(bound, warehouse):
    plenty = stocked_sku(warehouse, 10)
    few = stocked_sku(warehouse, 2)
    none = make_sku(bound)  # never stocked here: no level row at all
    with pytest.raises(OutOfStock) as caught:
        reserve(warehouse, [(plenty.pk, 1), (few.pk, 3), (none.pk, 1)])
    error = caught.value
    assert (error.status, error.code) == (409, "out_of_stock")
    assert isinstance(error, InvalidInput)
    assert error.shortages == {few.pk: 2, none.pk: 0}
    assert error.fields == {f"items.{few.pk}": "Only 2 left.", f"items.{none.pk}": "Out of stock."}
    assert counts(warehouse, plenty) == (10, 0)
    assert counts(warehouse, few) == (2, 0)
    assert not StockReservation.objects.exists()
    assert ledger_problems(bound) == []


def test_a_shortage_on_the_last_level_gives_back_what_the_first_took(bound, warehouse):
    first = stocked_sku(warehouse, 5)
    second = stocked_sku(warehouse, 1)
    with pytest.raises(OutOfStock) as caught:
        reserve(warehouse, [(first.pk, 5), (second.pk, 2)])
    assert caught.value.shortages == {second.pk: 1}
    assert counts(warehouse, first) == (5, 0)
    assert ledger_problems(bound) == []


def test_out_of_stock_leaves_the_callers_transaction_usable(bound, warehouse):
    a = stocked_sku(warehouse, 3)
    b = stocked_sku(warehouse, 0)
    with transaction.atomic():
        with pytest.raises(OutOfStock):
            reserve(warehouse, [(a.pk, 1), (b.pk, 1)])
        reserve(warehouse, [(a.pk, 2)], "order:after")  # the checkout tries with less
    assert counts(warehouse, a) == (3, 2)


def test_reserving_exactly_what_is_available_then_one_more(bound, warehouse):
    sku = stocked_sku(warehouse, 4)
    reserve(warehouse, [(sku.pk, 4)])
    with pytest.raises(OutOfStock) as caught:
        reserve(warehouse, [(sku.pk, 1)])
    assert caught.value.shortages == {sku.pk: 0}
    assert counts(warehouse, sku) == (4, 4)


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ([], "items"),
        ([(1,)], "items.0"),
        ([("7", 1)], "items.0.sku_id"),
        ([(0, 1)], "items.0.sku_id"),
        ([(1, 0)], "items.0.quantity"),
        ([(1, -2)], "items.0.quantity"),
        ([(1, 1.5)], "items.0.quantity"),
    ],
)
def test_reserve_refuses_bad_items(bound, warehouse, items, field):
    with pytest.raises(InvalidInput) as caught:
        services.reserve(
            location=warehouse, items=items, reference="order:1", expires_at=clock.now()
        )
    assert field in caught.value.fields
    assert not isinstance(caught.value, OutOfStock)
    assert not StockReservation.objects.exists()


def test_reserve_refuses_a_missing_reference_a_naive_expiry_and_an_inactive_location(
    bound, owner, warehouse
):
    sku = stocked_sku(warehouse, 5)
    with pytest.raises(InvalidInput) as caught:
        services.reserve(
            location=warehouse,
            items=[(sku.pk, 1)],
            reference="",
            expires_at=clock.now().replace(tzinfo=None),
        )
    assert set(caught.value.fields) == {"reference", "expires_at"}
    services.update_location(owner, warehouse, {"active": False})
    warehouse.refresh_from_db()
    with pytest.raises(InvalidInput) as caught:
        reserve(warehouse, [(sku.pk, 1)])
    assert set(caught.value.fields) == {"location"}


def test_reserve_at_another_merchants_location_is_not_found(merchant, other_merchant):
    foreign = make_warehouse(other_merchant)
    with merchant_context(merchant), pytest.raises(NotFound):
        services.reserve(location=foreign, items=[(1, 1)], reference="x", expires_at=clock.now())


POSTGRES = connection.vendor == "postgresql"


def test_reserve_of_one_sku_is_one_statement_on_postgresql(
    bound, warehouse, django_assert_num_queries
):
    sku = stocked_sku(warehouse, 10)
    expires = clock.now() + timedelta(minutes=15)
    # the reference check, the conditional UPDATE, the reservation and the ledger line: one
    # statement on PostgreSQL; on SQLite the UPDATE (with the check) and two INSERTs
    with django_assert_num_queries(1 if POSTGRES else 3):
        services.reserve(
            location=warehouse, items=[(sku.pk, 1)], reference="order:q1", expires_at=expires
        )
    assert counts(warehouse, sku) == (10, 1)


def test_reserve_of_three_skus_takes_seven_queries(bound, warehouse, django_assert_max_num_queries):
    skus = [stocked_sku(warehouse, 10) for _ in range(3)]
    expires = clock.now() + timedelta(minutes=15)
    with django_assert_max_num_queries(7):  # + the level ids, one UPDATE per SKU
        services.reserve(
            location=warehouse,
            items=[(s.pk, 1) for s in skus],
            reference="order:q3",
            expires_at=expires,
        )
    assert [counts(warehouse, s) for s in skus] == [(10, 1)] * 3


def test_a_reservation_crossing_the_low_stock_threshold_tells_once(bound, owner, warehouse):
    services.update_location(owner, warehouse, {"low_stock_threshold": 3})
    warehouse.refresh_from_db()
    sku = stocked_sku(warehouse, 6)
    reserve(warehouse, [(sku.pk, 2)])  # 4 left: above
    reserve(warehouse, [(sku.pk, 2)])  # 2 left: crosses
    reserve(warehouse, [(sku.pk, 1)])  # 1 left: already low
    (low,) = events_of(bound, "inventory.stock.low")
    assert low.payload == {
        "location_id": warehouse.pk,
        "location_code": "WH-SH",
        "sku_id": sku.pk,
        "available": 2,
        "threshold": 3,
    }


# --- commit and release ---------------------------------------------------------------------


def test_commit_turns_the_reservation_into_a_sale(bound, warehouse):
    sku = stocked_sku(warehouse, 10)
    ref = reserve(warehouse, [(sku.pk, 3)])
    services.commit(ref)
    assert counts(warehouse, sku) == (7, 0)
    assert StockReservation.objects.get().status == "committed"
    assert movements(warehouse, sku)[-1] == ("sale", -3, -3, 7, 0)
    services.commit(ref)  # the payment notification again
    assert counts(warehouse, sku) == (7, 0)
    assert services.release(ref) == 0  # too late to release: it is sold
    assert counts(warehouse, sku) == (7, 0)
    assert ledger_problems(bound) == []


def test_commit_of_one_sku_takes_two_statements_on_postgresql(
    bound, warehouse, django_assert_num_queries
):
    sku = stocked_sku(warehouse, 10)
    ref = reserve(warehouse, [(sku.pk, 1)])
    # claim the reservation; UPDATE the level with its ledger line (two statements on SQLite)
    with django_assert_num_queries(2 if POSTGRES else 3):
        services.commit(ref)
    assert counts(warehouse, sku) == (9, 0)


def test_release_gives_the_stock_back_once(bound, warehouse):
    a, b = stocked_sku(warehouse, 10), stocked_sku(warehouse, 10)
    ref = reserve(warehouse, [(a.pk, 3), (b.pk, 1)])
    assert services.release(ref, reason="customer cancelled") == 4
    assert services.release(ref) == 0
    assert counts(warehouse, a) == (10, 0)
    assert set(StockReservation.objects.values_list("status", flat=True)) == {"released"}
    assert movements(warehouse, a)[-1] == ("release", 0, -3, 10, 0)
    assert StockMovement.objects.filter(kind="release").first().note == "customer cancelled"
    services.commit(ref)  # a payment after the cancel sells nothing
    assert counts(warehouse, a) == (10, 0)
    assert ledger_problems(bound) == []


def test_commit_and_release_need_a_reference(bound):
    with pytest.raises(InvalidInput):
        services.commit("")
    with pytest.raises(InvalidInput):
        services.release("x" * 65)


def test_references_belong_to_their_merchant(merchant, other_merchant):
    theirs = make_warehouse(other_merchant)
    sku = stocked_sku(theirs, 5)
    ref = reserve(theirs, [(sku.pk, 2)], "order:shared")
    with merchant_context(merchant):
        services.commit(ref)
        assert services.release(ref) == 0
    assert counts(theirs, sku) == (5, 2)


# --- expiry -----------------------------------------------------------------------------


def test_expire_releases_overdue_reservations_of_every_merchant(merchant, other_merchant):
    here, there = make_warehouse(merchant), make_warehouse(other_merchant)
    a, b = stocked_sku(here, 5), stocked_sku(there, 5)
    past = clock.now() - timedelta(seconds=1)
    overdue = reserve(here, [(a.pk, 2)], expires_at=past)
    reserve(there, [(b.pk, 1)], expires_at=past)
    fresh = reserve(here, [(a.pk, 1)])
    assert services.expire_reservations() == 2
    assert counts(here, a) == (5, 1)
    assert counts(there, b) == (5, 0)
    statuses = dict(StockReservation.unscoped.values_list("reference", "status"))
    assert statuses[overdue] == "expired"
    assert statuses[fresh] == "active"
    assert services.expire_reservations() == 0
    assert ledger_problems() == []
    note = StockMovement.unscoped.filter(kind="release", reference=overdue).get().note
    assert note == "Reservation expired"


def test_expire_at_a_given_moment(bound, warehouse):
    sku = stocked_sku(warehouse, 5)
    reserve(warehouse, [(sku.pk, 1)], expires_at=clock.now() + timedelta(minutes=15))
    assert services.expire_reservations(clock.now() + timedelta(minutes=14)) == 0
    assert services.expire_reservations(clock.now() + timedelta(minutes=16)) == 1
    assert counts(warehouse, sku) == (5, 0)


def test_a_payment_after_expiry_sells_the_stock_again_when_it_is_still_there(bound, warehouse):
    sku = stocked_sku(warehouse, 5)
    ref = reserve(warehouse, [(sku.pk, 2)], expires_at=clock.now() - timedelta(seconds=1))
    services.expire_reservations()
    services.commit(ref)
    assert counts(warehouse, sku) == (3, 0)
    assert StockReservation.objects.get().status == "committed"
    services.commit(ref)
    assert counts(warehouse, sku) == (3, 0)
    assert ledger_problems(bound) == []


def test_a_payment_after_expiry_when_the_stock_is_gone_is_out_of_stock(bound, warehouse):
    sku = stocked_sku(warehouse, 2)
    late = reserve(warehouse, [(sku.pk, 2)], expires_at=clock.now() - timedelta(seconds=1))
    services.expire_reservations()
    reserve(warehouse, [(sku.pk, 1)])  # someone else bought one meanwhile
    with transaction.atomic():
        with pytest.raises(OutOfStock) as caught:
            services.commit(late)
        assert caught.value.shortages == {sku.pk: 1}
        assert StockReservation.objects.get(reference=late).status == "expired"  # undone
    assert counts(warehouse, sku) == (2, 1)
    assert ledger_problems(bound) == []


# --- restock -----------------------------------------------------------------------------


def test_restock_returns_goods_once_per_reference(bound, warehouse):
    sku = stocked_sku(warehouse, 5)
    ref = reserve(warehouse, [(sku.pk, 3)])
    services.commit(ref)
    services.restock(location=warehouse, items=[(sku.pk, 2)], reference="refund:1")
    services.restock(location=warehouse, items=[(sku.pk, 2)], reference="refund:1")
    assert counts(warehouse, sku) == (4, 0)
    assert movements(warehouse, sku)[-1] == ("return", 2, 0, 4, 0)
    changed = events_of(bound, "inventory.stock.changed")
    assert [e.payload["kind"] for e in changed] == ["receipt", "return"]
    services.restock(location=warehouse, items=[(sku.pk, 1)], reference="refund:2")
    assert counts(warehouse, sku) == (5, 0)
    assert ledger_problems(bound) == []


def test_restock_refuses_unknown_skus_and_bad_quantities(bound, warehouse, other_merchant):
    foreign = make_sku(other_merchant)
    with pytest.raises(InvalidInput) as caught:
        services.restock(location=warehouse, items=[(foreign.pk, 1)], reference="refund:1")
    assert caught.value.fields == {f"items.{foreign.pk}": "Unknown SKU."}
    with pytest.raises(InvalidInput) as caught:
        services.restock(location=warehouse, items=[(foreign.pk, 0)], reference="")
    assert set(caught.value.fields) == {"items.0.quantity", "reference"}
    assert not StockLevel.unscoped.exists()


# --- available and locations for orders ---------------------------------------------------


def test_available_answers_zero_for_skus_never_stocked(bound, warehouse):
    sku = stocked_sku(warehouse, 5)
    other = make_sku(bound)
    reserve(warehouse, [(sku.pk, 2)])
    assert services.available(warehouse, [sku.pk, other.pk]) == {sku.pk: 3, other.pk: 0}


def test_location_for_store_is_created_once(bound, merchant):
    store = make_store(merchant, code="SH-001", name="静安寺店")
    first = services.location_for_store(store)
    assert (first.kind, first.code, first.name, first.store_id) == (
        "store",
        "SH-001",
        "静安寺店",
        store.pk,
    )
    assert services.location_for_store(store).pk == first.pk


def test_location_for_store_avoids_a_warehouse_code(bound, merchant):
    make_warehouse(merchant, code="SH-002")
    store = make_store(merchant, code="SH-002")
    assert services.location_for_store(store).code == f"store-{store.pk}"


def test_location_for_another_merchants_store_is_not_found(merchant, other_merchant):
    store = make_store(other_merchant)
    with merchant_context(merchant), pytest.raises(NotFound):
        services.location_for_store(store)


def test_delivery_location_is_the_active_one_marked(merchant, owner):
    assert services.delivery_location(merchant) is None
    hub = make_warehouse(merchant, ships_delivery=True)
    assert services.delivery_location(merchant).pk == hub.pk
    store_loc = store_location(make_store(merchant))
    with merchant_context(merchant):
        services.set_delivery_location(owner, store_loc)
    assert services.delivery_location(merchant).pk == store_loc.pk


def test_the_whole_life_of_a_level_balances(bound, owner, warehouse):
    sku = make_sku(bound)
    stock(warehouse, sku, 10)
    paid = reserve(warehouse, [(sku.pk, 4)])
    cancelled = reserve(warehouse, [(sku.pk, 3)])
    services.commit(paid)
    services.release(cancelled)
    services.adjust(owner, location=warehouse, sku=sku, counted=5, reason="盘点")
    services.restock(location=warehouse, items=[(sku.pk, 1)], reference="refund:9")
    assert counts(warehouse, sku) == (6, 0)
    assert ledger_problems(bound) == []


def test_the_expiry_job_runs_every_thirty_seconds(bound, warehouse):
    from siyu.core.scheduler import PERIODIC_JOBS
    from siyu.inventory.tasks import expire_stock_reservations

    job = PERIODIC_JOBS["inventory.expire_reservations"]
    assert job.every == timedelta(seconds=30)
    sku = stocked_sku(warehouse, 3)
    reserve(warehouse, [(sku.pk, 2)], expires_at=clock.now() - timedelta(seconds=1))
    assert job.task is expire_stock_reservations
    assert expire_stock_reservations.call() == 1
    assert counts(warehouse, sku) == (3, 0)


def test_a_product_with_stock_history_cannot_be_deleted_and_its_ledger_stays(
    bound, owner, warehouse
):
    from siyu.catalog import services as catalog
    from siyu.catalog.models import Product
    from siyu.core.errors import Conflict

    sku = stocked_sku(warehouse, 5)
    product = Product.objects.get(pk=sku.product_id)
    catalog.set_product_status(owner, product, Product.Status.OFF_SALE)
    before = StockMovement.objects.filter(sku=sku).count()
    with pytest.raises(Conflict) as refused:
        catalog.delete_product(owner, product)
    assert refused.value.code == "product_has_history"
    assert "product" in refused.value.fields
    assert Product.objects.filter(pk=product.pk).exists()
    assert StockMovement.objects.filter(sku=sku).count() == before > 0
    assert counts(warehouse, sku) == (5, 0)
    assert not AuditEntry.objects.filter(action="catalog.product.delete").exists()
