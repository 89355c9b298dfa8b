"""API: stock locations, levels, receipts, adjustments and the movement ledger (``/api/v1/inventory``).

(No ``from __future__ import annotations`` here: django-ninja resolves the
annotations of a paginated view in its own module.)

Handlers parse, call a selector or service, and answer. Store managers and
shopping guides see only the locations of the stores they are assigned to:
any other location, like one of another merchant, answers 404 (an API key
with a store role has no stores, so it sees none). Receipts and
adjustments take effect once per ``Idempotency-Key`` (and per ``reference``,
when given).
"""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from siyu.catalog.models import Sku
from siyu.core.apikit import ERROR_RESPONSES, Page, actor_of, get_or_404
from siyu.core.permissions import Perm
from siyu.inventory import selectors, services
from siyu.inventory.models import Location, StockLevel, StockMovement

router = Router(tags=["inventory"])

KINDS_TEXT = ", ".join(f"`{k}`" for k in StockMovement.Kind.values)


class LocationOut(Schema):
    id: int
    kind: str = Field(description="`store` or `warehouse`.")
    code: str = Field(examples=["WH-SH"])
    name: str = Field(examples=["上海中央仓"])
    store_id: int | None = Field(description="The store of a store's location.")
    ships_delivery: bool = Field(description="Delivery orders ship from here (one location).")
    low_stock_threshold: int = Field(
        description="Available at or below this counts as low stock; 0: no alert."
    )
    active: bool
    created_at: datetime


class WarehouseIn(Schema):
    code: str = Field(description="Unique per merchant.", examples=["WH-SH"])
    name: str = Field(examples=["上海中央仓"])
    ships_delivery: bool = Field(
        False, description="Make it the location that ships delivery orders."
    )
    low_stock_threshold: int = Field(0, ge=0, le=services.MAX_THRESHOLD)
    active: bool = True


class LocationPatch(Schema):
    code: str | None = None
    name: str | None = None
    ships_delivery: bool | None = Field(
        None,
        description="`true` moves delivery orders here; the delivery location cannot be "
        "switched off, only replaced.",
    )
    low_stock_threshold: int | None = Field(None, ge=0, le=services.MAX_THRESHOLD)
    active: bool | None = None


class LocationFilter(Schema):
    kind: str = Field("", description="`store` or `warehouse`.")
    active: bool | None = None


class LevelOut(Schema):
    id: int
    location_id: int
    location_code: str
    sku_id: int
    sku_code: str
    product_id: int
    product_name: str
    on_hand: int
    reserved: int = Field(description="Held for unpaid orders.")
    available: int = Field(description="`on_hand - reserved`: what can still be sold.")
    low: bool = Field(
        description="Available at or below the location's low-stock threshold (sold out "
        "counts as low)."
    )
    updated_at: datetime

    @staticmethod
    def resolve_location_code(obj: StockLevel) -> str:
        return obj.location.code

    @staticmethod
    def resolve_sku_code(obj: StockLevel) -> str:
        return obj.sku.code

    @staticmethod
    def resolve_product_id(obj: StockLevel) -> int:
        return obj.sku.product_id

    @staticmethod
    def resolve_product_name(obj: StockLevel) -> str:
        return obj.sku.product.name

    @staticmethod
    def resolve_available(obj: StockLevel) -> int:
        return obj.on_hand - obj.reserved

    @staticmethod
    def resolve_low(obj: StockLevel) -> bool:
        return obj.on_hand - obj.reserved <= obj.location.low_stock_threshold


class LevelFilter(Schema):
    location: int | None = Field(None, description="A location id.")
    sku: int | None = Field(None, description="A SKU id.")
    q: str = Field("", description="Searches product name, SKU code and barcode prefix.")
    low: bool | None = Field(None, description="Only low (or only not low) levels.")


class MovementOut(Schema):
    id: int
    location_id: int
    sku_id: int
    sku_code: str
    kind: str = Field(description=f"One of {KINDS_TEXT}.")
    on_hand_delta: int
    reserved_delta: int
    on_hand_after: int
    reserved_after: int
    reference: str = Field(description="The order, refund or delivery note it belongs to.")
    note: str
    actor: str = Field(description="Who made the change (empty for orders).")
    created_at: datetime

    @staticmethod
    def resolve_sku_code(obj: StockMovement) -> str:
        return obj.sku.code

    @staticmethod
    def resolve_actor(obj: StockMovement) -> str:
        return obj.actor_label


class MovementFilter(Schema):
    location: int | None = None
    sku: int | None = None
    kind: str = Field("", description=f"One of {KINDS_TEXT}.")
    reference: str = Field("", examples=["order:123"])
    since: datetime | None = Field(None, description="Only movements at or after this moment.")
    until: datetime | None = Field(None, description="Only movements before this moment.")


