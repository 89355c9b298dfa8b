"""The conditional UPDATEs that move stock, and the order in which they lock rows.

Each function changes a stock level *and* answers its new values
(``RETURNING``); with a :class:`Record` it also writes the ledger line in the
same statement on PostgreSQL (a data-modifying ``WITH``), so a change costs
one round trip. Stock never goes negative because every decrease carries its
condition in the ``WHERE`` clause (``on_hand - reserved >= n``): the database
applies it atomically to the current row version, so no ``SELECT … FOR
UPDATE`` is needed before it. The CHECK constraints of ``StockLevel`` are the
last line behind them.

Why one statement matters: a level's row lock is held from its UPDATE until
the transaction commits (including the commit's WAL flush). With many buyers
of one SKU every order waits for that lock twice (reserve, then commit), so
the fewer round trips between the UPDATE and the COMMIT, the more orders a
second. On PostgreSQL the UPDATE is therefore the *last* thing these
functions do before handing back; SQLite holds one database-wide write lock
per transaction anyway and runs the plain statements one after the other.

Lock order, everywhere in inventory: reservation rows first (by id), then
stock levels (by id). Callers that touch several levels call these functions
in ascending level id; :func:`claim_reservations` locks a reference's rows in
id order on PostgreSQL.
"""

# Only constant table and column names are formatted into these statements; every value
# is a query parameter.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.db import connection

from siyu.inventory.models import StockLevel, StockMovement, StockReservation

_LEVEL = StockLevel._meta.db_table
_RESERVATION = StockReservation._meta.db_table
_MOVEMENT = StockMovement._meta.db_table
_MOVEMENT_COLUMNS = (
    "merchant_id, location_id, sku_id, kind, on_hand_delta, reserved_delta, "
    "on_hand_after, reserved_after, reference, note, actor_label, created_at"
)
_LEVEL_COLUMNS = "id, sku_id, location_id, on_hand, reserved"


@dataclass(frozen=True)
class LevelAfter:
    """A stock level as the UPDATE left it (and the ledger line written with it, if any)."""

    id: int
    sku_id: int
    location_id: int
    on_hand: int
    reserved: int
    movement_id: int | None = None

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True)
class Record:
    """The ledger line to write with a change (its deltas are the change's)."""

    merchant_id: int
    kind: str
    reference: str = ""
    note: str = ""
    actor_label: str = ""


