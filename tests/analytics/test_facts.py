"""Analytics facts kept by the outbox consumers, driven through the real services.

Orders are placed, paid and refunded by the order services, customers join and leave groups
through the community services, invitations and bindings through referrals and distribution;
the outbox is then delivered as the worker would, and the fact tables are read back.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from siyu.analytics.models import ActiveDay, GroupSpan, ReferralLink, Sale
from siyu.community import services as community
from siyu.community.testing import make_group
from siyu.core.actors import Actor
from siyu.core.models import DomainEvent
from siyu.core.outbox import dispatch_pending
from siyu.core.tenancy import merchant_context
from siyu.distribution import services as distribution
from siyu.distribution.testing import make_distributor
from siyu.orders import services as order_services
from siyu.orders.models import Order
from siyu.orders.testing import make_customer, make_order, make_shop
from siyu.referrals.testing import invite, make_programme

pytestmark = pytest.mark.django_db


def refund(order: Order, amount: int, reference: str) -> Order:
    with merchant_context(order.merchant):
        line = order.lines.order_by("pk").first()
        assert line is not None
        return order_services.apply_refund(
            order, lines=[(line.pk, 0, amount)], amount=amount, restock=False, reference=reference
        )


def sale_of(order: Order) -> Sale:
    return Sale.unscoped.get(merchant_id=order.merchant_id, order_id=order.pk)


def replay(event_type: str) -> None:
    """Deliver every event of ``event_type`` again, as after a crash before it was marked."""
    DomainEvent.unscoped.filter(event_type=event_type).update(dispatched_at=None)
    dispatch_pending()


def snapshot() -> list[tuple[object, ...]]:
    return [
        *Sale.unscoped.order_by("pk").values_list(),
        *ActiveDay.unscoped.order_by("pk").values_list(),
        *GroupSpan.unscoped.order_by("pk").values_list(),
        *ReferralLink.unscoped.order_by("pk").values_list(),
    ]


# --- sales ---------------------------------------------------------------------------------------


def test_a_paid_order_is_one_sale_with_its_amount_day_and_attribution(merchant):
    shop = make_shop(merchant, price=2350)
    attribution = {
        "group_id": 71,
        "guide_id": 72,
        "distributor_id": 73,
        "campaign_id": 74,
        "live_room_id": 75,
        "channel": "group",
    }
    order = make_order(merchant, status="paid", shop=shop, quantity=2, attribution=attribution)
    dispatch_pending()
    sale = sale_of(order)
    order.refresh_from_db()
    assert sale.source == "siyu"
    assert (sale.customer_id, sale.placed_at, sale.amount, sale.refunded) == (
        order.customer_id,
        order.placed_at,
        order.total,
        0,
    )
    assert order.total == 4700
    assert sale.store_id == shop.store.pk
    assert (
        sale.channel,
        sale.group_id,
        sale.guide_id,
        sale.distributor_id,
        sale.campaign_id,
        sale.live_room_id,
    ) == (order.channel, 71, 72, 73, 74, 75)
    day = ActiveDay.unscoped.get(customer_id=order.customer_id)
    assert day.kinds == ActiveDay.ORDERED
    assert day.day == sale.day


def test_refunds_set_the_refunded_total_and_replays_change_nothing(merchant):
    order = make_order(merchant, status="paid", shop=make_shop(merchant, price=5000))
    dispatch_pending()
    order = refund(order, 1200, "R1")
    dispatch_pending()
    assert sale_of(order).refunded == 1200
    order = refund(order, 800, "R2")
    dispatch_pending()
    assert sale_of(order).refunded == 2000
    before = snapshot()
    replay("orders.order.paid")
    replay("orders.order.refunded")
    replay("orders.order.refunded")
    assert snapshot() == before
    assert Sale.unscoped.count() == 1


def test_a_full_refund_keeps_the_sale_fully_refunded(merchant):
    order = make_order(merchant, status="paid", shop=make_shop(merchant, price=3000))
    order = refund(order, 3000, "R-all")
    dispatch_pending()
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    sale = sale_of(order)
    assert (sale.amount, sale.refunded, sale.net) == (3000, 3000, 0)


def test_unpaid_orders_are_never_sales(merchant):
    shop = make_shop(merchant)
    cancelled = make_order(merchant, status="cancelled", shop=shop)
    pending = make_order(merchant, status="pending_payment", shop=shop)
    dispatch_pending()
    assert not Sale.unscoped.filter(order_id__in=[cancelled.pk, pending.pk]).exists()
    assert not ActiveDay.unscoped.exists()


def test_another_merchants_orders_are_never_seen(merchant, other_merchant):
    mine = make_order(merchant, status="paid")
    theirs = make_order(other_merchant, status="paid")
    dispatch_pending()
    assert list(Sale.unscoped.filter(merchant=merchant).values_list("order_id", flat=True)) == [
        mine.pk
    ]
    assert list(
        Sale.unscoped.filter(merchant=other_merchant).values_list("order_id", flat=True)
    ) == [theirs.pk]
    assert set(
        ActiveDay.unscoped.filter(merchant=merchant).values_list("customer_id", flat=True)
    ) == {mine.customer_id}


@pytest.mark.parametrize(
    ("placed_at", "local_day"),
    [
        (datetime(2026, 3, 1, 15, 59, 59, tzinfo=UTC), date(2026, 3, 1)),  # 23:59:59 local
        (datetime(2026, 3, 1, 16, 0, 0, tzinfo=UTC), date(2026, 3, 2)),  # 00:00 local
    ],
)
def test_the_day_is_the_merchants_local_day(merchant, placed_at, local_day):
    assert merchant.time_zone == "Asia/Shanghai"
    order = make_order(merchant, status="paid")
    Order.unscoped.filter(pk=order.pk).update(placed_at=placed_at)  # placed at that moment
    replay("orders.order.paid")
    sale = sale_of(order)
    assert (sale.placed_at, sale.day) == (placed_at, local_day)
    assert ActiveDay.unscoped.filter(customer_id=order.customer_id, day=local_day).exists()


# --- groups, active days -------------------------------------------------------------------------


def test_joining_and_leaving_a_group_open_and_close_a_span(merchant):
    group = make_group(Actor.system(merchant))
    customer = make_customer(merchant)
    with merchant_context(merchant):
        member = community.join_group(customer, group, state="store_door")
    dispatch_pending()
    span = GroupSpan.unscoped.get(customer_id=customer.pk)
    assert (span.group_id, span.joined_at, span.left_at, span.channel) == (
        group.pk,
        member.joined_at,
        None,
        "store_door",
    )
    day = ActiveDay.unscoped.get(customer_id=customer.pk)
    assert day.kinds == ActiveDay.JOINED
    with merchant_context(merchant):
        left = community.leave_group(customer, group)
    assert left is not None
    dispatch_pending()
    span.refresh_from_db()
    assert span.left_at == left.left_at is not None
    before = snapshot()
    replay("community.member.joined")  # a late join event does not reopen the span
    assert snapshot() == before


def test_flags_of_one_day_add_up(merchant):
    group = make_group(Actor.system(merchant))
    customer = make_customer(merchant)
    make_order(merchant, status="paid", customer=customer)
    with merchant_context(merchant):
        community.join_group(customer, group)
    dispatch_pending()
    day = ActiveDay.unscoped.get(customer_id=customer.pk)
    assert day.kinds == ActiveDay.ORDERED | ActiveDay.JOINED


# --- referral links ------------------------------------------------------------------------------


def test_a_registered_invitee_gets_one_referral_link(merchant):
    make_programme(merchant)
    inviter, invitee = make_customer(merchant), make_customer(merchant)
    referral = invite(inviter, invitee)
    dispatch_pending()
    link = ReferralLink.unscoped.get(invitee_id=invitee.pk)
    assert (link.inviter_id, link.kind, link.invited_at, link.source) == (
        inviter.pk,
        "referral",
        referral.created_at,
        "siyu",
    )


def test_a_distributor_binding_is_a_link_and_the_first_link_wins(merchant):
    first = make_distributor(merchant)
    second = make_distributor(merchant)
    customer = make_customer(merchant)
    with merchant_context(merchant):
        assert distribution.bind(customer, first.share_code)
    dispatch_pending()
    link = ReferralLink.unscoped.get(invitee_id=customer.pk)
    assert (link.inviter_id, link.kind) == (first.customer_id, "distributor")
    with merchant_context(merchant):
        distribution.update_settings(Actor.system(merchant), {"binding_policy": "last_link"})
        assert distribution.bind(customer, second.share_code)
    dispatch_pending()
    link.refresh_from_db()
    assert link.inviter_id == first.customer_id
    assert ReferralLink.unscoped.count() == 1
