"""Outbox consumers of promotions.

* ``coupons_back``: an order cancelled or refunded in full gives its coupon back;
* ``issue_on_group_join`` / ``issue_on_first_order``: templates marked to be issued on those
  occasions are claimed for the customer automatically.

Idempotent: :func:`siyu.promotions.services.give_back` only touches coupons still marked used
on the order, and automatic issues carry a client key naming the occasion and the template, so
a replayed event changes nothing.
"""

from __future__ import annotations

from siyu.community import events as community_events
from siyu.core.events import consumer
from siyu.core.models import DomainEvent
from siyu.orders import events as order_events
from siyu.orders.refunds import FULL


@consumer(
    "promotions.coupons_back",
    event_types=[order_events.ORDER_CANCELLED, order_events.ORDER_REFUNDED],
)
def coupons_back(event: DomainEvent) -> None:
    """Cancelled (unpaid, or refunded in full) or refunded in full: the coupon comes back."""
    from siyu.promotions.services import give_back

    order_id = event.payload.get("id")
    if not isinstance(order_id, int):
        return
    if event.event_type == order_events.ORDER_REFUNDED:
        refund = event.payload.get("refund") or {}
        if refund.get("refund_state") != FULL:
            return
    give_back(order_id)


def _issue_automatically(customer_id: int, flag: str, source: str) -> list[int]:
    """Issue every active template with ``flag`` set to the customer, once per template (the
    client key names the template and the occasion, so a replayed event issues nothing more).
    A template sold out, at its limit or not offered to the customer is skipped."""
    from siyu.core.errors import DomainError
    from siyu.customers.models import Customer
    from siyu.promotions.models import CouponTemplate
    from siyu.promotions.services import claim

    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        return []
    issued: list[int] = []
    templates = CouponTemplate.objects.filter(
        status=CouponTemplate.Status.ACTIVE, **{flag: True}
    ).order_by("pk")
    for template in templates:
        try:
            coupon = claim(
                template.pk, customer, source=source, client_key=f"{source}:{template.pk}"
            )
        except DomainError:
            continue
        issued.append(coupon.pk)
    return issued


@consumer("promotions.issue_on_group_join", event_types=[community_events.MEMBER_JOINED])
def issue_on_group_join(event: DomainEvent) -> None:
    """A customer joined a community group: the templates marked "issue on joining a group"."""
    from siyu.promotions.models import Coupon

    customer_id = event.payload.get("customer_id")
    if isinstance(customer_id, int):
        _issue_automatically(customer_id, "issue_on_group_join", Coupon.Source.GROUP_JOIN)


@consumer("promotions.issue_on_first_order", event_types=[order_events.ORDER_PAID])
def issue_on_first_order(event: DomainEvent) -> None:
    """A customer's first order was paid: the templates marked "issue after the first order"."""
    from siyu.orders.models import Order
    from siyu.promotions.models import Coupon

    customer_id = event.payload.get("customer_id")
    if not isinstance(customer_id, int):
        return
    first = (
        Order.objects.filter(customer_id=customer_id, paid_at__isnull=False)
        .order_by("paid_at", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    if first is None or first != event.payload.get("id"):
        return  # not the customer's first paid order (however late the event is read)
    _issue_automatically(customer_id, "issue_on_first_order", Coupon.Source.FIRST_ORDER)
