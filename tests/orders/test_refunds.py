"""What a refund may take back: never more units or money than were paid for."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siyu.core.errors import InvalidInput
from siyu.orders.refunds import RefundableLine, plan_refund

LINES = [
    RefundableLine(1, quantity=2, line_total=3000),
    RefundableLine(2, quantity=1, line_total=1000),
]


def test_a_partial_refund_of_one_unit():
    plan = plan_refund(
        order_total=4800, refunded_total=0, lines=LINES, requested=[(1, 1, 1500)], amount=1500
    )
    assert plan.state == "partial"
    assert plan.refunded_total == 1500


def test_a_full_refund_includes_shipping():
    plan = plan_refund(
        order_total=4800,
        refunded_total=0,
        lines=LINES,
        requested=[(1, 2, 3000), (2, 1, 1000)],
        amount=4800,
    )
    assert plan.state == "full"


@pytest.mark.parametrize(
    ("requested", "amount", "field"),
    [
        ([(9, 1, 0)], 0, "lines.0.order_line_id"),
        ([(1, 3, 0)], 0, "lines.0.quantity"),
        ([(1, -1, 0)], 0, "lines.0.quantity"),
        ([(1, 1, 3001)], 3001, "lines.0.amount"),
        ([(1, 1, 100), (1, 1, 100)], 200, "lines.1.order_line_id"),
        ([(1, 1, 1500)], 1000, "amount"),
        ([], 4801, "amount"),
        ([], 0, "amount"),
        ([], -5, "amount"),
    ],
)
def test_bad_refunds_name_the_field(requested, amount, field):
    with pytest.raises(InvalidInput) as exc:
        plan_refund(
            order_total=4800, refunded_total=0, lines=LINES, requested=requested, amount=amount
        )
    assert field in exc.value.fields


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 5), st.integers(0, 10_000)), min_size=1, max_size=5),
    st.integers(0, 2000),
    st.lists(
        st.tuples(
            st.integers(0, 4), st.integers(0, 6), st.integers(0, 12_000), st.integers(0, 3000)
        ),
        max_size=12,
    ),
)
def test_a_sequence_of_refunds_never_exceeds_what_was_paid(spec, shipping, attempts):
    lines = [RefundableLine(i + 1, q, t) for i, (q, t) in enumerate(spec)]
    total = sum(t for _, t in spec) + shipping
    refunded = 0
    for index, quantity, line_amount, extra in attempts:
        line = lines[index % len(lines)]
        try:
            plan = plan_refund(
                order_total=total,
                refunded_total=refunded,
                lines=lines,
                requested=[(line.id, quantity, line_amount)],
                amount=line_amount + extra,
            )
        except InvalidInput:
            continue
        refunded = plan.refunded_total
        (change,) = plan.lines
        lines = [
            RefundableLine(
                ln.id,
                ln.quantity,
                ln.line_total,
                ln.refunded_quantity + (change.quantity if ln.id == change.line_id else 0),
                ln.refunded_amount + (change.amount if ln.id == change.line_id else 0),
            )
            for ln in lines
        ]
        assert refunded <= total
        for ln in lines:
            assert 0 <= ln.refunded_quantity <= ln.quantity
            assert 0 <= ln.refunded_amount <= ln.line_total
        assert plan.state in {"partial", "full"}
        assert (plan.state == "full") == (
            refunded == total
            and (total > 0 or all(ln.refunded_quantity == ln.quantity for ln in lines))
        )


def test_returning_units_without_money_is_a_partial_refund():
    plan = plan_refund(
        order_total=3000, refunded_total=0, lines=LINES[:1], requested=[(1, 1, 0)], amount=0
    )
    assert plan.state == "partial"
