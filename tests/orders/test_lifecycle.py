"""Payment, cancellation, the overdue job, fulfilment and pickup: each move by the table."""

from __future__ import annotations

from datetime import timedelta

import pytest

from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from siyu.core.models import AuditEntry, DomainEvent
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import actor_for
from siyu.inventory.models import StockLevel, StockReservation
from siyu.orders import services
from siyu.orders.errors import OrderAlreadyPaid, OrderCancelled, OrderSoldOut, PaymentNotApplied
from siyu.orders.models import Order, OrderEvent
from siyu.orders.testing import make_order, make_shop
from siyu.stores.testing import make_store, make_store_staff, store_manager_of


def counts(location, sku):
    level = StockLevel.unscoped.get(location=location, sku=sku)
    return level.on_hand, level.reserved


def kinds(order):
    return list(OrderEvent.unscoped.filter(order=order).values_list("kind", flat=True))


def emitted(event_type):
    return DomainEvent.unscoped.filter(event_type=event_type).count()


@pytest.fixture
def order(shop, customer, bound):
    return services.checkout(
        customer,
        fulfilment="pickup",
        store_id=shop.store.pk,
        address_id=None,
        items=[(shop.sku.pk, 2)],
    )


# --- payment ----------------------------------------------------------------------------------


def test_paying_commits_the_stock_once(order, shop):
    paid_at = clock.now()
    paid = services.mark_paid(order, payment_reference="PAY-1", paid_at=paid_at)
    assert paid.status == "paid"
    assert paid.paid_at == paid_at
    assert paid.payment_reference == "PAY-1"
    assert counts(shop.location, shop.sku) == (98, 0)
    again = services.mark_paid(order, payment_reference="PAY-1", paid_at=paid_at)
    assert again.status == "paid"
    assert counts(shop.location, shop.sku) == (98, 0)
    assert kinds(order) == ["placed", "paid"]
    assert emitted("orders.order.paid") == 1
    assert not AuditEntry.objects.filter(action__startswith="orders.").exists()  # no staff did it


def test_another_payment_for_a_paid_order_is_refused_for_a_refund(order, shop):
    services.mark_paid(order, payment_reference="PAY-1", paid_at=clock.now())
    with pytest.raises(OrderAlreadyPaid) as exc:
        services.mark_paid(order, payment_reference="PAY-2", paid_at=clock.now())
    assert isinstance(exc.value, PaymentNotApplied)
    assert exc.value.status == 409
    assert counts(shop.location, shop.sku) == (98, 0)


def test_a_payment_after_cancellation_is_refused_and_nothing_changes(order, shop):
    services.cancel(order, actor=None, reason="")
    with pytest.raises(OrderCancelled) as exc:
        services.mark_paid(order, payment_reference="PAY-1", paid_at=clock.now())
    assert exc.value.code == "order_cancelled"
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert order.paid_at is None
    assert counts(shop.location, shop.sku) == (100, 0)


def test_a_payment_after_the_reservation_expired_sells_if_stock_remains(order, shop):
    from siyu.inventory import services as inventory

    inventory.expire_reservations(now=clock.now() + timedelta(hours=1))
    assert counts(shop.location, shop.sku) == (100, 0)
    services.mark_paid(order, payment_reference="PAY-1", paid_at=clock.now())
    assert counts(shop.location, shop.sku) == (98, 0)


def test_a_payment_after_the_stock_was_sold_to_others_is_refused(bound, customer):
    from siyu.inventory import services as inventory

    shop = make_shop(bound, quantity=2)
    first = services.checkout(
        customer, fulfilment="pickup", store_id=shop.store.pk, items=[(shop.sku.pk, 2)]
    )
    inventory.expire_reservations(now=clock.now() + timedelta(hours=1))
    second = services.checkout(
        customer, fulfilment="pickup", store_id=shop.store.pk, items=[(shop.sku.pk, 2)]
    )
    services.mark_paid(second, payment_reference="PAY-2", paid_at=clock.now())
    with pytest.raises(OrderSoldOut):
        services.mark_paid(first, payment_reference="PAY-1", paid_at=clock.now())
    first.refresh_from_db()
    assert first.status == "pending_payment"
    assert counts(shop.location, shop.sku) == (0, 0)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"payment_reference": "", "paid_at": None}, "payment_reference"),
        ({"payment_reference": "P", "paid_at": "today"}, "paid_at"),
    ],
)
def test_bad_payment_input_is_refused(order, kwargs, field):
    if kwargs["paid_at"] is None:
        kwargs["paid_at"] = clock.now()
    with pytest.raises(InvalidInput) as exc:
        services.mark_paid(order, **kwargs)
    assert field in exc.value.fields


