"""Outbox consumers of analytics: Siyu's events keep the fact tables current (ADR 0007).

* ``analytics.sales`` — ``orders.order.paid`` and ``orders.order.refunded``: the order's sale
  written from the order row (paid amount, refunded total, attribution) and, on payment, the
  customer's day marked as ordered (the day the order was placed); then the customer's
  statistics, which read the sale just written (``customers.stats.sale_recorded``).
* ``analytics.memberships`` — ``community.member.joined`` / ``left``: the membership's span
  (opened, then closed) and, on joining, the customer's day marked as joined.
* ``analytics.referrals`` — ``referrals.referral.registered`` and
  ``distribution.customer.bound``: the invitee's referral link (the earliest wins).

Each consumer writes through :mod:`siyu.analytics.facts` from the operational row as it is
now, scoped to the event's order, membership or invitee, so a replayed or late event writes
the same values again, and ``siyu analytics rebuild`` gives the same rows. An event of another
merchant cannot reach another merchant's facts: every read is filtered by the event's merchant.
"""

from __future__ import annotations

from django.db.models import Q

from siyu.community.events import MEMBER_JOINED, MEMBER_LEFT
from siyu.core.events import consumer
from siyu.core.models import DomainEvent
from siyu.distribution.events import CUSTOMER_BOUND
from siyu.orders import events as order_events
from siyu.referrals.events import REFERRAL_REGISTERED


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@consumer(
    "analytics.sales",
    event_types=[order_events.ORDER_PAID, order_events.ORDER_REFUNDED],
)
def order_sales(event: DomainEvent) -> None:
    from siyu.analytics import facts

    order_id = _int(event.payload.get("id"))
    if order_id is None:
        return
    facts.write_sales(event.merchant, pk=order_id)
    if event.event_type == order_events.ORDER_PAID:
        facts.write_active_days(event.merchant, orders=Q(pk=order_id))
    customer_id = _int(event.payload.get("customer_id"))
    if customer_id is not None:
        from siyu.customers import stats

        stats.sale_recorded(event.merchant, customer_id)


@consumer("analytics.memberships", event_types=[MEMBER_JOINED, MEMBER_LEFT])
def group_memberships(event: DomainEvent) -> None:
    from siyu.analytics import facts

    member_id = _int(event.payload.get("member_id"))
    if member_id is None:
        return
    facts.write_group_spans(event.merchant, pk=member_id)
    if event.event_type == MEMBER_JOINED:
        facts.write_active_days(event.merchant, memberships=Q(pk=member_id))


@consumer("analytics.referrals", event_types=[REFERRAL_REGISTERED, CUSTOMER_BOUND])
def referral_links(event: DomainEvent) -> None:
    from siyu.analytics import facts

    key = "invitee_id" if event.event_type == REFERRAL_REGISTERED else "customer_id"
    invitee_id = _int(event.payload.get(key))
    if invitee_id is None:
        return
    facts.write_referral_links(event.merchant, invitee_ids=[invitee_id])
