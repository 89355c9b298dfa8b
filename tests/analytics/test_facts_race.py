"""Two workers delivering events of the same order or customer at the same moment (PostgreSQL).

Each thread writes in its own transaction, held open a moment after its write, so the others
write while its row is uncommitted; without
``ON CONFLICT`` the second INSERT would fail on the unique constraint, and a read-then-write
OR of the flags would lose one of them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection, connections, transaction
from django.db.models import Q

from siyu.analytics import facts
from siyu.analytics.models import ActiveDay, Sale
from siyu.core import clock
from siyu.orders.testing import make_order

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="a race needs PostgreSQL"),
]


def race(*writers: Callable[[], object]) -> list[BaseException]:
    barrier = threading.Barrier(len(writers), timeout=20)
    errors: list[BaseException] = []

    def run(write: Callable[[], object]) -> None:
        try:
            with transaction.atomic():
                barrier.wait()
                write()
                time.sleep(0.3)  # hold the row uncommitted while the others write
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(w,)) for w in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return errors


def test_two_deliveries_of_one_paid_order_write_one_sale(merchant):
    order = make_order(merchant, status="paid")
    Sale.unscoped.all().delete()
    ActiveDay.unscoped.all().delete()
    write = lambda: facts.write_sales(merchant, pk=order.pk)  # noqa: E731
    assert race(write, write, write) == []
    sale = Sale.unscoped.get()
    assert (sale.order_id, sale.amount) == (order.pk, order.total)


def test_flags_written_at_once_are_all_kept(merchant):
    order = make_order(merchant, status="paid")
    ActiveDay.unscoped.all().delete()
    day = clock.local(order.placed_at, merchant.time_zone).date()
    errors = race(
        lambda: facts.write_active_days(merchant, orders=Q(pk=order.pk)),
        lambda: facts.record_visit(merchant, order.customer_id, day),
    )
    assert errors == []
    assert ActiveDay.unscoped.get().kinds == ActiveDay.ORDERED | ActiveDay.VISITED


def test_sales_of_one_customer_written_at_once_keep_the_rollups_whole(merchant):
    """Three paid orders of one customer delivered at the same moment: each writer takes the
    customer's rollup lock in turn, so the rollups equal a rebuild from the facts."""
    from siyu.analytics import rollups
    from siyu.analytics.models import BuyersDay, SalesDay
    from siyu.customers.testing import make_customer

    customer = make_customer(merchant)
    orders = [make_order(merchant, status="paid", customer=customer) for _ in range(3)]
    rollups.rebuild(merchant)

    def rows():
        return (
            sorted(
                SalesDay.unscoped.exclude(paid_orders=0).values_list(
                    "day", "dim", "key", "gmv", "orders"
                )
            ),
            sorted(
                BuyersDay.unscoped.exclude(after_prev=0, after_prev2=0).values_list(
                    "day", "since", "after_prev", "after_prev2"
                )
            ),
        )

    Sale.unscoped.all().delete()
    rollups.rebuild(merchant)  # no sales, empty rollups
    errors = race(*(lambda o=o: facts.write_sales(merchant, pk=o.pk) for o in orders))
    assert errors == []
    maintained = rows()
    assert maintained[0]
    assert maintained[0][0][4] == 3  # the day's three kept orders
    rollups.rebuild(merchant)
    assert rows() == maintained
