"""Refund allocation per line (pure): examples and properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from siyu.core.errors import InvalidInput
from siyu.payments import allocation
from siyu.payments.allocation import LineRefund, LineState


def test_each_unit_returns_its_share_and_the_last_unit_the_remainder():
    line = LineState(line_id=1, quantity=3, paid=1000)  # ¥10.00 for three, after discounts
    assert allocation.refund_amount(line, 1) == 333
    assert allocation.refund_amount(line, 2) == 666
    assert allocation.refund_amount(line, 3) == 1000
    after_two = LineState(1, 3, 1000, refunded_quantity=2, refunded_amount=666)
    assert allocation.refund_amount(after_two, 1) == 334


def test_a_discounted_line_refunds_its_paid_price_not_its_list_price():
    # 2 × ¥18.00 with ¥6.00 off the line: 3000 paid; one unit returns ¥15.00
    line = LineState(line_id=7, quantity=2, paid=3000)
    assert allocation.allocate({7: line}, [(7, 1)]) == [LineRefund(7, 1, 1500)]


def test_unknown_duplicate_zero_and_too_many_are_refused_by_field():
    lines = {
        1: LineState(1, 2, 2000),
        2: LineState(2, 1, 500, refunded_quantity=1, refunded_amount=500),
    }
    with pytest.raises(InvalidInput) as caught:
        allocation.allocate(lines, [(99, 1), (1, 3), (1, 1), (2, 1)])
    assert caught.value.fields == {
        "lines.0.order_line_id": "This is not a line of the order.",
        "lines.1.quantity": "At most 2 can be refunded.",
        "lines.2.order_line_id": "This line is listed twice.",
        "lines.3.quantity": "Nothing of this line is left to refund.",
    }
    with pytest.raises(InvalidInput) as caught:
        allocation.allocate(lines, [(1, 0)])
    assert caught.value.fields == {"lines.0.quantity": "Refund at least one unit."}
    with pytest.raises(InvalidInput) as caught:
        allocation.allocate(lines, [])
    assert "lines" in caught.value.fields


def test_everything_left_takes_each_line_remainder():
    lines = [LineState(1, 3, 1000, 1, 333), LineState(2, 1, 500, 1, 500), LineState(3, 2, 99)]
    assert allocation.everything_left(lines) == [LineRefund(1, 2, 667), LineRefund(3, 2, 99)]


def test_cap_cuts_from_the_last_line_back():
    refunds = [LineRefund(1, 1, 500), LineRefund(2, 1, 300)]
    assert allocation.cap(refunds, 1000) == refunds
    assert allocation.cap(refunds, 600) == [LineRefund(1, 1, 500), LineRefund(2, 1, 100)]
    assert allocation.cap(refunds, 200) == [LineRefund(1, 1, 200), LineRefund(2, 1, 0)]


@st.composite
def line_and_batches(draw):
    quantity = draw(st.integers(min_value=1, max_value=50))
    paid = draw(st.integers(min_value=0, max_value=10**9))
    batches = []
    left = quantity
    while left:
        size = draw(st.integers(min_value=1, max_value=left))
        batches.append(size)
        left -= size
    return LineState(1, quantity, paid), batches


@given(line_and_batches())
def test_refunding_every_unit_in_any_batches_returns_exactly_what_the_line_paid(case):
    line, batches = case
    returned = []
    for size in batches:
        [refund] = allocation.allocate({1: line}, [(1, size)])
        assert 0 <= refund.amount <= line.refundable_amount
        returned.append(refund.amount)
        line = allocation.after(line, refund)
        assert line.refunded_amount <= line.paid
    assert sum(returned) == line.paid
    assert line.refundable_quantity == 0


@given(line_and_batches(), st.integers(min_value=1, max_value=50))
def test_partial_refunds_never_exceed_the_paid_share_of_their_units(case, stop_after):
    line, batches = case
    refunded_units = 0
    for size in batches[:stop_after]:
        [refund] = allocation.allocate({1: line}, [(1, size)])
        line = allocation.after(line, refund)
        refunded_units += size
        # what went back is never more than the units' share, rounded up by the remainder
        if line.refundable_quantity:
            assert line.refunded_amount == line.paid // line.quantity * refunded_units
        assert line.refunded_amount <= line.paid


@given(
    st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=8),
    st.integers(min_value=0, max_value=10**7),
)
def test_cap_never_exceeds_the_limit_nor_raises_a_line(amounts, limit):
    refunds = [LineRefund(i, 1, a) for i, a in enumerate(amounts)]
    capped = allocation.cap(refunds, limit)
    assert allocation.total(capped) == min(limit, allocation.total(refunds))
    assert all(0 <= c.amount <= r.amount for c, r in zip(capped, refunds, strict=True))
