"""Group-buy services: buying at the group price, seating on payment, filling, failing with
refunds, activity stock, the per-customer limit, new-customers-only, paused and ended."""

from __future__ import annotations

from datetime import timedelta

import pytest

from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.models import DomainEvent, Merchant
from siyu.core.tenancy import merchant_context
from siyu.customers.testing import make_customer
from siyu.groupbuy import activities, services
from siyu.groupbuy import events as groupbuy_events
from siyu.groupbuy.models import GroupBuy, GroupBuySku, Member, Team
from siyu.groupbuy.testing import make_groupbuy
from siyu.orders import services as order_services
from siyu.orders.models import Order
from siyu.orders.testing import Shop, make_order
from siyu.payments.models import Refund

from .helpers import buy, dispatch, fail_overdue, member_of, pay_and_seat

pytestmark = pytest.mark.django_db


def stock_left(activity: GroupBuy) -> int:
    return GroupBuySku.unscoped.get(activity=activity).stock_left


def events_of(kind: str) -> list[DomainEvent]:
    return list(DomainEvent.unscoped.filter(event_type=kind).order_by("id"))


def test_buying_prices_the_group_price_takes_stock_and_holds_fulfilment(
    merchant: Merchant, shop: Shop, activity: GroupBuy
) -> None:
    customer = make_customer(merchant)
    order = buy(merchant, shop, activity, customer, quantity=2)
    assert (order.subtotal, order.discount_total, order.total) == (6000, 2400, 3600)
    discounts = order.pricing["discounts"]
    assert [d["code"] for d in discounts] == [f"groupbuy:{activity.pk}"]
    assert order.fulfilment_hold == services.HOLD
    assert order.channel == "groupbuy"
    assert order.attribution["groupbuy_id"] == activity.pk
    member = member_of(order)
    assert (member.status, member.discount, member.is_leader) == ("pending", 2400, True)
    assert stock_left(activity) == 18


def test_preview_agrees_with_the_order(merchant: Merchant, shop: Shop, activity: GroupBuy) -> None:
    customer = make_customer(merchant)
    with merchant_context(merchant):
        shown = services.preview(
            customer,
            activity.pk,
            sku_id=shop.sku.pk,
            quantity=1,
            fulfilment="pickup",
            store_id=shop.store.pk,
        )
    order = buy(merchant, shop, activity, customer)
    assert shown.priced.total == order.total == 1800


def test_a_team_fills_with_n_paid_members_and_its_orders_go_to_fulfilment(
    merchant: Merchant, shop: Shop, activity: GroupBuy
) -> None:
    leader = make_customer(merchant)
    first = pay_and_seat(buy(merchant, shop, activity, leader))
    assert first.status == "seated"
    assert first.seat == 1
    assert first.is_leader
    team = Team.unscoped.get(pk=first.team_id)
    assert (team.status, team.seats_taken, team.leader_id) == ("open", 1, leader.pk)
    assert team.deadline == team.opened_at + timedelta(hours=24)
    second = pay_and_seat(buy(merchant, shop, activity, make_customer(merchant), team_id=team.pk))
    assert (second.team_id, second.seat, second.is_leader) == (team.pk, 2, False)
    assert Order.unscoped.get(pk=second.order_id).fulfilment_hold == services.HOLD
    third = pay_and_seat(buy(merchant, shop, activity, make_customer(merchant), team_id=team.pk))
    team.refresh_from_db()
    assert (team.status, team.seats_taken, third.seat) == ("succeeded", 3, 3)
    orders = Order.unscoped.filter(pk__in=[first.order_id, second.order_id, third.order_id])
    assert {o.fulfilment_hold for o in orders} == {""}
    assert {o.status for o in orders} == {"paid"}
    assert len(events_of(groupbuy_events.TEAM_OPENED)) == 1
    assert len(events_of(groupbuy_events.MEMBER_JOINED)) == 3
    succeeded = events_of(groupbuy_events.TEAM_SUCCEEDED)
    assert len(succeeded) == 1
    assert sorted(succeeded[0].payload["order_ids"]) == sorted(o.pk for o in orders)
    staff = Actor.system(merchant, label="staff")
    with merchant_context(merchant):
        prepared = order_services.start_preparing(staff, orders.get(pk=first.order_id))
    assert prepared.status == "preparing"


