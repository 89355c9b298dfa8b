"""State changes of stock: receipts, adjustments, reservations, sales, releases, returns, locations.

The rules (``docs/shop.md``):

* Stock never goes negative and ``reserved`` never exceeds ``on_hand``: every
  change is one conditional UPDATE (``siyu.inventory.lock_objects``) and the
  database's CHECK constraints stand behind it.
* Every change writes its ``StockMovement`` (the ledger, with the counts after
  the change) in the same transaction, so the sum of a level's movements is
  always its counts.
* Every write that may be retried takes effect once: reservations per
  ``reference`` (the order), commit/release/expiry by claiming the
  reservation rows out of ``active`` (whoever claims applies the change),
  returns per reference and SKU, receipts and adjustments per optional
  ``reference`` (the console's form token; the API has ``Idempotency-Key``).
* Locks: reservation rows before stock levels, several levels in ascending id.

The order-facing functions (``reserve``, ``commit``, ``release``,
``restock``) take no actor: the orders and payments apps call them while a
customer checks out or pays. Staff-facing ones (``receive``, ``adjust``,
locations) take an :class:`~siyu.core.actors.Actor` and check its role; store
managers (and shopping guides, for reading) work only at the locations of
the stores they are assigned to.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from siyu.catalog.models import Sku
from siyu.core import audit, clock, events
from siyu.core.actors import Actor
from siyu.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from siyu.core.models import Merchant
from siyu.core.permissions import Perm, Role
from siyu.core.tenancy import bound_merchant, current_merchant, merchant_context
from siyu.inventory import lock_objects
from siyu.inventory.events import STOCK_CHANGED, STOCK_LOW
from siyu.inventory.lock_objects import LevelAfter, Record
from siyu.inventory.models import Location, StockLevel, StockMovement, StockReservation
from siyu.stores.models import Store, StoreStaff

MAX_QUANTITY = 1_000_000  # units in one receipt, adjustment, reservation line or return line
MAX_THRESHOLD = 1_000_000
MAX_REFERENCE = 64
MAX_NOTE = 200
MAX_NAME = 100
EXPIRY_BATCH = 500
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")

# Roles that work at stores: they see and change only the locations of their assigned stores.
STORE_SCOPED_ROLES: frozenset[str] = frozenset({Role.STORE_MANAGER, Role.SHOPPING_GUIDE})

LOCATION_FIELDS: tuple[str, ...] = (
    "code",
    "name",
    "kind",
    "store",
    "ships_delivery",
    "low_stock_threshold",
    "active",
)


class OutOfStock(InvalidInput):
    """Not enough available stock for a reservation (HTTP 409).

    ``shortages`` maps each short SKU id to what is still available; ``fields``
    say it per item (``items.<sku_id>`` → "Only 2 left.").
    """

    code = "out_of_stock"
    status = 409

    def __init__(self, shortages: Mapping[int, int]) -> None:
        self.shortages = {sku_id: max(0, n) for sku_id, n in shortages.items()}
        super().__init__(
            _("Not enough stock."),
            fields={f"items.{sku_id}": left_text(n) for sku_id, n in self.shortages.items()},
        )


def left_text(available: int) -> str:
    if available <= 0:
        return _("Out of stock.")
    return ngettext("Only %(n)d left.", "Only %(n)d left.", available) % {"n": available}


# --- who may work where -----------------------------------------------------------------


def is_store_scoped(actor: Actor) -> bool:
    return actor.role in STORE_SCOPED_ROLES


def assigned_store_ids(actor: Actor) -> set[int]:
    if actor.membership is None:
        return set()
    return set(
        StoreStaff.objects.filter(membership=actor.membership).values_list("store_id", flat=True)
    )


def can_work_at(actor: Actor, location: Location) -> bool:
    """Whether the actor sees ``location`` (store-scoped roles: only their stores')."""
    if location.merchant_id != actor.merchant.pk:
        return False
    if not is_store_scoped(actor):
        return True
    return location.store_id is not None and location.store_id in assigned_store_ids(actor)


def can_manage_locations(actor: Actor) -> bool:
    """Owners and operators add warehouses and choose the delivery location."""
    return actor.can(Perm.INVENTORY_MANAGE) and not is_store_scoped(actor)


def _require_stock_rights(actor: Actor, location: Location) -> None:
    actor.require(Perm.INVENTORY_MANAGE)
    if location.merchant_id != actor.merchant.pk:
        raise NotFound(_("Not found."))
    if not can_work_at(actor, location):
        raise Forbidden(_("You may only change the stock of the stores you are assigned to."))


def _require_location_rights(actor: Actor) -> None:
    actor.require(Perm.INVENTORY_MANAGE)
    if is_store_scoped(actor):
        raise Forbidden(_("Only owners and operators manage stock locations."))


def _check_bound(merchant_id: int) -> None:
    """A location of another merchant than the bound one is not found."""
    bound = bound_merchant()
    if bound is not None and bound.pk != merchant_id:
        raise NotFound(_("Not found."))


# --- validation helpers ------------------------------------------------------------------


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _quantity_problem(value: object, *, minimum: int = 1) -> str | None:
    if not _is_int(value):
        return _("Enter a whole number.")
    assert isinstance(value, int)
    if value < minimum:
        return _("Must be at least %(n)d.") % {"n": minimum}
    if value > MAX_QUANTITY:
        return _("At most %(n)d.") % {"n": MAX_QUANTITY}
    return None


def _text_problem(value: object, *, limit: int, required: bool = False) -> str | None:
    if not isinstance(value, str):
        return _("Expected text.")
    if required and not value.strip():
        return _("This field is required.")
    if len(value) > limit:
        return _("At most %(n)d characters.") % {"n": limit}
    return None


def _clean_items(items: Sequence[tuple[int, int]]) -> tuple[dict[int, int], dict[str, str]]:
    """``{sku_id: quantity}`` (repeated SKUs added up) and the problems, per item index."""
    wanted: dict[int, int] = {}
    errors: dict[str, str] = {}
    if not isinstance(items, Sequence) or isinstance(items, str) or not items:
        return wanted, {"items": _("Add at least one item.")}
    for index, item in enumerate(items):
        try:
            sku_id, quantity = item
        except (TypeError, ValueError):
            errors[f"items.{index}"] = _("Expected a SKU id and a quantity.")
            continue
        if not _is_int(sku_id) or sku_id <= 0:
            errors[f"items.{index}.sku_id"] = _("Unknown SKU.")
            continue
        problem = _quantity_problem(quantity)
        if problem:
            errors[f"items.{index}.quantity"] = problem
            continue
        wanted[sku_id] = wanted.get(sku_id, 0) + quantity
    for sku_id, total in wanted.items():
        if total > MAX_QUANTITY:
            errors[f"items.{sku_id}"] = _("At most %(n)d.") % {"n": MAX_QUANTITY}
    return wanted, errors


def _reference_problem(reference: object, *, required: bool) -> str | None:
    return _text_problem(reference, limit=MAX_REFERENCE, required=required)


# --- the ledger ----------------------------------------------------------------------------


def _movement(
    after: LevelAfter,
    merchant_id: int,
    kind: str,
    *,
    on_hand_delta: int = 0,
    reserved_delta: int = 0,
    reference: str = "",
    note: str = "",
    actor_label: str = "",
) -> StockMovement:
    return StockMovement(
        merchant_id=merchant_id,
        location_id=after.location_id,
        sku_id=after.sku_id,
        kind=kind,
        on_hand_delta=on_hand_delta,
        reserved_delta=reserved_delta,
        on_hand_after=after.on_hand,
        reserved_after=after.reserved,
        reference=reference,
        note=note[:MAX_NOTE],
        actor_label=actor_label[:150],
    )


def _written(
    after: LevelAfter,
    record: Record,
    *,
    on_hand_delta: int = 0,
    reserved_delta: int = 0,
    now: datetime,
) -> StockMovement:
    """The ledger line ``change_level`` wrote with ``record``, as a model instance (no query)."""
    movement = StockMovement(
        id=after.movement_id,
        merchant_id=record.merchant_id,
        location_id=after.location_id,
        sku_id=after.sku_id,
        kind=record.kind,
        on_hand_delta=on_hand_delta,
        reserved_delta=reserved_delta,
        on_hand_after=after.on_hand,
        reserved_after=after.reserved,
        reference=record.reference,
        note=record.note[:MAX_NOTE],
        actor_label=record.actor_label[:150],
        created_at=now,
    )
    movement._state.adding = False
    movement._state.db = "default"
    return movement


def _write(movements: list[StockMovement]) -> list[StockMovement]:
    return StockMovement.unscoped.bulk_create(movements) if movements else []


def _low_crossed(threshold: int, before: int, after: int) -> bool:
    return threshold > 0 and before > threshold >= after


def _emit_low(merchant: Merchant, location: Location, after: LevelAfter, before: int) -> None:
    if _low_crossed(location.low_stock_threshold, before, after.available):
        events.emit(
            merchant,
            STOCK_LOW,
            {
                "location_id": location.pk,
                "location_code": location.code,
                "sku_id": after.sku_id,
                "available": after.available,
                "threshold": location.low_stock_threshold,
            },
            aggregate=location,
        )


def _emit_changed(merchant: Merchant, location: Location, movement: StockMovement) -> None:
    events.emit(
        merchant,
        STOCK_CHANGED,
        {
            "location_id": location.pk,
            "location_code": location.code,
            "sku_id": movement.sku_id,
            "kind": movement.kind,
            "on_hand_delta": movement.on_hand_delta,
            "on_hand": movement.on_hand_after,
            "reserved": movement.reserved_after,
            "available": movement.on_hand_after - movement.reserved_after,
            "reference": movement.reference,
        },
        aggregate=location,
    )


def _ensure_levels(location: Location, sku_ids: Sequence[int]) -> None:
    """Create the missing (zero) levels; a concurrent creation of the same level is harmless."""
    StockLevel.unscoped.bulk_create(
        [
            StockLevel(merchant_id=location.merchant_id, location_id=location.pk, sku_id=sku_id)
            for sku_id in sku_ids
        ],
        ignore_conflicts=True,
    )


def _lock_levels(location: Location, sku_ids: Sequence[int]) -> list[StockLevel]:
    """The levels of ``sku_ids`` at ``location``, created when missing, locked in id order."""
    qs = StockLevel.unscoped.filter(location_id=location.pk, sku_id__in=list(sku_ids))
    levels = list(qs.select_for_update().order_by("pk"))
    if len(levels) < len(set(sku_ids)):
        have = {level.sku_id for level in levels}
        _ensure_levels(location, [s for s in sku_ids if s not in have])
        levels = list(qs.select_for_update().order_by("pk"))
    return levels


# --- locations ------------------------------------------------------------------------------


def location_for_store(store: Store) -> Location:
    """The stock location of ``store``, created on first use (one per store, race-safe)."""
    _check_bound(store.merchant_id)
    found = Location.unscoped.filter(merchant_id=store.merchant_id, store_id=store.pk).first()
    if found is not None:
        return found
    for code in (store.code, f"store-{store.pk}"):
        try:
            with transaction.atomic():
                return Location.unscoped.create(
                    merchant_id=store.merchant_id,
                    kind=Location.Kind.STORE,
                    store=store,
                    code=code[:32],
                    name=store.name[:MAX_NAME],
                )
        except IntegrityError:
            # another request created this store's location, or a warehouse has the code
            found = Location.unscoped.filter(
                merchant_id=store.merchant_id, store_id=store.pk
            ).first()
            if found is not None:
                return found
    raise Conflict(_("The store's stock location could not be created; try again."))


@transaction.atomic
def create_store_locations(actor: Actor) -> int:
    """Give every store without a stock location its location; answer how many were made."""
    _require_location_rights(actor)
    missing = Store.objects.filter(stock_location__isnull=True).order_by("pk")
    made = 0
    for store in missing:
        location = location_for_store(store)
        audit.record(
            actor, "inventory.location.create", location, after=_location_payload(location)
        )
        made += 1
    return made


def delivery_location(merchant: Merchant) -> Location | None:
    """Where delivery orders ship from: the active location marked to, if any."""
    return Location.unscoped.filter(
        merchant_id=merchant.pk, ships_delivery=True, active=True
    ).first()


def _clean_location(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, value in values.items():
        if name == "code":
            problem = _text_problem(value, limit=32, required=True)
            if problem is None and not CODE_RE.match(value.strip()):
                problem = _(
                    "Letters, digits, hyphens and underscores; start with a letter or digit."
                )
            if problem:
                errors[name] = problem
            else:
                cleaned[name] = value.strip()
        elif name == "name":
            problem = _text_problem(value, limit=MAX_NAME, required=True)
            if problem:
                errors[name] = problem
            else:
                cleaned[name] = " ".join(value.split())
        elif name == "low_stock_threshold":
            if not _is_int(value) or value < 0:
                errors[name] = _("Enter a whole number, 0 or more (0 switches the alert off).")
            elif value > MAX_THRESHOLD:
                errors[name] = _("At most %(n)d.") % {"n": MAX_THRESHOLD}
            else:
                cleaned[name] = value
        elif name in ("ships_delivery", "active"):
            if not isinstance(value, bool):
                errors[name] = _("Expected true or false.")
            else:
                cleaned[name] = value
        else:
            errors[name] = _("Unknown field.")
    return cleaned, errors


def _code_taken(merchant_id: int, code: str, exclude_pk: int | None = None) -> bool:
    qs = Location.unscoped.filter(merchant_id=merchant_id, code__iexact=code)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


def _code_conflict() -> Conflict:
    reason = _("Another location has this code.")
    return Conflict(reason, fields={"code": reason})


def _location_payload(location: Location) -> dict[str, Any]:
    return audit.snapshot(location, LOCATION_FIELDS)


@transaction.atomic
def create_warehouse(
    actor: Actor,
    *,
    code: str,
    name: str,
    ships_delivery: bool = False,
    low_stock_threshold: int = 0,
    active: bool = True,
) -> Location:
    """A new warehouse of the actor's merchant (owners and operators)."""
    _require_location_rights(actor)
    cleaned, errors = _clean_location(
        {
            "code": code,
            "name": name,
            "ships_delivery": ships_delivery,
            "low_stock_threshold": low_stock_threshold,
            "active": active,
        }
    )
    if cleaned.get("ships_delivery") and cleaned.get("active") is False:
        errors["ships_delivery"] = _("An inactive location cannot ship delivery orders.")
    if errors:
        raise InvalidInput(_("The location could not be saved."), fields=errors)
    if _code_taken(actor.merchant.pk, cleaned["code"]):
        raise _code_conflict()
    ships = cleaned.pop("ships_delivery")
    try:
        with transaction.atomic():
            location = Location.objects.create(
                merchant=actor.merchant, kind=Location.Kind.WAREHOUSE, **cleaned
            )
    except IntegrityError as exc:
        raise _code_conflict() from exc
    audit.record(actor, "inventory.location.create", location, after=_location_payload(location))
    if ships:
        location = set_delivery_location(actor, location)
    return location


def _lock_location(actor: Actor, location: Location) -> Location:
    locked = Location.objects.select_for_update().filter(pk=location.pk).first()
    if locked is None or locked.merchant_id != actor.merchant.pk:
        raise NotFound(_("Not found."))
    return locked


@transaction.atomic
def update_location(actor: Actor, location: Location, changes: Mapping[str, Any]) -> Location:
    """Change name, code, low-stock threshold, active, or make it the delivery location."""
    _require_location_rights(actor)
    cleaned, errors = _clean_location(changes)
    if errors:
        raise InvalidInput(_("The location could not be saved."), fields=errors)
    location = _lock_location(actor, location)
    ships = cleaned.pop("ships_delivery", None)
    if ships is False and location.ships_delivery:
        errors["ships_delivery"] = _(
            "Delivery orders ship from this location: choose another location to ship them instead."
        )
    active = cleaned.get("active", location.active)
    if not active and (location.ships_delivery or ships):
        errors["active"] = _(
            "The location that ships delivery orders stays active; choose another one first."
        )
    if errors:
        raise InvalidInput(_("The location could not be saved."), fields=errors)
    new_code = cleaned.get("code", location.code)
    if new_code != location.code and _code_taken(location.merchant_id, new_code, location.pk):
        raise _code_conflict()
    before = _location_payload(location)
    for name, value in cleaned.items():
        setattr(location, name, value)
    after = _location_payload(location)
    if audit.changed(before, after):
        try:
            with transaction.atomic():
                location.save()
        except IntegrityError as exc:
            raise _code_conflict() from exc
        audit.record(actor, "inventory.location.update", location, before=before, after=after)
    if ships:
        location = set_delivery_location(actor, location)
    return location


@transaction.atomic
def set_delivery_location(actor: Actor, location: Location) -> Location:
    """Make ``location`` the one that ships delivery orders (the previous one stops)."""
    _require_location_rights(actor)
    # this location and the current delivery location, locked in id order
    locked = list(
        Location.objects.select_for_update()
        .filter(Q(pk=location.pk) | Q(ships_delivery=True))
        .order_by("pk")
    )
    target = next((loc for loc in locked if loc.pk == location.pk), None)
    if target is None or target.merchant_id != actor.merchant.pk:
        raise NotFound(_("Not found."))
    if target.ships_delivery:
        return target
    if not target.active:
        raise InvalidInput(
            _("The location could not be saved."),
            fields={"ships_delivery": _("An inactive location cannot ship delivery orders.")},
        )
    for previous in locked:
        if previous.ships_delivery:
            before = _location_payload(previous)
            Location.objects.filter(pk=previous.pk).update(ships_delivery=False)
            previous.ships_delivery = False
            audit.record(
                actor,
                "inventory.location.update",
                previous,
                before=before,
                after=_location_payload(previous),
            )
    before = _location_payload(target)
    try:
        with transaction.atomic():
            Location.objects.filter(pk=target.pk).update(ships_delivery=True)
    except IntegrityError as exc:  # another location was chosen at the same moment
        raise Conflict(
            _("Another location was chosen at the same time; reload and retry.")
        ) from exc
    target.ships_delivery = True
    audit.record(
        actor, "inventory.location.update", target, before=before, after=_location_payload(target)
    )
    return target


# --- receipts and adjustments (staff) -------------------------------------------------------


def _sku_of_location(sku: Sku, location: Location) -> None:
    if sku.merchant_id != location.merchant_id:
        raise NotFound(_("Not found."))


def _replayed(location: Location, sku: Sku, kind: str, reference: str) -> StockMovement | None:
    if not reference:
        return None
    return StockMovement.unscoped.filter(
        location_id=location.pk, sku_id=sku.pk, kind=kind, reference=reference
    ).first()


@transaction.atomic
def receive(
    actor: Actor,
    *,
    location: Location,
    sku: Sku,
    quantity: int,
    note: str = "",
    reference: str = "",
) -> StockMovement:
    """Goods arrived at ``location``: on hand goes up by ``quantity`` (movement ``receipt``).

    With ``reference`` (a delivery note number, or the console form's token),
    receiving the same reference again for the same SKU and location answers
    the first movement and changes nothing.
    """
    actor.require(Perm.INVENTORY_MANAGE)
    errors: dict[str, str] = {}
    for name, problem in (
        ("quantity", _quantity_problem(quantity)),
        ("note", _text_problem(note, limit=MAX_NOTE)),
        ("reference", _reference_problem(reference, required=False)),
    ):
        if problem:
            errors[name] = problem
    if not location.active:
        errors["location"] = _("This location is inactive.")
    if errors:
        raise InvalidInput(_("The stock could not be received."), fields=errors)
    _require_stock_rights(actor, location)
    _sku_of_location(sku, location)
    reference = reference.strip()
    (level,) = _lock_levels(location, [sku.pk])
    replay = _replayed(location, sku, StockMovement.Kind.RECEIPT, reference)
    if replay is not None:
        return replay
    now = clock.now()
    record = Record(
        location.merchant_id,
        StockMovement.Kind.RECEIPT,
        reference=reference,
        note=note.strip(),
        actor_label=actor.label,
    )
    after = lock_objects.change_level(
        now=now, on_hand_delta=quantity, level_id=level.pk, record=record
    )
    assert after is not None  # the level is locked by this transaction
    movement = _written(after, record, on_hand_delta=quantity, now=now)
    audit.record(
        actor,
        "inventory.stock.receive",
        movement,
        object_repr=f"{sku.code} @ {location.code}",
        after=_movement_audit(movement),
    )
    _emit_changed(actor.merchant, location, movement)
    return movement


def _movement_audit(movement: StockMovement) -> dict[str, Any]:
    return {
        "location": movement.location_id,
        "sku": movement.sku_id,
        "kind": movement.kind,
        "on_hand_delta": movement.on_hand_delta,
        "on_hand": movement.on_hand_after,
        "reserved": movement.reserved_after,
        "reference": movement.reference,
        "note": movement.note,
    }


@transaction.atomic
def adjust(
    actor: Actor,
    *,
    location: Location,
    sku: Sku,
    delta: int | None = None,
    counted: int | None = None,
    reason: str,
    reference: str = "",
) -> StockMovement:
    """Correct on hand by ``delta``, or set it to what a stock take ``counted``.

    On hand never goes below what unpaid orders have reserved: the goods are
    promised. A count equal to the books is recorded too (a movement of 0).
    """
    actor.require(Perm.INVENTORY_MANAGE)
    errors: dict[str, str] = {}
    if (delta is None) == (counted is None):
        errors["counted"] = _("Give either the counted quantity or a change, not both.")
    elif delta is not None:
        if not _is_int(delta) or delta == 0:
            errors["delta"] = _("Enter a whole number other than 0, e.g. -2 or 5.")
        elif abs(delta) > MAX_QUANTITY:
            errors["delta"] = _("At most %(n)d.") % {"n": MAX_QUANTITY}
    else:
        problem = _quantity_problem(counted, minimum=0)
        if problem:
            errors["counted"] = problem
    for name, problem in (
        ("reason", _text_problem(reason, limit=MAX_NOTE, required=True)),
        ("reference", _reference_problem(reference, required=False)),
    ):
        if problem:
            errors[name] = problem
    if not location.active:
        errors["location"] = _("This location is inactive.")
    if errors:
        raise InvalidInput(_("The stock could not be adjusted."), fields=errors)
    _require_stock_rights(actor, location)
    _sku_of_location(sku, location)
    reference = reference.strip()
    (level,) = _lock_levels(location, [sku.pk])
    replay = _replayed(location, sku, StockMovement.Kind.ADJUSTMENT, reference)
    if replay is not None:
        return replay
    field = "counted" if counted is not None else "delta"
    change = counted - level.on_hand if counted is not None else delta
    assert change is not None
    if level.on_hand + change < level.reserved:
        if level.reserved:
            reason_text = ngettext(
                "%(n)d unit is reserved for unpaid orders: on hand cannot go below %(n)d.",
                "%(n)d units are reserved for unpaid orders: on hand cannot go below %(n)d.",
                level.reserved,
            ) % {"n": level.reserved}
        else:
            reason_text = ngettext(
                "Only %(n)d unit is on hand.", "Only %(n)d units are on hand.", level.on_hand
            ) % {"n": level.on_hand}
        raise InvalidInput(_("The stock could not be adjusted."), fields={field: reason_text})
    note = reason.strip()
    if counted is not None:
        note = _("Stock take: counted %(counted)d (books %(books)d). %(reason)s") % {
            "counted": counted,
            "books": level.on_hand,
            "reason": note,
        }
    now = clock.now()
    record = Record(
        location.merchant_id,
        StockMovement.Kind.ADJUSTMENT,
        reference=reference,
        note=note,
        actor_label=actor.label,
    )
    after = lock_objects.change_level(
        now=now,
        on_hand_delta=change,
        level_id=level.pk,
        min_available=-change if change < 0 else None,
        record=record,
    )
    assert after is not None  # the level is locked and the condition was checked under the lock
    movement = _written(after, record, on_hand_delta=change, now=now)
    audit.record(
        actor,
        "inventory.stock.adjust",
        movement,
        object_repr=f"{sku.code} @ {location.code}",
        before={"on_hand": level.on_hand, "reserved": level.reserved},
        after=_movement_audit(movement),
    )
    if change:
        _emit_changed(actor.merchant, location, movement)
        _emit_low(actor.merchant, location, after, before=level.on_hand - level.reserved)
    return movement


# --- reservations, sales, releases, returns (orders and payments) ----------------------------


def reserve(
    *,
    location: Location,
    items: Sequence[tuple[int, int]],
    reference: str,
    expires_at: datetime,
) -> None:
    """Hold ``items`` ((sku_id, quantity), ...) at ``location`` for an unpaid order.

    All or nothing: when any SKU is short, :class:`OutOfStock` names every
    short SKU with what is left, and nothing stays reserved (the caller's
    transaction remains usable). Idempotent per ``reference``: once a
    reference has reservations, reserving it again changes nothing.

    Queries: one SKU is one statement on PostgreSQL (the reference check, the
    conditional UPDATE, the reservation and the ledger line in one ``WITH``)
    and three on SQLite. Several SKUs: the reference check, the level ids (to
    lock in id order), one conditional UPDATE per SKU, two INSERTs. No
    ``SELECT … FOR UPDATE``: the conditional UPDATE is the lock and the check.
    For many buyers of one SKU, call it as late as possible in the caller's
    transaction: the level stays locked from here until the commit.
    """
    wanted, errors = _clean_items(items)
    problem = _reference_problem(reference, required=True)
    if problem:
        errors["reference"] = problem
    if not isinstance(expires_at, datetime) or expires_at.tzinfo is None:
        errors["expires_at"] = _("Expected a date and time with a time zone.")
    if location.pk is None:
        errors["location"] = _("Unknown location.")
    elif not location.active:
        errors["location"] = _("This location is inactive.")
    if errors:
        raise InvalidInput(_("The stock could not be reserved."), fields=errors)
    _check_bound(location.merchant_id)
    try:
        with transaction.atomic(savepoint=False):
            shortages = _reserve(location, wanted, reference, expires_at)
    except IntegrityError as exc:  # the same reference reserved by a concurrent request
        raise Conflict(
            _("This reference is being reserved by another request."),
            code="reservation_in_progress",
        ) from exc
    if shortages:
        raise OutOfStock(shortages)


def _reserve(
    location: Location, wanted: dict[int, int], reference: str, expires_at: datetime
) -> dict[int, int]:
    """Reserve under the caller's transaction; answer the shortages (nothing reserved then)."""
    merchant_id = location.merchant_id
    now = clock.now()
    if len(wanted) == 1:
        # the hot path: reference check, conditional UPDATE, reservation and ledger at once
        ((sku_id, quantity),) = wanted.items()
        after = lock_objects.reserve_one(
            now=now,
            merchant_id=merchant_id,
            location_id=location.pk,
            sku_id=sku_id,
            quantity=quantity,
            reference=reference,
            expires_at=expires_at,
        )
        if after is None:
            if _reserved_before(merchant_id, reference):
                return {}
            return _shortages(location, wanted, sku_id)
        _check_low(location, after, before=after.available + quantity)
        return {}
    if _reserved_before(merchant_id, reference):
        return {}
    level_ids = lock_objects.levels_by_sku(location.pk, list(wanted))
    missing = [sku_id for sku_id in wanted if sku_id not in level_ids]
    if missing:
        return _shortages(location, wanted, missing[0])
    taken: list[LevelAfter] = []
    for sku_id, level_id in sorted(level_ids.items(), key=lambda pair: pair[1]):
        after = lock_objects.change_level(
            now=now,
            reserved_delta=wanted[sku_id],
            level_id=level_id,
            min_available=wanted[sku_id],
        )
        if after is None:
            for done in taken:  # give back what this call took; the rows stay locked
                lock_objects.change_level(
                    now=now, reserved_delta=-wanted[done.sku_id], level_id=done.id
                )
            return _shortages(location, wanted, sku_id)
        taken.append(after)
    StockReservation.unscoped.bulk_create(
        [
            StockReservation(
                merchant_id=merchant_id,
                level_id=after.id,
                quantity=wanted[after.sku_id],
                reference=reference,
                expires_at=expires_at,
            )
            for after in taken
        ]
    )
    _write(
        [
            _movement(
                after,
                merchant_id,
                StockMovement.Kind.RESERVATION,
                reserved_delta=wanted[after.sku_id],
                reference=reference,
            )
            for after in taken
        ]
    )
    for after in taken:
        _check_low(location, after, before=after.available + wanted[after.sku_id])
    return {}


def _reserved_before(merchant_id: int, reference: str) -> bool:
    return StockReservation.unscoped.filter(merchant_id=merchant_id, reference=reference).exists()


def _check_low(location: Location, after: LevelAfter, *, before: int) -> None:
    if _low_crossed(location.low_stock_threshold, before, after.available):
        _emit_low(location.merchant, location, after, before)


def _shortages(location: Location, wanted: Mapping[int, int], failed: int) -> dict[int, int]:
    have = available(location, list(wanted))
    short = {sku_id: have[sku_id] for sku_id, n in wanted.items() if have[sku_id] < n}
    short.setdefault(failed, have[failed])  # it was short a moment ago
    return short


def commit(reference: str) -> None:
    """The order is paid: its reservations become sales (on hand and reserved both drop).

    Idempotent: only reservations still ``active`` are committed, so a repeat,
    or a commit after a release, changes nothing. A reservation that expired
    before the payment arrived is sold again if the stock is still available;
    if it is not, :class:`OutOfStock` is raised and nothing changes (the
    caller refunds). Needs the order's merchant bound.

    Queries: one SKU is two statements on PostgreSQL (claim the reservation;
    the level UPDATE with its ledger line) and three on SQLite. As with
    ``reserve``, the level stays locked until the caller commits.
    """
    problem = _reference_problem(reference, required=True)
    if problem:
        raise InvalidInput(problem, fields={"reference": problem})
    merchant = current_merchant()
    now = clock.now()
    with transaction.atomic(savepoint=False):
        claimed = lock_objects.claim_reservations(
            merchant_id=merchant.pk,
            reference=reference,
            from_status=StockReservation.Status.ACTIVE,
            to_status=StockReservation.Status.COMMITTED,
            now=now,
        )
        record = Record(merchant.pk, StockMovement.Kind.SALE, reference)
        for reservation in claimed:
            q = reservation.quantity
            after = lock_objects.change_level(
                now=now,
                on_hand_delta=-q,
                reserved_delta=-q,
                level_id=reservation.level_id,
                record=record,
            )
            assert after is not None
    if not claimed:
        _commit_expired(merchant, reference, now)


def _commit_expired(merchant: Merchant, reference: str, now: datetime) -> None:
    expired = StockReservation.unscoped.filter(
        merchant_id=merchant.pk, reference=reference, status=StockReservation.Status.EXPIRED
    )
    if not expired.exists():
        return
    # a savepoint: when the stock is gone, the claim is undone and the caller's transaction lives
    with transaction.atomic():
        claimed = lock_objects.claim_reservations(
            merchant_id=merchant.pk,
            reference=reference,
            from_status=StockReservation.Status.EXPIRED,
            to_status=StockReservation.Status.COMMITTED,
            now=now,
        )
        record = Record(
            merchant.pk,
            StockMovement.Kind.SALE,
            reference,
            note=_("Paid after the reservation expired"),
        )
        short_levels: list[int] = []
        for reservation in claimed:
            q = reservation.quantity
            after = lock_objects.change_level(
                now=now,
                on_hand_delta=-q,
                level_id=reservation.level_id,
                min_available=q,
                record=record,
            )
            if after is None:
                short_levels.append(reservation.level_id)
        if short_levels:
            raise OutOfStock(
                {
                    sku_id: on_hand - reserved
                    for sku_id, on_hand, reserved in StockLevel.unscoped.filter(
                        pk__in=short_levels
                    ).values_list("sku_id", "on_hand", "reserved")
                }
            )


def release(reference: str, *, reason: str = "cancelled") -> int:
    """Give back the stock an unpaid order held (cancelled); answer the units released.

    Idempotent: a second release, or a release after the commit, releases 0.
    Needs the order's merchant bound.
    """
    problem = _reference_problem(reference, required=True)
    if problem:
        raise InvalidInput(problem, fields={"reference": problem})
    merchant = current_merchant()
    with transaction.atomic(savepoint=False):
        claimed = _release(
            merchant.pk,
            reference,
            to_status=StockReservation.Status.RELEASED,
            note=str(reason)[:MAX_NOTE],
            now=clock.now(),
        )
    return sum(r.quantity for r in claimed)


def _release(
    merchant_id: int,
    reference: str,
    *,
    to_status: str,
    note: str,
    now: datetime,
    expired_by: datetime | None = None,
    actor_label: str = "",
) -> list[lock_objects.ClaimedReservation]:
    """Claim the reference's active reservations into ``to_status`` and give their stock back."""
    claimed = lock_objects.claim_reservations(
        merchant_id=merchant_id,
        reference=reference,
        from_status=StockReservation.Status.ACTIVE,
        to_status=to_status,
        now=now,
        expired_by=expired_by,
    )
    record = Record(
        merchant_id, StockMovement.Kind.RELEASE, reference, note=note, actor_label=actor_label
    )
    for reservation in claimed:
        after = lock_objects.change_level(
            now=now,
            reserved_delta=-reservation.quantity,
            level_id=reservation.level_id,
            record=record,
        )
        assert after is not None
    return claimed


def expire_reservations(now: datetime | None = None) -> int:
    """Release every active reservation past its expiry (all merchants); answer how many.

    Each reference is released in its own short transaction (the orders app
    cancels the order itself). A reservation committed or released meanwhile
    is left alone: the claim only moves rows that are still active.
    """
    now = now or clock.now()
    count = 0
    seen: set[tuple[int, str]] = set()
    while True:
        due = list(
            StockReservation.unscoped.filter(
                status=StockReservation.Status.ACTIVE, expires_at__lte=now
            )
            .values_list("merchant_id", "reference")
            .order_by("merchant_id", "reference")
            .distinct()[:EXPIRY_BATCH]
        )
        due = [pair for pair in due if pair not in seen]
        if not due:
            return count
        merchants = Merchant.objects.in_bulk({merchant_id for merchant_id, _ in due})
        for merchant_id, reference in due:
            seen.add((merchant_id, reference))
            with merchant_context(merchants[merchant_id]), transaction.atomic():
                claimed = _release(
                    merchant_id,
                    reference,
                    to_status=StockReservation.Status.EXPIRED,
                    note=_("Reservation expired"),
                    now=clock.now(),
                    expired_by=now,
                    actor_label="system",
                )
            count += len(claimed)


def restock(
    *,
    location: Location,
    items: Sequence[tuple[int, int]],
    reference: str,
    reason: str = "return",
) -> None:
    """Refunded goods come back: on hand goes up (movement ``return``).

    Idempotent per ``reference`` and SKU: a repeated refund notification adds
    nothing. Levels are locked in id order before the check.
    """
    wanted, errors = _clean_items(items)
    problem = _reference_problem(reference, required=True)
    if problem:
        errors["reference"] = problem
    if location.pk is None:
        errors["location"] = _("Unknown location.")
    if not errors:
        known = set(
            Sku.unscoped.filter(merchant_id=location.merchant_id, pk__in=list(wanted)).values_list(
                "pk", flat=True
            )
        )
        for sku_id in wanted:
            if sku_id not in known:
                errors[f"items.{sku_id}"] = _("Unknown SKU.")
    if errors:
        raise InvalidInput(_("The stock could not be returned."), fields=errors)
    _check_bound(location.merchant_id)
    now = clock.now()
    with transaction.atomic(savepoint=False):
        levels = _lock_levels(location, list(wanted))
        done = set(
            StockMovement.unscoped.filter(
                location_id=location.pk,
                sku_id__in=list(wanted),
                kind=StockMovement.Kind.RETURN,
                reference=reference,
            ).values_list("sku_id", flat=True)
        )
        record = Record(
            location.merchant_id, StockMovement.Kind.RETURN, reference, note=str(reason)
        )
        written: list[StockMovement] = []
        for level in levels:
            if level.sku_id in done:
                continue
            q = wanted[level.sku_id]
            after = lock_objects.change_level(
                now=now, on_hand_delta=q, level_id=level.pk, record=record
            )
            assert after is not None
            written.append(_written(after, record, on_hand_delta=q, now=now))
        if written:
            merchant = location.merchant
            for movement in written:
                _emit_changed(merchant, location, movement)


def available(location: Location, sku_ids: Sequence[int]) -> dict[int, int]:
    """``{sku_id: on hand − reserved}`` at ``location``; a SKU never stocked there has 0."""
    ids = list(sku_ids)
    result = dict.fromkeys(ids, 0)
    rows = StockLevel.unscoped.filter(location_id=location.pk, sku_id__in=ids).values_list(
        "sku_id", "on_hand", "reserved"
    )
    for sku_id, on_hand, reserved in rows:
        result[sku_id] = on_hand - reserved
    return result
