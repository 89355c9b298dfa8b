"""Factories for inventory tests and benchmarks: explicit merchant, real services."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Sum

from siyu.catalog.models import Sku
from siyu.catalog.testing import first_sku, make_product
from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context
from siyu.core.testing import next_id
from siyu.inventory import services
from siyu.inventory.models import Location, StockLevel, StockMovement, StockReservation
from siyu.stores.models import Store


def make_warehouse(merchant: Merchant, **fields: Any) -> Location:
    """A warehouse made through the service (as the owner)."""
    n = next_id()
    values: dict[str, Any] = {"code": f"WH{n:04d}", "name": f"Warehouse {n}"}
    values.update(fields)
    with merchant_context(merchant):
        return services.create_warehouse(Actor.system(merchant), **values)


def store_location(store: Store) -> Location:
    with merchant_context(store.merchant):
        return services.location_for_store(store)


def make_sku(merchant: Merchant, name: str | None = None, **fields: Any) -> Sku:
    """A SKU of a new one-SKU product."""
    return first_sku(make_product(merchant, name, **fields))


def stock(location: Location, sku: Sku, quantity: int, *, note: str = "") -> StockMovement:
    """Receive ``quantity`` of ``sku`` at ``location`` (as the owner)."""
    merchant = Merchant.objects.get(pk=location.merchant_id)
    with merchant_context(merchant):
        return services.receive(
            Actor.system(merchant), location=location, sku=sku, quantity=quantity, note=note
        )


def stocked_sku(location: Location, quantity: int, name: str | None = None) -> Sku:
    """A new SKU with ``quantity`` on hand at ``location``."""
    merchant = Merchant.objects.get(pk=location.merchant_id)
    sku = make_sku(merchant, name)
    if quantity:
        stock(location, sku, quantity)
    return sku


def later(minutes: int = 15) -> datetime:
    return clock.now() + timedelta(minutes=minutes)


def reserve(
    location: Location,
    items: Sequence[tuple[int, int]],
    reference: str | None = None,
    *,
    expires_at: datetime | None = None,
) -> str:
    """Reserve ``items`` under a new reference (answered) in the location's merchant."""
    reference = reference or f"test:{next_id()}"
    merchant = Merchant.objects.get(pk=location.merchant_id)
    with merchant_context(merchant):
        services.reserve(
            location=location,
            items=items,
            reference=reference,
            expires_at=expires_at or later(),
        )
    return reference


def level(location: Location, sku: Sku | int) -> StockLevel | None:
    sku_id = sku if isinstance(sku, int) else sku.pk
    return StockLevel.unscoped.filter(location_id=location.pk, sku_id=sku_id).first()


def counts(location: Location, sku: Sku | int) -> tuple[int, int]:
    """``(on_hand, reserved)`` of the level (0, 0 when it does not exist)."""
    found = level(location, sku)
    return (found.on_hand, found.reserved) if found else (0, 0)


def ledger_problems(merchant: Merchant | None = None) -> list[str]:
    """Every level whose counts differ from the sum of its movements, or whose active
    reservations do not add up to ``reserved``; empty when the books balance."""
    levels = StockLevel.unscoped.all()
    movements = StockMovement.unscoped.all()
    reservations = StockReservation.unscoped.filter(status=StockReservation.Status.ACTIVE)
    if merchant is not None:
        levels = levels.filter(merchant=merchant)
        movements = movements.filter(merchant=merchant)
        reservations = reservations.filter(merchant=merchant)
    sums = {
        (row["location_id"], row["sku_id"]): (row["on_hand"], row["reserved"])
        for row in movements.values("location_id", "sku_id").annotate(
            on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta")
        )
    }
    held = dict(
        reservations.values("level_id")
        .annotate(total=Sum("quantity"))
        .values_list("level_id", "total")
    )
    problems: list[str] = []
    for lvl in levels:
        key = (lvl.location_id, lvl.sku_id)
        ledger = sums.pop(key, (0, 0))
        if ledger != (lvl.on_hand, lvl.reserved):
            problems.append(f"{key}: level {(lvl.on_hand, lvl.reserved)} != ledger {ledger}")
        if held.get(lvl.pk, 0) != lvl.reserved:
            problems.append(f"{key}: reserved {lvl.reserved} != active {held.get(lvl.pk, 0)}")
        if lvl.on_hand < 0 or lvl.reserved < 0 or lvl.reserved > lvl.on_hand:
            problems.append(f"{key}: impossible counts {(lvl.on_hand, lvl.reserved)}")
    problems += [f"{key}: movements without a level" for key in sums]
    return problems
