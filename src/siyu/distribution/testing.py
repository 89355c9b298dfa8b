"""Test helpers of distribution: distributors, rules and orders that earn commission."""

from __future__ import annotations

from typing import Any

from siyu.core.actors import Actor
from siyu.core.models import Merchant
from siyu.core.outbox import dispatch_pending
from siyu.core.tenancy import merchant_context
from siyu.customers.models import Customer
from siyu.distribution import services
from siyu.distribution.models import CommissionEntry, Distributor
from siyu.orders.models import Order
from siyu.orders.testing import make_customer, make_order


def make_distributor(
    merchant: Merchant, customer: Customer | None = None, *, invited_by: Distributor | None = None
) -> Distributor:
    """An approved distributor (a new customer unless given)."""
    customer = customer or make_customer(merchant)
    with merchant_context(merchant):
        distributor = services.apply(
            customer, invited_by_code=invited_by.share_code if invited_by else ""
        )
        if distributor.status != Distributor.Status.APPROVED:
            distributor = services.decide(
                Actor.system(merchant), distributor.pk, Distributor.Status.APPROVED
            )
    return distributor


def set_default_rate(merchant: Merchant, rate_bp: int) -> None:
    with merchant_context(merchant):
        services.set_rule(Actor.system(merchant), scope="default", kind="percent", rate_bp=rate_bp)


def distributed_order(
    merchant: Merchant, distributor: Distributor, *, status: str = "paid", **fields: Any
) -> Order:
    """An order attributed to ``distributor``, with the outbox delivered."""
    attribution = {**fields.pop("attribution", {}), "distributor_id": distributor.pk}
    order = make_order(merchant, status=status, attribution=attribution, **fields)
    dispatch_pending()
    return order


def ledger(order: Order) -> list[tuple[int, int, str, int, bool]]:
    """``(distributor, level, kind, amount, from_settled)`` of the order's entries, in order."""
    return [
        (e.distributor_id, e.level, e.kind, e.amount, e.from_settled)
        for e in CommissionEntry.unscoped.filter(order=order).order_by("id")
    ]