# --- cancellation ----------------------------------------------------------------------------------


def test_the_customer_cancels_before_paying_and_the_stock_comes_back(order, shop, customer):
    cancelled = services.cancel(order, actor=customer, reason="Changed my mind")
    assert cancelled.status == "cancelled"
    assert cancelled.cancel_reason == "Changed my mind"
    assert cancelled.cancelled_at is not None
    assert counts(shop.location, shop.sku) == (100, 0)
    assert StockReservation.objects.get().status == "released"
    again = services.cancel(order, actor=customer, reason="twice")
    assert again.status == "cancelled"
    assert again.cancel_reason == "Changed my mind"
    assert emitted("orders.order.cancelled") == 1
    (event,) = OrderEvent.objects.filter(order=order, kind="cancelled")
    assert event.actor_label == f"customer {customer.pk}"
    assert event.data["released_units"] == 2


def test_another_customer_cannot_cancel(order, bound):
    from siyu.orders.testing import make_customer

    with pytest.raises(NotFound):
        services.cancel(order, actor=make_customer(bound), reason="")


def test_staff_cancel_with_a_reason_and_an_audit_entry(order, owner):
    with pytest.raises(InvalidInput) as exc:
        services.cancel(order, actor=owner, reason="  ")
    assert "reason" in exc.value.fields
    services.cancel(order, actor=owner, reason="Customer called")
    entry = AuditEntry.objects.get(action="orders.order.cancelled")
    assert entry.before["status"] == "pending_payment"
    assert entry.after["status"] == "cancelled"
    assert entry.actor_label == owner.label


def test_a_paid_order_is_not_cancelled_by_hand(order, owner):
    services.mark_paid(order, payment_reference="PAY-1", paid_at=clock.now())
    with pytest.raises(Conflict) as exc:
        services.cancel(order, actor=owner, reason="no")
    assert "refunding it in full" in exc.value.fields["status"]


def test_a_reason_longer_than_200_is_refused(order, customer):
    with pytest.raises(InvalidInput) as exc:
        services.cancel(order, actor=customer, reason="x" * 201)
    assert "reason" in exc.value.fields


# --- the overdue job ------------------------------------------------------------------------------


def test_overdue_orders_are_cancelled_and_release_exactly_their_stock(
    shop, customer, bound, settings
):
    late = [
        services.checkout(
            customer, fulfilment="pickup", store_id=shop.store.pk, items=[(shop.sku.pk, n)]
        )
        for n in (1, 2, 3)
    ]
    settings.ORDER_PAYMENT_MINUTES = 60
    fresh = services.checkout(
        customer, fulfilment="pickup", store_id=shop.store.pk, items=[(shop.sku.pk, 4)]
    )
    paid = services.checkout(
        customer, fulfilment="pickup", store_id=shop.store.pk, items=[(shop.sku.pk, 5)]
    )
    services.mark_paid(paid, payment_reference="P", paid_at=clock.now())
    assert counts(shop.location, shop.sku) == (95, 10)
    with merchant_context(None):
        assert services.cancel_overdue(now=clock.now() + timedelta(minutes=16)) == 3
    for order in late:
        order.refresh_from_db()
        assert order.status == "cancelled"
        assert order.cancel_reason == "Not paid in time"
    fresh.refresh_from_db()
    assert fresh.status == "pending_payment"
    assert counts(shop.location, shop.sku) == (95, 4)
    assert emitted("orders.order.cancelled") == 3
    assert services.cancel_overdue(now=clock.now() + timedelta(minutes=16)) == 0


