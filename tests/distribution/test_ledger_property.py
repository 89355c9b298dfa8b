"""The issue's property, on the real ledger: "for any sequence of pay, partial refund,
complete and settle events, the commission ledger sums to exactly the expected amount and
never exceeds the configured rate of what was finally paid".

Orders of one to three lines go through the real services (checkout, payment, refunds,
pickup, the outbox consumer, ``settle_merchant``); the expected commission is computed here
from the rule's definition (docs/distribution.md, "Rounding"), not by the code under test.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.outbox import dispatch_pending
from siyu.core.tenancy import merchant_context
from siyu.distribution import selectors, services
from siyu.distribution.models import CommissionEntry
from siyu.distribution.testing import make_distributor
from siyu.orders import services as orders
from siyu.orders.models import Order, OrderLine
from siyu.orders.testing import make_customer, make_order, make_shop

pytestmark = pytest.mark.django_db

PRICES = (1999, 3000, 12_345)

rule_st = st.one_of(
    st.tuples(st.just("percent"), st.integers(1, 3000)),
    st.tuples(st.just("fixed"), st.integers(1, 5000)),
)
step_st = st.one_of(
    st.tuples(st.just("refund"), st.integers(0, 2), st.integers(1, 20_000)),
    st.tuples(st.just("complete"), st.just(0), st.just(0)),
    st.tuples(st.just("settle"), st.sampled_from([3, 8]), st.just(0)),
    st.tuples(st.just("replay"), st.just(0), st.just(0)),
)


def expected(kind: str, value: int, quantity: int, paid: int, kept: int) -> int:
    """The commission of a line by the rule's definition (not by siyu.distribution.commission)."""
    if paid <= 0 or kept <= 0:
        return 0
    if kind == "percent":
        return kept * value // 10_000
    return min(value * quantity, paid) * kept // paid


def ceiling(kind: str, value: int, quantity: int, kept: int) -> float:
    """The configured rate of what was kept: never more than this."""
    return kept * value / 10_000 if kind == "percent" else min(value * quantity, kept)


def complete(staff: Actor, order: Order) -> Order:
    """Collect the pickup order at the counter. An order refunded in full never completes
    (a full refund cancels it); any other order must, or the test fails."""
    if order.status == Order.Status.CANCELLED or order.refund_state == Order.RefundState.FULL:
        return order
    if order.status == Order.Status.PAID:
        order = orders.start_preparing(staff, order)
    if order.status == Order.Status.PREPARING:
        order = orders.verify_pickup(staff, order, order.pickup_code)
    assert order.status == Order.Status.COMPLETED
    return order


def test_any_sequence_of_pay_refund_complete_settle_keeps_the_ledger_exact(merchant):
    shops = [make_shop(merchant, price=p, quantity=10_000) for p in PRICES]
    store = shops[0].store
    same_store = [shops[0]] + [
        make_shop(merchant, price=p, quantity=10_000, store=store) for p in PRICES[1:]
    ]
    parent = make_distributor(merchant)
    seller = make_distributor(merchant, invited_by=parent)
    system = Actor.system(merchant)
    counter = iter(range(1_000_000))

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(
        quantities=st.lists(st.integers(1, 3), min_size=1, max_size=3),
        rule=rule_st,
        second_bp=st.one_of(st.none(), st.integers(1, 2000)),
        steps=st.lists(step_st, max_size=8),
    )
    def run(quantities, rule, second_bp, steps):
        kind, value = rule
        with merchant_context(merchant):
            services.set_rule(
                system,
                scope="default",
                kind=kind,
                rate_bp=value if kind == "percent" else 0,
                fixed_fen=value if kind == "fixed" else 0,
            )
            services.update_settings(
                system,
                {"second_level": second_bp is not None, "second_level_rate_bp": second_bp or 0},
            )
        items = [(same_store[i].sku.pk, q) for i, q in enumerate(quantities)]
        order = make_order(
            merchant,
            status="paid",
            shop=same_store[0],
            items=items,
            attribution={"distributor_id": seller.pk},
            customer=make_customer(merchant),
        )
        dispatch_pending()
        lines = list(OrderLine.unscoped.filter(order=order).order_by("pk"))
        staff = Actor.system(merchant, label="test staff")
        for step, n, amount in steps:
            with merchant_context(merchant):
                order = Order.objects.get(pk=order.pk)
                if step == "refund":
                    line = OrderLine.objects.get(pk=lines[n % len(lines)].pk)
                    amount = min(amount, line.line_total - line.refunded_amount)
                    if amount <= 0:
                        continue
                    orders.apply_refund(
                        order,
                        lines=[(line.pk, 0, amount)],
                        amount=amount,
                        restock=False,
                        reference=f"P-{order.pk}-{next(counter)}",
                    )
                elif step == "complete":
                    order = complete(staff, order)
                elif step == "settle":
                    services.settle_merchant(merchant, now=clock.now() + timedelta(days=n))
                else:  # a replayed paid event and a replayed refund sync append nothing
                    before = CommissionEntry.objects.filter(order=order).count()
                    services.sync_order_commission(order.pk, cause=services.PAID)
                    services.sync_order_commission(order.pk, cause=f"P-{order.pk}-0")
                    assert CommissionEntry.objects.filter(order=order).count() == before
            dispatch_pending()
            check(order, lines, kind, value, second_bp, final=False)
        with merchant_context(merchant):
            order = complete(staff, Order.objects.get(pk=order.pk))
            dispatch_pending()
            services.settle_merchant(merchant, now=clock.now() + timedelta(days=8))
        check(order, lines, kind, value, second_bp, final=True)

    def check(order, lines, kind, value, second_bp, *, final):
        entries = list(CommissionEntry.unscoped.filter(order_id=order.pk))
        fresh = {line.pk: line for line in OrderLine.unscoped.filter(order_id=order.pk)}
        completed = Order.unscoped.get(pk=order.pk).status == Order.Status.COMPLETED
        levels = [(1, kind, value, seller.pk)]
        if second_bp is not None:
            levels.append((2, "percent", second_bp, parent.pk))
        total_earned = 0
        for line in lines:
            now = fresh[line.pk]
            kept = now.line_total - now.refunded_amount
            for level, k, v, who in levels:
                mine = [e for e in entries if (e.order_line_id, e.level) == (line.pk, level)]
                assert all(e.distributor_id == who for e in mine)
                earned = sum(e.amount for e in mine if e.kind != "settled")
                settled = sum(
                    e.amount
                    for e in mine
                    if e.kind == "settled" or (e.kind == "reversed" and e.from_settled)
                )
                assert earned == expected(k, v, line.quantity, line.line_total, kept)
                assert 0 <= earned <= ceiling(k, v, line.quantity, kept)
                assert sum(1 for e in mine if e.kind == "pending") == 1
                assert sum(1 for e in mine if e.kind == "settled") <= 1
                assert all(e.amount <= 0 for e in mine if e.kind == "reversed")
                if final:
                    assert settled == (earned if completed else 0)
                total_earned += earned
        assert {e.level for e in entries} <= {1, 2}  # never a third level
        with merchant_context(merchant):
            b = selectors.balances(seller.pk)
        assert b.pending + b.settled == b.earned  # balances are the sums

    run()
