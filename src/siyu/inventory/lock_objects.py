"""The conditional UPDATEs that move stock, and the order in which they lock rows.

Each function is one SQL statement that changes a row *and* answers its new
values (``RETURNING``), so a change and the ledger line that records it need
one round trip, and the row lock it takes is held for as short a time as
possible. Stock never goes negative because every decrease carries its
condition in the ``WHERE`` clause (``on_hand - reserved >= n``): the database
applies it atomically to the current row version, so no ``SELECT … FOR
UPDATE`` is needed before it. The CHECK constraints of ``StockLevel`` are the
last line behind them.

Lock order, everywhere in inventory: reservation rows first (by id), then
stock levels (by id). Callers that touch several levels call these functions
in ascending level id; :func:`claim_reservations` locks a reference's rows in
id order on PostgreSQL (SQLite writers hold the whole database, so order does
not matter there).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from siyu.inventory.models import StockLevel, StockReservation

_LEVEL = StockLevel._meta.db_table
_RESERVATION = StockReservation._meta.db_table


@dataclass(frozen=True)
class LevelAfter:
    """A stock level as the UPDATE left it."""

    id: int
    sku_id: int
    location_id: int
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True)
class ClaimedReservation:
    id: int
    level_id: int
    quantity: int


def _timestamp(moment: datetime) -> object:
    return connection.ops.adapt_datetimefield_value(moment)


def change_level(
    *,
    now: datetime,
    on_hand_delta: int = 0,
    reserved_delta: int = 0,
    level_id: int | None = None,
    location_id: int | None = None,
    sku_id: int | None = None,
    min_available: int | None = None,
) -> LevelAfter | None:
    """Add the deltas to one level (by id, or by location and SKU); None when no row matched.

    With ``min_available`` the change applies only while ``on_hand - reserved``
    is at least that much (before the change): the conditional UPDATE that
    reserves, sells an expired reservation again, or takes stock away.
    """
    if level_id is not None:
        where, params = "id = %s", [level_id]
    else:
        where, params = "location_id = %s AND sku_id = %s", [location_id, sku_id]
    if min_available is not None:
        where += " AND on_hand - reserved >= %s"
        params.append(min_available)
    # only constant table names and clauses are formatted in; every value is a parameter
    sql = (
        f"UPDATE {_LEVEL} SET on_hand = on_hand + %s, reserved = reserved + %s, updated_at = %s "  # noqa: S608
        f"WHERE {where} RETURNING id, sku_id, location_id, on_hand, reserved"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [on_hand_delta, reserved_delta, _timestamp(now), *params])
        row = cursor.fetchone()
    return LevelAfter(*row) if row is not None else None


def claim_reservations(
    *,
    merchant_id: int,
    reference: str,
    from_status: str,
    to_status: str,
    now: datetime,
    expired_by: datetime | None = None,
) -> list[ClaimedReservation]:
    """Move a reference's reservations from one status to another; answer the rows moved.

    The claim is the idempotency of commit, release and expiry: whoever moves
    a reservation out of ``active`` applies its stock change, and a second
    caller finds nothing left to move. Rows are locked in id order.
    """
    lock = " ORDER BY id FOR UPDATE" if connection.vendor == "postgresql" else ""
    condition = "merchant_id = %s AND reference = %s AND status = %s"
    params: list[object] = [merchant_id, reference, from_status]
    if expired_by is not None:
        condition += " AND expires_at <= %s"
        params.append(_timestamp(expired_by))
    sql = (
        f"UPDATE {_RESERVATION} SET status = %s, closed_at = %s "  # noqa: S608
        f"WHERE id IN (SELECT id FROM {_RESERVATION} WHERE {condition}{lock}) AND status = %s "
        "RETURNING id, level_id, quantity"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [to_status, _timestamp(now), *params, from_status])
        rows = cursor.fetchall()
    return sorted((ClaimedReservation(*row) for row in rows), key=lambda r: r.level_id)


def levels_by_sku(location_id: int, sku_ids: Sequence[int]) -> dict[int, int]:
    """``{sku_id: level id}`` of the levels that exist at the location (no lock)."""
    return dict(
        StockLevel.unscoped.filter(location_id=location_id, sku_id__in=list(sku_ids)).values_list(
            "sku_id", "id"
        )
    )