def test_the_overdue_job_works_across_merchants_in_batches(
    shop, customer, bound, other_merchant, monkeypatch
):
    monkeypatch.setattr(services, "OVERDUE_BATCH", 2)
    for _ in range(3):
        services.checkout(
            customer, fulfilment="pickup", store_id=shop.store.pk, items=[(shop.sku.pk, 1)]
        )
    with merchant_context(other_merchant):
        make_order(other_merchant)
    with merchant_context(None):
        assert services.cancel_overdue(now=clock.now() + timedelta(hours=1)) == 4
    assert Order.unscoped.filter(status="cancelled").count() == 4


def test_the_periodic_task_runs_the_job(shop, customer, bound):
    from siyu.core.scheduler import PERIODIC_JOBS
    from siyu.orders.tasks import cancel_overdue_orders

    assert PERIODIC_JOBS["orders.cancel_overdue"].every == timedelta(seconds=30)
    services.checkout(
        customer, fulfilment="pickup", store_id=shop.store.pk, items=[(shop.sku.pk, 1)]
    )
    Order.objects.update(payment_deadline=clock.now() - timedelta(seconds=1))
    with merchant_context(None):
        assert cancel_overdue_orders.call() == 1


# --- fulfilment ------------------------------------------------------------------------------------


def test_a_delivery_order_is_prepared_shipped_and_completed(bound, owner):
    order = make_order(bound, status="paid", fulfilment="delivery")
    services.start_preparing(owner, order)
    with pytest.raises(InvalidInput) as exc:
        services.mark_shipped(owner, order, "", "12")
    assert set(exc.value.fields) == {"carrier", "tracking_number"}
    shipped = services.mark_shipped(owner, order, " 顺丰速运 ", "SF 1234567890")
    assert (shipped.status, shipped.carrier, shipped.tracking_number) == (
        "shipped",
        "顺丰速运",
        "SF1234567890",
    )
    completed = services.complete(owner, order)
    assert completed.status == "completed"
    assert completed.completed_at is not None
    assert kinds(order) == ["placed", "paid", "preparing", "shipped", "completed"]
    assert emitted("orders.order.shipped") == 1
    assert emitted("orders.order.completed") == 1
    assert list(
        AuditEntry.objects.filter(action__startswith="orders.order")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["orders.order.preparing", "orders.order.shipped", "orders.order.completed"]
    shipped_event = DomainEvent.objects.get(event_type="orders.order.shipped")
    assert shipped_event.payload["tracking_number"] == "SF1234567890"


def test_the_customer_confirms_receipt(bound):
    order = make_order(bound, status="shipped", fulfilment="delivery")
    done = services.complete(order.customer, order)
    assert done.status == "completed"


def test_moves_out_of_turn_are_refused(order, owner):
    with pytest.raises(Conflict) as exc:
        services.start_preparing(owner, order)
    assert exc.value.code == "invalid_transition"
    services.mark_paid(order, payment_reference="P", paid_at=clock.now())
    services.start_preparing(owner, order)
    with pytest.raises(Conflict) as exc:
        services.mark_shipped(owner, order, "SF", "SF123456")
    assert exc.value.fields["status"] == "Only delivery orders can do this."
    with pytest.raises(Conflict):
        services.complete(owner, order)
    assert kinds(order) == ["placed", "paid", "preparing"]


def test_finance_cannot_fulfil(order, bound):
    finance = actor_for(bound, Role.FINANCE)
    services.mark_paid(order, payment_reference="P", paid_at=clock.now())
    with pytest.raises(Forbidden):
        services.start_preparing(finance, order)


def test_store_staff_fulfil_only_their_stores_orders(order, shop, bound):
    services.mark_paid(order, payment_reference="P", paid_at=clock.now())
    elsewhere = store_manager_of(bound, make_store(bound))
    with pytest.raises(NotFound):
        services.start_preparing(elsewhere, order)
    here = store_manager_of(bound, shop.store)
    assert services.start_preparing(here, order).status == "preparing"
    api_key_manager = Actor(merchant=bound, role=Role.STORE_MANAGER, label="key")
    with pytest.raises(NotFound):
        services.mark_ready_for_pickup(api_key_manager, order)


def test_another_merchants_order_is_not_found(bound, other_merchant, owner):
    with merchant_context(other_merchant):
        theirs = make_order(other_merchant, status="paid")
    with pytest.raises(NotFound):
        services.start_preparing(owner, theirs)


# --- pickup -------------------------------------------------------------------------------------------


def test_pickup_is_verified_by_code_at_the_store(order, shop, owner):
    services.mark_paid(order, payment_reference="P", paid_at=clock.now())
    services.start_preparing(owner, order)
    services.mark_ready_for_pickup(owner, order)
    wrong = "000000" if order.pickup_code != "000000" else "111111"
    with pytest.raises(InvalidInput) as exc:
        services.verify_pickup(owner, shop.store, wrong)
    assert exc.value.code == "wrong_pickup_code"
    assert "code" in exc.value.fields
    with pytest.raises(InvalidInput) as exc:
        services.verify_pickup(owner, shop.store, "12ab")
    assert exc.value.fields["code"] == "A pickup code is 6 digits."
    collected = services.verify_pickup(
        owner, shop.store, f" {order.pickup_code[:3]} {order.pickup_code[3:]} "
    )
    assert collected.pk == order.pk
    assert collected.status == "completed"
    assert kinds(order)[-1] == "collected"
    with pytest.raises(InvalidInput):  # a collected order's code is used up
        services.verify_pickup(owner, shop.store, order.pickup_code)


def test_the_code_of_one_store_does_not_open_another(order, shop, owner, bound):
    services.mark_paid(order, payment_reference="P", paid_at=clock.now())
    with pytest.raises(InvalidInput):
        services.verify_pickup(owner, make_store(bound), order.pickup_code)


def test_a_paid_order_can_be_collected_at_the_counter_but_not_an_unpaid_one(order, shop, owner):
    with pytest.raises(Conflict) as exc:
        services.verify_pickup(owner, shop.store, order.pickup_code)
    assert exc.value.code == "not_paid"
    services.mark_paid(order, payment_reference="P", paid_at=clock.now())
    assert services.verify_pickup(owner, order, order.pickup_code).status == "completed"


def test_verifying_against_an_order_checks_its_own_code(order, owner):
    services.mark_paid(order, payment_reference="P", paid_at=clock.now())
    wrong = "000000" if order.pickup_code != "000000" else "111111"
    with pytest.raises(InvalidInput) as exc:
        services.verify_pickup(owner, order, wrong)
    assert exc.value.fields["code"] == "This is not the order's pickup code."


def test_store_staff_verify_only_at_their_store(order, shop, bound):
    services.mark_paid(order, payment_reference="P", paid_at=clock.now())
    other_store = make_store(bound)
    elsewhere = store_manager_of(bound, other_store)
    with pytest.raises(NotFound):
        services.verify_pickup(elsewhere, shop.store, order.pickup_code)
    guide = Actor.for_membership(make_store_staff(bound, Role.SHOPPING_GUIDE, shop.store))
    assert services.verify_pickup(guide, shop.store, order.pickup_code).status == "completed"


def test_mark_paid_takes_a_handful_of_queries(order, django_assert_max_num_queries):
    # the savepoint, the order's row lock, the commit of the reservation (claim, stock
    # UPDATE, ledger; one UPDATE more per further SKU), the order UPDATE, the timeline
    # row and the outbox row: 9 on SQLite, 8 on PostgreSQL (RETURNING saves one)
    with django_assert_max_num_queries(9):
        services.mark_paid(order, payment_reference="PAY-1", paid_at=clock.now())


def test_every_order_event_type_is_registered():
    from siyu.core.events import EVENT_TYPES
    from siyu.orders import events as order_events

    names = {
        "orders.order.placed",
        "orders.order.paid",
        "orders.order.cancelled",
        "orders.order.preparing",
        "orders.order.shipped",
        "orders.order.ready_for_pickup",
        "orders.order.completed",
        "orders.order.refunded",
    }
    assert set(order_events.EVENT_TYPES) == names
    assert names <= set(EVENT_TYPES)