class ReceiptIn(Schema):
    location: int = Field(description="A location id.")
    sku: int = Field(description="A SKU id.")
    quantity: int = Field(ge=1, le=services.MAX_QUANTITY, examples=[24])
    note: str = Field("", max_length=services.MAX_NOTE, examples=["入库单 RK-20260301"])
    reference: str = Field(
        "",
        max_length=services.MAX_REFERENCE,
        description="A delivery note number: the same reference for the same SKU and location "
        "is received once.",
    )


class AdjustmentIn(Schema):
    location: int
    sku: int
    counted: int | None = Field(
        None, ge=0, le=services.MAX_QUANTITY, description="A stock take: on hand becomes this."
    )
    delta: int | None = Field(
        None,
        ge=-services.MAX_QUANTITY,
        le=services.MAX_QUANTITY,
        description="Or a change: negative takes away. Give `counted` or `delta`, not both.",
    )
    reason: str = Field(max_length=services.MAX_NOTE, examples=["月末盘点"])
    reference: str = Field("", max_length=services.MAX_REFERENCE)


def _location(request: HttpRequest, pk: int) -> Location:
    return get_or_404(selectors.visible_locations(actor_of(request)), pk=pk)


@router.get(
    "/locations",
    response={200: list[LocationOut], **ERROR_RESPONSES},
    summary="List stock locations",
)
@paginate(Page)
def list_locations(request: HttpRequest, filters: Query[LocationFilter]) -> Any:
    actor = actor_of(request, Perm.INVENTORY_VIEW)
    qs = selectors.visible_locations(actor)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.active is not None:
        qs = qs.filter(active=filters.active)
    return qs


@router.post(
    "/locations",
    response={201: LocationOut, **ERROR_RESPONSES},
    summary="Add a warehouse",
    description="Store locations are made with their stores; this adds a warehouse.",
)
def create_location(request: HttpRequest, payload: WarehouseIn) -> Status:
    actor = actor_of(request, Perm.INVENTORY_MANAGE)
    return Status(201, services.create_warehouse(actor, **payload.dict()))


@router.patch(
    "/locations/{int:location_id}",
    response={200: LocationOut, **ERROR_RESPONSES},
    summary="Change a location",
    description="Send only the fields to change (owners and operators).",
)
def patch_location(request: HttpRequest, location_id: int, payload: LocationPatch) -> Location:
    actor = actor_of(request, Perm.INVENTORY_MANAGE)
    location = _location(request, location_id)
    return services.update_location(actor, location, payload.dict(exclude_unset=True))


@router.get(
    "/levels",
    response={200: list[LevelOut], **ERROR_RESPONSES},
    summary="Stock levels",
    description="One row per SKU and location that has ever held stock.",
)
@paginate(Page)
def list_levels(request: HttpRequest, filters: Query[LevelFilter]) -> Any:
    actor = actor_of(request, Perm.INVENTORY_VIEW)
    return selectors.levels(
        actor, location_id=filters.location, sku_id=filters.sku, q=filters.q, low=filters.low
    )


@router.post(
    "/receipts",
    response={201: MovementOut, **ERROR_RESPONSES},
    summary="Receive stock",
    description="On hand goes up by `quantity`. Send an `Idempotency-Key` to retry safely.",
)
def create_receipt(request: HttpRequest, payload: ReceiptIn) -> Status:
    actor = actor_of(request, Perm.INVENTORY_MANAGE)
    location = _location(request, payload.location)
    sku = get_or_404(Sku.objects, pk=payload.sku)
    movement = services.receive(
        actor,
        location=location,
        sku=sku,
        quantity=payload.quantity,
        note=payload.note,
        reference=payload.reference,
    )
    return Status(201, movement)


@router.post(
    "/adjustments",
    response={201: MovementOut, **ERROR_RESPONSES},
    summary="Adjust stock or record a stock take",
    description="On hand never goes below what unpaid orders have reserved (422). Send an "
    "`Idempotency-Key` to retry safely.",
)
def create_adjustment(request: HttpRequest, payload: AdjustmentIn) -> Status:
    actor = actor_of(request, Perm.INVENTORY_MANAGE)
    location = _location(request, payload.location)
    sku = get_or_404(Sku.objects, pk=payload.sku)
    movement = services.adjust(
        actor,
        location=location,
        sku=sku,
        counted=payload.counted,
        delta=payload.delta,
        reason=payload.reason,
        reference=payload.reference,
    )
    return Status(201, movement)


@router.get(
    "/movements",
    response={200: list[MovementOut], **ERROR_RESPONSES},
    summary="The stock ledger",
    description="Newest first. Every change of a level is one movement with the counts after it.",
)
@paginate(Page)
def list_movements(request: HttpRequest, filters: Query[MovementFilter]) -> Any:
    actor = actor_of(request, Perm.INVENTORY_VIEW)
    return selectors.movements(
        actor,
        location_id=filters.location,
        sku_id=filters.sku,
        kind=filters.kind,
        reference=filters.reference,
        since=filters.since,
        until=filters.until,
    )