def test_a_held_order_cannot_be_prepared_or_collected(
    merchant: Merchant, shop: Shop, activity: GroupBuy
) -> None:
    member = pay_and_seat(buy(merchant, shop, activity, make_customer(merchant)))
    order = Order.unscoped.get(pk=member.order_id)
    staff = Actor.system(merchant, label="staff")
    with merchant_context(merchant):
        with pytest.raises(Conflict) as refused:
            order_services.start_preparing(staff, order)
        assert refused.value.code == "fulfilment_held"
        assert "still filling" in refused.value.message
        with pytest.raises(Conflict):
            order_services.verify_pickup(staff, order, order.pickup_code)
    assert Order.unscoped.get(pk=order.pk).status == "paid"


def test_a_payer_of_a_full_team_is_seated_in_another_or_a_new_team(
    merchant: Merchant, shop: Shop, activity: GroupBuy
) -> None:
    leader = pay_and_seat(buy(merchant, shop, activity, make_customer(merchant)))
    team_id = leader.team_id
    # three joiners place orders while the team has room; all three pay
    orders = [
        buy(merchant, shop, activity, make_customer(merchant), team_id=team_id) for _n in range(3)
    ]
    seated = [pay_and_seat(order) for order in orders]
    assert [m.team_id for m in seated[:2]] == [team_id, team_id]
    late = seated[2]
    assert late.status == "seated"
    assert late.team_id != team_id
    assert late.seat == 1
    assert late.is_leader
    assert Team.unscoped.get(pk=team_id).seats_taken == 3


def test_an_extra_payer_joins_another_open_team_before_opening_one(
    merchant: Merchant, shop: Shop, activity: GroupBuy
) -> None:
    a = pay_and_seat(buy(merchant, shop, activity, make_customer(merchant)))
    b = pay_and_seat(buy(merchant, shop, activity, make_customer(merchant)))
    joiners = [
        buy(merchant, shop, activity, make_customer(merchant), team_id=a.team_id) for _n in range(3)
    ]
    seated = [pay_and_seat(order) for order in joiners]
    assert [m.team_id for m in seated] == [a.team_id, a.team_id, b.team_id]


def test_a_team_past_its_deadline_fails_and_every_member_is_refunded(
    merchant: Merchant, shop: Shop, activity: GroupBuy
) -> None:
    leader = pay_and_seat(buy(merchant, shop, activity, make_customer(merchant)))
    joiner = pay_and_seat(
        buy(merchant, shop, activity, make_customer(merchant), team_id=leader.team_id)
    )
    assert stock_left(activity) == 18
    assert fail_overdue() == 0  # not due yet
    later = clock.now() + timedelta(hours=25)
    assert fail_overdue(later) == 1
    assert fail_overdue(later) == 0  # twice: once
    team = Team.unscoped.get(pk=leader.team_id)
    assert team.status == "failed"
    for member in (leader, joiner):
        member.refresh_from_db()
        assert member.status == "refunded"
        order = Order.unscoped.get(pk=member.order_id)
        refund = Refund.unscoped.get(order_id=order.pk)
        assert (refund.status, refund.amount, refund.full) == ("succeeded", 1800, True)
        assert (order.status, order.refund_state, order.refunded_total) == (
            "cancelled",
            "full",
            1800,
        )
    assert stock_left(activity) == 20
    failed = events_of(groupbuy_events.TEAM_FAILED)
    assert len(failed) == 1
    assert sorted(failed[0].payload["order_ids"]) == sorted([leader.order_id, joiner.order_id])
    dispatch()
    assert Refund.unscoped.count() == 2


