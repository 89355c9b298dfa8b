"""A seated member whose order is refunded by hand before the team fills leaves the team: the
seat is free again, the remaining members keep seats 1..k, the leader passes on, and a team
nobody is left in closes. Joiners of a new-customers-only team are checked again on payment."""

from __future__ import annotations

import pytest

from siyu.core.actors import Actor
from siyu.core.models import DomainEvent, Merchant
from siyu.core.tenancy import merchant_context
from siyu.customers.testing import make_customer
from siyu.groupbuy import events as groupbuy_events
from siyu.groupbuy.models import GroupBuy, GroupBuySku, Member, Team
from siyu.groupbuy.testing import make_groupbuy
from siyu.orders.models import Order
from siyu.orders.testing import Shop, make_order
from siyu.payments import services as payment_services

from .helpers import after_commit, buy, dispatch, pay_and_seat

pytestmark = pytest.mark.django_db


def refund_by_hand(merchant: Merchant, member: Member, amount: int | None = None) -> None:
    staff = Actor.system(merchant, label="staff")
    with merchant_context(merchant), after_commit():
        order = Order.objects.get(pk=member.order_id)
        payment_services.refund(staff, order, amount=amount, reason="changed their mind")
    dispatch()


def seats(team_id: int) -> list[tuple[int, int | None, bool]]:
    rows = Member.unscoped.filter(team_id=team_id, status="seated").order_by("seat")
    return [(m.customer_id, m.seat, m.is_leader) for m in rows]


def test_a_joiner_refunded_while_the_team_fills_frees_the_seat(
    merchant: Merchant, shop: Shop, activity: GroupBuy
) -> None:
    leader = pay_and_seat(buy(merchant, shop, activity, make_customer(merchant)))
    team_id = leader.team_id
    assert team_id is not None
    joiner = pay_and_seat(buy(merchant, shop, activity, make_customer(merchant), team_id=team_id))
    assert GroupBuySku.unscoped.get(activity=activity).stock_left == 18
    refund_by_hand(merchant, joiner)
    joiner.refresh_from_db()
    assert (joiner.status, joiner.seat) == ("refunded", None)
    team = Team.unscoped.get(pk=team_id)
    assert (team.status, team.seats_taken) == ("open", 1)
    assert GroupBuySku.unscoped.get(activity=activity).stock_left == 19
    left = DomainEvent.unscoped.filter(event_type=groupbuy_events.MEMBER_LEFT).get()
    assert left.payload["order_id"] == joiner.order_id
    assert left.payload["seats_taken"] == 1
    # two more payers fill the team of three: the refunded joiner is not counted
    second = pay_and_seat(buy(merchant, shop, activity, make_customer(merchant), team_id=team_id))
    assert second.seat == 2
    team.refresh_from_db()
    assert team.status == "open"
    third = pay_and_seat(buy(merchant, shop, activity, make_customer(merchant), team_id=team_id))
    team.refresh_from_db()
    assert (team.status, team.seats_taken, third.seat) == ("succeeded", 3, 3)
    assert [c for c, _seat, _lead in seats(team_id)] == [
        leader.customer_id,
        second.customer_id,
        third.customer_id,
    ]


def test_the_leader_refunded_passes_the_team_on(
    merchant: Merchant, shop: Shop, activity: GroupBuy
) -> None:
    leader = pay_and_seat(buy(merchant, shop, activity, make_customer(merchant)))
    team_id = leader.team_id
    assert team_id is not None
    joiner = pay_and_seat(buy(merchant, shop, activity, make_customer(merchant), team_id=team_id))
    refund_by_hand(merchant, leader)
    assert seats(team_id) == [(joiner.customer_id, 1, True)]
    assert Team.unscoped.get(pk=team_id).leader_id == joiner.customer_id
    newcomer = pay_and_seat(buy(merchant, shop, activity, make_customer(merchant), team_id=team_id))
    assert (newcomer.seat, newcomer.is_leader) == (2, False)


def test_a_team_nobody_is_left_in_closes(
    merchant: Merchant, shop: Shop, activity: GroupBuy
) -> None:
    leader = pay_and_seat(buy(merchant, shop, activity, make_customer(merchant)))
    refund_by_hand(merchant, leader)
    team = Team.unscoped.get(pk=leader.team_id)
    assert (team.status, team.seats_taken) == ("failed", 0)
    assert team.closed_at is not None


def test_a_partial_refund_keeps_the_seat(
    merchant: Merchant, shop: Shop, activity: GroupBuy
) -> None:
    leader = pay_and_seat(buy(merchant, shop, activity, make_customer(merchant)))
    refund_by_hand(merchant, leader, amount=100)
    leader.refresh_from_db()
    assert (leader.status, leader.seat) == ("seated", 1)
    assert Team.unscoped.get(pk=leader.team_id).seats_taken == 1


def test_a_refund_after_the_team_succeeded_leaves_it_alone(
    merchant: Merchant, shop: Shop, activity: GroupBuy
) -> None:
    leader = pay_and_seat(buy(merchant, shop, activity, make_customer(merchant)))
    team_id = leader.team_id
    for _ in range(2):
        pay_and_seat(buy(merchant, shop, activity, make_customer(merchant), team_id=team_id))
    refund_by_hand(merchant, leader)
    team = Team.unscoped.get(pk=team_id)
    assert (team.status, team.seats_taken) == ("succeeded", 3)
    leader.refresh_from_db()
    assert leader.status == "seated"
    assert not DomainEvent.unscoped.filter(event_type=groupbuy_events.MEMBER_LEFT).exists()


def test_a_joiner_who_paid_another_order_first_leads_their_own_team(
    merchant: Merchant, shop: Shop
) -> None:
    activity = make_groupbuy(merchant, shop, new_customers_only=True)
    leader = pay_and_seat(buy(merchant, shop, activity, make_customer(merchant)))
    joiner = make_customer(merchant)
    # new when ordering ...
    order = buy(merchant, shop, activity, joiner, team_id=leader.team_id)
    # ... but another order of theirs was paid first
    make_order(merchant, status="paid", customer=joiner, shop=shop)
    member = pay_and_seat(order)
    assert member.status == "seated"
    assert member.team_id != leader.team_id
    assert (member.is_leader, member.is_new_customer) == (True, False)
    assert Team.unscoped.get(pk=leader.team_id).seats_taken == 1
