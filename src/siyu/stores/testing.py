"""Factories for tests and benchmarks of stores and staff."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from siyu.core.actors import Actor
from siyu.core.models import Membership, Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import login, make_staff, next_id

__all__ = ["login", "make_store", "make_store_staff", "store_manager_of"]
from siyu.stores.models import Store, StoreStaff

WEEKDAYS_7_TO_21 = {day: [["07:00", "21:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
EVERY_DAY_7_TO_22 = {
    day: [["07:00", "22:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
}


def make_store(merchant: Merchant, **fields: Any) -> Store:
    """A store saved directly (no service, no audit): for setting the scene quickly."""
    n = next_id()
    values: dict[str, Any] = {
        "code": f"S{n:04d}",
        "name": f"Store {n}",
        "city": "上海市",
        "district": "静安区",
        "address": f"南京西路{n}号",
        "latitude": Decimal("31.230416"),
        "longitude": Decimal("121.473701"),
        "opening_hours": EVERY_DAY_7_TO_22,
    }
    values.update(fields)
    with merchant_context(merchant):
        return Store.objects.create(merchant=merchant, **values)


def assign(membership: Membership, *stores: Store) -> None:
    with merchant_context(membership.merchant):
        for store in stores:
            StoreStaff.objects.create(
                merchant=membership.merchant, store=store, membership=membership
            )


def make_store_staff(
    merchant: Merchant, role: str, *stores: Store, **user_fields: Any
) -> Membership:
    membership = make_staff(merchant, role, **user_fields)
    assign(membership, *stores)
    return membership


def store_manager_of(merchant: Merchant, *stores: Store) -> Actor:
    return Actor.for_membership(make_store_staff(merchant, Role.STORE_MANAGER, *stores))