def test_a_payment_after_the_group_buy_ended_is_refunded(
    merchant: Merchant, shop: Shop, activity: GroupBuy
) -> None:
    order = buy(merchant, shop, activity, make_customer(merchant))
    with merchant_context(merchant):
        activities.set_status(Actor.system(merchant), activity.pk, "end")
    member = pay_and_seat(order)
    assert member.status == "refunded"
    assert member.team_id is None
    assert Refund.unscoped.get(order_id=order.pk).status == "succeeded"
    assert Order.unscoped.get(pk=order.pk).status == "cancelled"
    assert stock_left(activity) == 20


def test_ending_closes_open_teams_for_the_minute_job(
    merchant: Merchant, shop: Shop, activity: GroupBuy
) -> None:
    leader = pay_and_seat(buy(merchant, shop, activity, make_customer(merchant)))
    with merchant_context(merchant):
        activities.set_status(Actor.system(merchant), activity.pk, "end")
    assert fail_overdue() == 1
    leader.refresh_from_db()
    assert leader.status == "refunded"


def test_activity_stock_runs_out_and_nothing_is_written(merchant: Merchant, shop: Shop) -> None:
    activity = make_groupbuy(merchant, shop, stock=2, group_price=1800)
    buy(merchant, shop, activity, make_customer(merchant), quantity=2)
    customer = make_customer(merchant)
    with pytest.raises(Conflict) as refused:
        buy(merchant, shop, activity, customer)
    assert refused.value.code == "sold_out"
    assert "quantity" in refused.value.fields
    assert not Order.unscoped.filter(customer=customer).exists()
    assert stock_left(activity) == 0


def test_cancelling_an_unpaid_order_gives_the_stock_back(
    merchant: Merchant, shop: Shop, activity: GroupBuy
) -> None:
    customer = make_customer(merchant)
    order = buy(merchant, shop, activity, customer)
    with merchant_context(merchant):
        order_services.cancel(order, actor=customer, reason="changed my mind")
    dispatch()
    assert member_of(order).status == "cancelled"
    assert stock_left(activity) == 20


def test_the_per_customer_limit(merchant: Merchant, shop: Shop) -> None:
    activity = make_groupbuy(merchant, shop, per_customer_limit=2)
    customer = make_customer(merchant)
    buy(merchant, shop, activity, customer)
    buy(merchant, shop, activity, customer)
    with pytest.raises(InvalidInput) as refused:
        buy(merchant, shop, activity, customer)
    assert refused.value.code == "limit_reached"
    assert "activity" in refused.value.fields


def test_joining_a_team_twice_is_refused(merchant: Merchant, shop: Shop) -> None:
    activity = make_groupbuy(merchant, shop, per_customer_limit=5)
    leader = pay_and_seat(buy(merchant, shop, activity, make_customer(merchant)))
    customer = make_customer(merchant)
    buy(merchant, shop, activity, customer, team_id=leader.team_id)
    with pytest.raises(InvalidInput) as refused:
        buy(merchant, shop, activity, customer, team_id=leader.team_id)
    assert "team_id" in refused.value.fields


def test_new_customers_only_refuses_returning_joiners_but_not_leaders(
    merchant: Merchant, shop: Shop
) -> None:
    activity = make_groupbuy(merchant, shop, new_customers_only=True)
    returning = make_customer(merchant)
    make_order(merchant, status="paid", customer=returning, shop=shop)
    leader = pay_and_seat(buy(merchant, shop, activity, returning))  # a leader may be anyone
    assert leader.status == "seated"
    assert not leader.is_new_customer
    other = make_customer(merchant)
    make_order(merchant, status="paid", customer=other, shop=shop)
    with pytest.raises(InvalidInput) as refused:
        buy(merchant, shop, activity, other, team_id=leader.team_id)
    assert "new customers" in refused.value.fields["team_id"]
    newcomer = pay_and_seat(
        buy(merchant, shop, activity, make_customer(merchant), team_id=leader.team_id)
    )
    assert newcomer.team_id == leader.team_id
    assert newcomer.is_new_customer


