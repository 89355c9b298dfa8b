"""Stock under concurrent buyers, proven with real connections (PostgreSQL, one per thread)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection, connections

from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.errors import Conflict, InvalidInput
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_merchant
from siyu.inventory import services
from siyu.inventory.models import StockMovement, StockReservation
from siyu.inventory.services import OutOfStock
from siyu.inventory.testing import counts, ledger_problems, make_warehouse, reserve, stocked_sku

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="a real race between database connections needs PostgreSQL",
    ),
    pytest.mark.django_db(transaction=True),
]


def run_together(merchant, calls: list[Callable[[], object]]) -> list[str]:
    """Run each call in its own thread (its own connection), all released at once."""
    start = threading.Barrier(len(calls))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(call: Callable[[], object]) -> None:
        try:
            start.wait()
            with merchant_context(merchant):
                call()
            outcome = "ok"
        except OutOfStock:
            outcome = "out_of_stock"
        except Conflict:
            outcome = "conflict"
        except InvalidInput as exc:
            outcome = f"invalid: {exc.fields}"
        except Exception as exc:  # a deadlock or a broken invariant: reported, not hidden
            outcome = f"error: {type(exc).__name__}: {exc}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def reserver(location, sku_id: int, reference: str, quantity: int = 1) -> Callable[[], None]:
    def call() -> None:
        services.reserve(
            location=location,
            items=[(sku_id, quantity)],
            reference=reference,
            expires_at=clock.now() + timedelta(minutes=15),
        )

    return call


def test_fifty_buyers_of_ten_units_get_exactly_ten():
    merchant = make_merchant()
    hub = make_warehouse(merchant)
    sku = stocked_sku(hub, 10)
    outcomes = run_together(merchant, [reserver(hub, sku.pk, f"order:{n}") for n in range(50)])
    assert outcomes.count("ok") == 10, outcomes
    assert outcomes.count("out_of_stock") == 40
    assert counts(hub, sku) == (10, 10)
    assert StockReservation.unscoped.filter(status="active").count() == 10
    # and all ten pay at once: stock 0, nothing reserved, every sale on the ledger
    paid = run_together(
        merchant,
        [
            (lambda ref=ref: services.commit(ref))
            for ref in StockReservation.unscoped.values_list("reference", flat=True)
        ],
    )
    assert paid == ["ok"] * 10
    assert counts(hub, sku) == (0, 0)
    assert StockMovement.unscoped.filter(kind="sale").count() == 10
    assert ledger_problems() == []


def test_commits_releases_expiry_and_new_reservations_racing_keep_every_invariant():
    merchant = make_merchant()
    hub = make_warehouse(merchant)
    sku = stocked_sku(hub, 30)
    other = stocked_sku(hub, 30)
    owner = Actor.system(merchant)
    past = clock.now() - timedelta(seconds=1)
    held = [reserve(hub, [(sku.pk, 1), (other.pk, 1)], f"held:{n}") for n in range(12)]
    overdue = [reserve(hub, [(sku.pk, 2)], f"late:{n}", expires_at=past) for n in range(4)]
    calls: list[Callable[[], object]] = []
    for n, ref in enumerate(held):
        calls.append((lambda ref=ref: services.commit(ref)) if n % 2 else (lambda ref=ref: None))
        calls.append(lambda ref=ref: services.release(ref))  # races the commit of the same order
    for ref in overdue:
        calls.append(lambda ref=ref: services.commit(ref))  # a late payment racing the expiry
    calls.append(services.expire_reservations)
    calls.append(services.expire_reservations)
    for n in range(20):
        calls.append(reserver(hub, sku.pk, f"new:{n}", quantity=2))
    calls.append(lambda: services.adjust(owner, location=hub, sku=sku, delta=-1, reason="破损"))
    calls.append(lambda: services.receive(owner, location=hub, sku=other, quantity=5))
    outcomes = run_together(merchant, calls)
    assert not [o for o in outcomes if o.startswith("error")], outcomes
    assert ledger_problems() == []
    on_hand, reserved = counts(hub, sku)
    assert 0 <= reserved <= on_hand

    # every unit is accounted for: on hand plus sold is what came in, less damage (when the
    # adjustment found enough unreserved stock to take away)
    def total(kind: str) -> int:
        deltas = StockMovement.unscoped.filter(sku=sku, kind=kind).values_list(
            "on_hand_delta", flat=True
        )
        return sum(deltas)

    assert on_hand - total("sale") == 30 + total("adjustment")
    # each held order was either sold or released, never both
    for ref in held:
        statuses = set(
            StockReservation.unscoped.filter(reference=ref).values_list("status", flat=True)
        )
        assert statuses in ({"committed"}, {"released"})
        kinds = set(StockMovement.unscoped.filter(reference=ref).values_list("kind", flat=True))
        assert kinds in ({"reservation", "sale"}, {"reservation", "release"})


def test_opposite_orders_of_skus_do_not_deadlock():
    merchant = make_merchant()
    hub = make_warehouse(merchant)
    a = stocked_sku(hub, 1000)
    b = stocked_sku(hub, 1000)
    calls: list[Callable[[], object]] = []
    refs: list[str] = []
    for n in range(24):
        ref = f"order:{n}"
        refs.append(ref)
        items = [(a.pk, 1), (b.pk, 1)] if n % 2 else [(b.pk, 1), (a.pk, 1)]
        calls.append(
            lambda ref=ref, items=items: services.reserve(
                location=hub,
                items=items,
                reference=ref,
                expires_at=clock.now() + timedelta(hours=1),
            )
        )
    assert run_together(merchant, calls) == ["ok"] * 24
    # paying and cancelling two-SKU orders while others reserve the SKUs in both orders
    more = [
        (lambda ref=ref: services.commit(ref)) if n % 2 else (lambda ref=ref: services.release(ref))
        for n, ref in enumerate(refs)
    ]
    for n in range(24):
        items = [(a.pk, 1), (b.pk, 1)] if n % 2 else [(b.pk, 1), (a.pk, 1)]
        more.append(
            lambda n=n, items=items: services.reserve(
                location=hub,
                items=items,
                reference=f"more:{n}",
                expires_at=clock.now() + timedelta(hours=1),
            )
        )
    assert run_together(merchant, more) == ["ok"] * 48
    assert counts(hub, a) == (1000 - 12, 24)
    assert counts(hub, b) == (1000 - 12, 24)
    assert ledger_problems() == []


def test_the_same_payment_committed_twice_at_once_sells_once():
    merchant = make_merchant()
    hub = make_warehouse(merchant)
    sku = stocked_sku(hub, 5)
    ref = reserve(hub, [(sku.pk, 2)])
    assert run_together(merchant, [lambda: services.commit(ref)] * 8) == ["ok"] * 8
    assert counts(hub, sku) == (3, 0)
    assert StockMovement.unscoped.filter(kind="sale").count() == 1


def test_the_same_refund_restocked_twice_at_once_returns_once():
    merchant = make_merchant()
    hub = make_warehouse(merchant)
    sku = stocked_sku(hub, 5)
    restock = lambda: services.restock(location=hub, items=[(sku.pk, 2)], reference="refund:1")  # noqa: E731
    assert run_together(merchant, [restock] * 6) == ["ok"] * 6
    assert counts(hub, sku) == (7, 0)
    assert ledger_problems() == []


def test_two_requests_creating_a_stores_location_at_once_get_the_same_one():
    from siyu.stores.testing import make_store

    merchant = make_merchant()
    store = make_store(merchant)
    found: list[int] = []
    outcomes = run_together(
        merchant, [lambda: found.append(services.location_for_store(store).pk)] * 6
    )
    assert outcomes == ["ok"] * 6
    assert len(set(found)) == 1


def test_the_same_order_reserved_twice_at_once_is_reserved_once():
    merchant = make_merchant()
    hub = make_warehouse(merchant)
    sku = stocked_sku(hub, 10)
    outcomes = run_together(merchant, [reserver(hub, sku.pk, "order:1", quantity=3)] * 6)
    # the first wins; the others find it done, or collide with it and are told to retry
    assert outcomes.count("ok") >= 1
    assert set(outcomes) <= {"ok", "conflict"}, outcomes
    assert counts(hub, sku) == (10, 3)
    assert StockReservation.unscoped.count() == 1
    assert ledger_problems() == []
