"""The order state machine table."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from siyu.core.errors import Conflict
from siyu.orders import states
from siyu.orders.models import Order
from siyu.orders.states import ActorKind, Transition, can, next_states, require


@dataclass
class FakeOrder:
    status: str
    fulfilment: str = "delivery"
    refund_state: str = "none"


def test_statuses_match_the_model():
    assert set(states.STATUSES) == set(Order.Status.values)
    assert set(states.STATUS_LABELS) == set(Order.Status.values)


def test_the_happy_paths():
    assert next_states(FakeOrder("pending_payment")) == ["paid", "cancelled"]
    assert next_states(FakeOrder("paid")) == ["preparing"]
    assert next_states(FakeOrder("paid", "pickup")) == ["preparing", "completed"]
    assert next_states(FakeOrder("preparing")) == ["shipped"]
    assert next_states(FakeOrder("preparing", "pickup")) == ["ready_for_pickup", "completed"]
    assert next_states(FakeOrder("shipped")) == ["completed"]
    assert next_states(FakeOrder("ready_for_pickup", "pickup")) == ["completed"]
    assert next_states(FakeOrder("completed")) == []
    assert next_states(FakeOrder("cancelled")) == []


def test_fulfilment_decides_between_shipping_and_pickup():
    assert can(Transition.SHIP, FakeOrder("preparing", "delivery"))
    assert not can(Transition.SHIP, FakeOrder("preparing", "pickup"))
    assert can(Transition.MARK_READY, FakeOrder("preparing", "pickup"))
    assert not can(Transition.MARK_READY, FakeOrder("preparing", "delivery"))
    assert not can(Transition.COLLECT, FakeOrder("ready_for_pickup", "delivery"))


def test_a_paid_order_is_cancelled_only_after_a_full_refund_by_payments():
    paid = FakeOrder("paid")
    assert not can(Transition.CANCEL, paid)
    assert not can(Transition.CANCEL_REFUNDED, paid)
    assert not can(Transition.CANCEL_REFUNDED, FakeOrder("paid", refund_state="partial"))
    refunded = FakeOrder("paid", refund_state="full")
    assert can(Transition.CANCEL_REFUNDED, refunded, ActorKind.PAYMENTS)
    assert not can(Transition.CANCEL_REFUNDED, refunded, ActorKind.STAFF)
    assert not can(Transition.CANCEL_REFUNDED, FakeOrder("shipped", refund_state="full"))


def test_who_may_trigger_what():
    pending = FakeOrder("pending_payment")
    assert can(Transition.CANCEL, pending, ActorKind.CUSTOMER)
    assert can(Transition.CANCEL, pending, ActorKind.SYSTEM)
    assert can(Transition.CANCEL, pending, "staff")
    assert not can(Transition.PAY, pending, ActorKind.STAFF)
    assert not can(Transition.PAY, pending, ActorKind.CUSTOMER)
    assert can(Transition.PAY, pending, ActorKind.PAYMENTS)
    assert not can(Transition.START_PREPARING, FakeOrder("paid"), ActorKind.CUSTOMER)
    assert can(Transition.COMPLETE, FakeOrder("shipped"), ActorKind.CUSTOMER)
    assert not can(Transition.COLLECT, FakeOrder("ready_for_pickup", "pickup"), ActorKind.CUSTOMER)
    assert next_states(FakeOrder("pending_payment"), ActorKind.CUSTOMER) == ["cancelled"]


def test_require_explains_why_not():
    with translation.override("en"):
        with pytest.raises(Conflict) as exc:
            require(Transition.SHIP, FakeOrder("pending_payment"))
        assert exc.value.code == "invalid_transition"
        assert "Pending payment" in exc.value.fields["status"]
        with pytest.raises(Conflict) as exc:
            require(Transition.SHIP, FakeOrder("preparing", "pickup"))
        assert exc.value.fields["status"] == "Only delivery orders can do this."
        with pytest.raises(Conflict) as exc:
            require(Transition.CANCEL, FakeOrder("paid"), ActorKind.STAFF)
        assert "refunding it in full" in exc.value.fields["status"]
        with pytest.raises(Conflict) as exc:
            require(Transition.PAY, FakeOrder("pending_payment"), ActorKind.CUSTOMER)
        assert exc.value.code == "transition_not_allowed"
    assert (
        require(Transition.PAY, FakeOrder("pending_payment"), ActorKind.PAYMENTS).target == "paid"
    )


def test_final_states_lead_nowhere_and_every_state_can_end():
    for status in states.FINAL:
        assert states.reachable(status) == set()
    for status in set(states.STATUSES) - states.FINAL:
        assert states.reachable(status) & states.FINAL


@given(
    st.sampled_from(states.STATUSES),
    st.sampled_from(["delivery", "pickup"]),
    st.sampled_from(["none", "partial", "full"]),
    st.sampled_from([*ActorKind, None]),
)
def test_next_states_agree_with_can(status, fulfilment, refund_state, actor):
    order = FakeOrder(status, fulfilment, refund_state)
    targets = {r.target for r in states.RULES.values() if can(r.transition, order, actor)}
    assert set(next_states(order, actor)) == targets
    assert status not in targets  # no transition goes nowhere