@dataclass(frozen=True)
class ClaimedReservation:
    id: int
    level_id: int
    quantity: int


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _timestamp(moment: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(moment)


def _movement_values(
    record: Record, on_hand_delta: int, reserved_delta: int, now: datetime
) -> list[Any]:
    """Parameters of the ledger columns after location, SKU and the counts after."""
    return [
        record.kind,
        on_hand_delta,
        reserved_delta,
        record.reference,
        record.note[:200],
        record.actor_label[:150],
        _timestamp(now),
    ]


# The ledger line from a changed level: ``lvl`` is the UPDATE's RETURNING (PostgreSQL WITH).
_MOVEMENT_FROM_LEVEL = (
    f"INSERT INTO {_MOVEMENT} ({_MOVEMENT_COLUMNS}) "
    "SELECT %s, location_id, sku_id, %s, %s, %s, on_hand, reserved, %s, %s, %s, %s FROM lvl "
    "RETURNING id"
)
_MOVEMENT_VALUES = (
    f"INSERT INTO {_MOVEMENT} ({_MOVEMENT_COLUMNS}) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id"
)


def _insert_movement(
    cursor: object, after: LevelAfter, record: Record, deltas: tuple[int, int], now: datetime
) -> int:
    kind, on_hand_delta, reserved_delta, reference, note, label, created = _movement_values(
        record, *deltas, now
    )
    cursor.execute(  # type: ignore[attr-defined]
        _MOVEMENT_VALUES,
        [
            record.merchant_id,
            after.location_id,
            after.sku_id,
            kind,
            on_hand_delta,
            reserved_delta,
            after.on_hand,
            after.reserved,
            reference,
            note,
            label,
            created,
        ],
    )
    return int(cursor.fetchone()[0])  # type: ignore[attr-defined]


def change_level(
    *,
    now: datetime,
    on_hand_delta: int = 0,
    reserved_delta: int = 0,
    level_id: int | None = None,
    location_id: int | None = None,
    sku_id: int | None = None,
    min_available: int | None = None,
    record: Record | None = None,
) -> LevelAfter | None:
    """Add the deltas to one level (by id, or by location and SKU); None when no row matched.

    With ``min_available`` the change applies only while ``on_hand - reserved``
    is at least that much before it: the conditional UPDATE that reserves,
    sells an expired reservation again, or takes stock away. With ``record``
    the ledger line is written too (one statement on PostgreSQL).
    """
    params: list[Any]
    if level_id is not None:
        where, params = "id = %s", [level_id]
    else:
        where, params = "location_id = %s AND sku_id = %s", [location_id, sku_id]
    if min_available is not None:
        where += " AND on_hand - reserved >= %s"
        params.append(min_available)
    update = (
        f"UPDATE {_LEVEL} SET on_hand = on_hand + %s, reserved = reserved + %s, "
        f"updated_at = %s WHERE {where} RETURNING {_LEVEL_COLUMNS}"
    )
    update_params: list[Any] = [on_hand_delta, reserved_delta, _timestamp(now), *params]
    deltas = (on_hand_delta, reserved_delta)
    with connection.cursor() as cursor:
        if record is not None and _postgres():
            cursor.execute(
                f"WITH lvl AS ({update}), mov AS ({_MOVEMENT_FROM_LEVEL}) "
                f"SELECT lvl.id, lvl.sku_id, lvl.location_id, lvl.on_hand, lvl.reserved, mov.id "
                "FROM lvl, mov",
                [*update_params, record.merchant_id, *_movement_values(record, *deltas, now)],
            )
            row = cursor.fetchone()
            return LevelAfter(*row) if row is not None else None
        cursor.execute(update, update_params)
        row = cursor.fetchone()
        if row is None:
            return None
        after = LevelAfter(*row)
        if record is None:
            return after
        movement_id = _insert_movement(cursor, after, record, deltas, now)
    return replace(after, movement_id=movement_id)


def reserve_one(
    *,
    now: datetime,
    merchant_id: int,
    location_id: int,
    sku_id: int,
    quantity: int,
    reference: str,
    expires_at: datetime,
) -> LevelAfter | None:
    """Reserve ``quantity`` of one SKU unless the reference already has reservations.

    Takes the stock (conditional UPDATE), writes the reservation and the
    ledger line: one statement on PostgreSQL, three on SQLite. None when
    nothing was reserved — the reference was reserved before, or the SKU is
    short; the caller tells which.
    """
    update = (
        f"UPDATE {_LEVEL} SET reserved = reserved + %s, updated_at = %s "
        "WHERE location_id = %s AND sku_id = %s AND on_hand - reserved >= %s "
        f"AND NOT EXISTS (SELECT 1 FROM {_RESERVATION} WHERE merchant_id = %s AND reference = %s) "
        f"RETURNING {_LEVEL_COLUMNS}"
    )
    update_params: list[Any] = [
        quantity,
        _timestamp(now),
        location_id,
        sku_id,
        quantity,
        merchant_id,
        reference,
    ]
    hold = (
        f"INSERT INTO {_RESERVATION} "
        "(merchant_id, level_id, quantity, reference, status, expires_at, created_at) "
    )
    hold_params: list[Any] = [
        merchant_id,
        quantity,
        reference,
        StockReservation.Status.ACTIVE.value,
        _timestamp(expires_at),
        _timestamp(now),
    ]
    record = Record(merchant_id, StockMovement.Kind.RESERVATION.value, reference)
    with connection.cursor() as cursor:
        if _postgres():
            cursor.execute(
                f"WITH lvl AS ({update}), "
                f"held AS ({hold} SELECT %s, id, %s, %s, %s, %s, %s FROM lvl RETURNING id), "
                f"mov AS ({_MOVEMENT_FROM_LEVEL}) "
                "SELECT lvl.id, lvl.sku_id, lvl.location_id, lvl.on_hand, lvl.reserved, mov.id "
                "FROM lvl, mov, held",
                [
                    *update_params,
                    *hold_params,
                    merchant_id,
                    *_movement_values(record, 0, quantity, now),
                ],
            )
            row = cursor.fetchone()
            return LevelAfter(*row) if row is not None else None
        cursor.execute(update, update_params)
        row = cursor.fetchone()
        if row is None:
            return None
        after = LevelAfter(*row)
        cursor.execute(
            f"{hold} VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [
                hold_params[0],
                after.id,
                *hold_params[1:],
            ],
        )
        movement_id = _insert_movement(cursor, after, record, (0, quantity), now)
    return replace(after, movement_id=movement_id)


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
    caller finds nothing left to move. Rows are locked in id order; the
    answer is in level id order (the order to change the levels in).
    """
    lock = " ORDER BY id FOR UPDATE" if _postgres() else ""
    condition = "merchant_id = %s AND reference = %s AND status = %s"
    params: list[Any] = [merchant_id, reference, from_status]
    if expired_by is not None:
        condition += " AND expires_at <= %s"
        params.append(_timestamp(expired_by))
    sql = (
        f"UPDATE {_RESERVATION} SET status = %s, closed_at = %s "
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
