"""Buying and paying group-buy orders in tests, through the real services and sandbox."""

from __future__ import annotations

from typing import Any

from django.test import TestCase

from siyu.core.models import Merchant
from siyu.core.outbox import dispatch_pending
from siyu.core.tenancy import merchant_context
from siyu.customers.models import Customer
from siyu.groupbuy import services
from siyu.groupbuy.models import GroupBuy, Member
from siyu.orders.models import Order
from siyu.orders.testing import Shop
from siyu.payments.testing import pay


def buy(
    merchant: Merchant,
    shop: Shop,
    activity: GroupBuy,
    customer: Customer,
    *,
    team_id: int | None = None,
    **extra: Any,
) -> Order:
    with merchant_context(merchant):
        return services.buy(
            customer,
            activity.pk,
            sku_id=shop.sku.pk,
            quantity=extra.pop("quantity", 1),
            team_id=team_id,
            fulfilment="pickup",
            store_id=shop.store.pk,
            **extra,
        )


def after_commit() -> Any:
    """Run what the code under test leaves for after its commit (refunds sent to the sandbox
    provider) when the block ends: the test's own transaction never commits."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def dispatch() -> None:
    """Hand the outbox to its consumers twice (a replayed delivery changes nothing)."""
    with after_commit():
        dispatch_pending()
    with after_commit():
        dispatch_pending()


def fail_overdue(now: Any = None) -> int:
    with after_commit():
        return services.fail_overdue(now)


def pay_and_seat(order: Order) -> Member:
    """Pay in the sandbox, then let the consumers seat the payer."""
    pay(order)
    dispatch()
    return Member.unscoped.get(order_id=order.pk)


def member_of(order: Order) -> Member:
    return Member.unscoped.get(order_id=order.pk)