@pytest.mark.parametrize(
    ("status", "message"),
    [("paused", "paused"), ("draft", None)],
)
def test_a_paused_or_draft_group_buy_cannot_be_bought(
    merchant: Merchant, shop: Shop, status: str, message: str | None
) -> None:
    activity = make_groupbuy(merchant, shop, status=status)
    if message is None:
        with pytest.raises(NotFound):
            buy(merchant, shop, activity, make_customer(merchant))
        return
    with pytest.raises(Conflict) as refused:
        buy(merchant, shop, activity, make_customer(merchant))
    assert refused.value.code == "not_running"
    assert message in refused.value.message


def test_a_paused_group_buy_still_seats_orders_paid_meanwhile(
    merchant: Merchant, shop: Shop, activity: GroupBuy
) -> None:
    order = buy(merchant, shop, activity, make_customer(merchant))
    with merchant_context(merchant):
        activities.set_status(Actor.system(merchant), activity.pk, "pause")
    assert pay_and_seat(order).status == "seated"


def test_a_closed_or_full_team_cannot_be_chosen(merchant: Merchant, shop: Shop) -> None:
    activity = make_groupbuy(merchant, shop, team_size=2)
    leader = pay_and_seat(buy(merchant, shop, activity, make_customer(merchant)))
    pay_and_seat(buy(merchant, shop, activity, make_customer(merchant), team_id=leader.team_id))
    with pytest.raises(InvalidInput) as refused:
        buy(merchant, shop, activity, make_customer(merchant), team_id=leader.team_id)
    assert refused.value.fields["team_id"] == "This team is closed."


def test_another_merchants_activity_is_not_found(
    merchant: Merchant, other_merchant: Merchant, shop: Shop, activity: GroupBuy
) -> None:
    stranger = make_customer(other_merchant)
    with merchant_context(other_merchant), pytest.raises(NotFound):
        services.buy(
            stranger, activity.pk, sku_id=shop.sku.pk, fulfilment="pickup", store_id=shop.store.pk
        )


def test_seating_replays_change_nothing(merchant: Merchant, shop: Shop, activity: GroupBuy) -> None:
    member = pay_and_seat(buy(merchant, shop, activity, make_customer(merchant)))
    with merchant_context(merchant):
        again = services.seat_paid(member.order_id)
        again = services.seat_paid(member.order_id)
    assert again is not None
    assert (again.team_id, again.seat) == (member.team_id, 1)
    assert Team.unscoped.get(pk=member.team_id).seats_taken == 1
    assert len(events_of(groupbuy_events.MEMBER_JOINED)) == 1
    assert Member.unscoped.filter(status="seated").count() == 1


def test_a_paid_member_left_pending_is_seated_by_the_minute_job(
    merchant: Merchant, shop: Shop, activity: GroupBuy
) -> None:
    from siyu.payments.testing import pay

    order = buy(merchant, shop, activity, make_customer(merchant))
    pay(order)  # no consumer ran (the test's transaction never commits)
    assert member_of(order).status == "pending"
    assert services.seat_stragglers() == 0  # paid a moment ago: the consumer's turn
    assert services.seat_stragglers(clock.now() + timedelta(minutes=3)) == 1
    assert member_of(order).status == "seated"
    assert services.seat_stragglers(clock.now() + timedelta(minutes=3)) == 0


def test_time_moves_scheduled_group_buys_to_running_and_past_ones_to_ended(
    merchant: Merchant, shop: Shop
) -> None:
    later = make_groupbuy(merchant, shop, starts_at=clock.now() + timedelta(hours=2))
    assert later.status == "scheduled"
    assert activities.advance_due() == 0
    assert activities.advance_due(clock.now() + timedelta(hours=3)) == 1
    later.refresh_from_db()
    assert later.status == "running"
    assert activities.advance_due(clock.now() + timedelta(days=30)) == 1
    later.refresh_from_db()
    assert later.status == "ended"
