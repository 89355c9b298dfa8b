"""Concurrent payers on PostgreSQL: a team never has more than N members.

64 joiners who all chose the same team of 3 pay at once, from a pool of 32 threads (one
connection each; the PostgreSQL here allows 100 connections, shared with other test runs)
released together by a barrier. Each payment goes through the sandbox provider's signed
notification (``handle_notification`` → ``mark_paid``), then the payer is seated by the same
function the ``orders.order.paid`` consumer calls — while the outbox dispatcher, woken by the
commits, seats others from its own transaction. Every payer must end up seated in a team of
at most 3, or refunded.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connection, connections

from siyu.core.outbox import dispatch_pending
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_merchant
from siyu.core.testing import run_in_pool as pool
from siyu.customers.testing import make_customer
from siyu.groupbuy import services
from siyu.groupbuy.models import Member, Team
from siyu.groupbuy.testing import make_groupbuy
from siyu.orders.models import Order
from siyu.orders.testing import make_shop
from siyu.payments.models import Refund
from siyu.payments.testing import pay

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="a real race between database connections needs PostgreSQL",
    ),
    pytest.mark.django_db(transaction=True),
]

THREADS = 32
JOINERS = 64


def run_in_pool(calls: list[Callable[[], object]]) -> list[object]:
    return pool(calls, threads=THREADS, timeout=60)


def test_64_concurrent_joiners_paying_on_teams_of_3_never_make_a_team_of_4() -> None:
    merchant = make_merchant()
    shop = make_shop(merchant, price=3000, quantity=500)
    activity = make_groupbuy(merchant, shop, team_size=3, group_price=1800, stock=200)
    with merchant_context(merchant):
        leader_order = services.buy(
            make_customer(merchant),
            activity.pk,
            sku_id=shop.sku.pk,
            fulfilment="pickup",
            store_id=shop.store.pk,
        )
    pay(leader_order)
    with merchant_context(merchant):
        services.seat_paid(leader_order.pk)
    team = Team.unscoped.get(activity=activity)
    orders: list[Order] = []
    with merchant_context(merchant):
        for _n in range(JOINERS):
            orders.append(
                services.buy(
                    make_customer(merchant),
                    activity.pk,
                    sku_id=shop.sku.pk,
                    team_id=team.pk,
                    fulfilment="pickup",
                    store_id=shop.store.pk,
                )
            )

    def pay_and_seat(order: Order) -> Callable[[], object]:
        def call() -> object:
            pay(order)
            with merchant_context(merchant):
                return services.seat_paid(order.pk)

        return call

    outcomes = run_in_pool([pay_and_seat(o) for o in orders])
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert not errors, Counter(repr(e) for e in errors)
    dispatch_pending()  # whatever the threads skipped, the consumer seats now
    with merchant_context(merchant):
        services.seat_stragglers()

    members = list(Member.unscoped.filter(activity=activity))
    assert len(members) == JOINERS + 1
    statuses = Counter(m.status for m in members)
    assert set(statuses) <= {"seated", "refunded"}, statuses
    per_team = Counter(m.team_id for m in members if m.status == "seated")
    teams = {t.pk: t for t in Team.unscoped.filter(activity=activity)}
    for team_id, count in per_team.items():
        assert count <= 3, (team_id, count)
        assert teams[team_id].seats_taken == count
        seats = sorted(m.seat for m in members if m.team_id == team_id and m.status == "seated")
        assert seats == list(range(1, count + 1))
    for t in teams.values():
        assert t.seats_taken <= t.size == 3
        assert (t.status == "succeeded") == (t.seats_taken == 3)
    # the chosen team filled with exactly two of the joiners
    assert per_team[team.pk] == 3
    # refunded payers (none expected while the activity runs) got their money back
    refunded = [m for m in members if m.status == "refunded"]
    assert Refund.unscoped.filter(order_id__in=[m.order_id for m in refunded]).count() == len(
        refunded
    )
    # every succeeded team's orders left the hold; the filling ones are still held
    for m in members:
        held = Order.unscoped.get(pk=m.order_id).fulfilment_hold
        assert (held == "") == (teams[m.team_id].status == "succeeded"), m


def test_failing_due_teams_twice_at_once_refunds_each_member_once() -> None:
    from datetime import timedelta

    from siyu.core import clock

    merchant = make_merchant()
    shop = make_shop(merchant, price=3000, quantity=500)
    activity = make_groupbuy(merchant, shop, team_size=5, group_price=1800, stock=200)
    paid: list[Order] = []
    with merchant_context(merchant):
        for _n in range(6):
            order = services.buy(
                make_customer(merchant),
                activity.pk,
                sku_id=shop.sku.pk,
                fulfilment="pickup",
                store_id=shop.store.pk,
            )
            paid.append(order)
    for order in paid:
        pay(order)
        with merchant_context(merchant):
            services.seat_paid(order.pk)
    later = clock.now() + timedelta(hours=30)
    barrier = threading.Barrier(2, timeout=30)
    results: list[object] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(services.fail_overdue(later))
        except Exception as exc:
            results.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r for r in results if isinstance(r, int)) == 6, results
    assert Team.unscoped.filter(activity=activity, status="failed").count() == 6
    refunds = Counter(
        Refund.unscoped.filter(order_id__in=[o.pk for o in paid]).values_list("order_id", flat=True)
    )
    assert refunds == Counter({o.pk: 1 for o in paid})
    assert set(Refund.unscoped.values_list("status", flat=True)) == {"succeeded"}
    assert {o.status for o in Order.unscoped.filter(pk__in=[o.pk for o in paid])} == {"cancelled"}
