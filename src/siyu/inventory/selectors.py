"""Reads of stock shared by the console pages and the API.

Everything starts from :func:`visible_locations`: store managers and shopping
guides see only the locations of the stores they are assigned to; a location
they cannot see is simply not found.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import F, FilteredRelation, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from siyu.catalog.models import Product, Sku
from siyu.core import clock
from siyu.core.actors import Actor
from siyu.inventory import services
from siyu.inventory.models import Location, StockLevel, StockMovement

LIVE_PRODUCT_STATUSES = (Product.Status.DRAFT, Product.Status.ON_SALE, Product.Status.OFF_SALE)


def visible_locations(actor: Actor, *, include_inactive: bool = True) -> QuerySet[Location]:
    """The locations the actor works with: warehouses first, then stores, by code."""
    qs = Location.objects.select_related("store").order_by("-kind", "code")
    if services.is_store_scoped(actor):
        qs = qs.filter(store_id__in=services.assigned_store_ids(actor))
    if not include_inactive:
        qs = qs.filter(active=True)
    return qs


def visible_location(actor: Actor, pk: int | str | None) -> Location | None:
    try:
        key = int(pk) if pk not in (None, "") else None
    except (TypeError, ValueError):
        return None
    if key is None:
        return None
    return visible_locations(actor).filter(pk=key).first()


def default_location(actor: Actor) -> Location | None:
    """The location a stock page opens on: the delivery location, else the first one."""
    locations = visible_locations(actor, include_inactive=False)
    return locations.filter(ships_delivery=True).first() or locations.first()


def _search(qs: QuerySet, q: str, prefix: str = "") -> QuerySet:
    q = q.strip()
    if not q:
        return qs
    return qs.filter(
        Q(**{f"{prefix}product__name__icontains": q})
        | Q(**{f"{prefix}code__icontains": q})
        | Q(**{f"{prefix}barcode__startswith": q})
    )


def stock_table(location: Location, *, q: str = "", low: bool = False) -> QuerySet[Sku]:
    """The SKUs at ``location`` with ``on_hand``, ``reserved``, ``available`` and ``level_id``.

    Every live SKU of the merchant is listed (0 where it was never stocked),
    plus any SKU that still has a level here. ``low``: available at or below
    the location's low-stock threshold (out of stock included).
    """
    qs = (
        Sku.objects.select_related("product")
        .annotate(
            here=FilteredRelation("stock_levels", condition=Q(stock_levels__location=location))
        )
        .annotate(
            on_hand=Coalesce(F("here__on_hand"), Value(0)),
            reserved=Coalesce(F("here__reserved"), Value(0)),
            level_id=F("here__id"),
        )
        .annotate(available=F("on_hand") - F("reserved"))
        .filter(
            Q(active=True, product__status__in=LIVE_PRODUCT_STATUSES) | Q(here__id__isnull=False)
        )
        .order_by("product__position", "product__name", "product_id", "position", "id")
    )
    qs = _search(qs, q)
    if low:
        qs = qs.filter(available__lte=location.low_stock_threshold)
    return qs


def levels(
    actor: Actor,
    *,
    location_id: int | None = None,
    sku_id: int | None = None,
    q: str = "",
    low: bool | None = None,
) -> QuerySet[StockLevel]:
    """Stock levels at the locations the actor sees, filtered (the API's list)."""
    qs = (
        StockLevel.objects.filter(location__in=visible_locations(actor))
        .select_related("sku__product", "location")
        .annotate(available_now=F("on_hand") - F("reserved"))
        .order_by("location__code", "sku__code")
    )
    if location_id is not None:
        qs = qs.filter(location_id=location_id)
    if sku_id is not None:
        qs = qs.filter(sku_id=sku_id)
    qs = _search(qs, q, "sku__")
    if low is True:
        qs = qs.filter(available_now__lte=F("location__low_stock_threshold"))
    elif low is False:
        qs = qs.filter(available_now__gt=F("location__low_stock_threshold"))
    return qs


def day_range(
    day_from: date | None, day_to: date | None, time_zone: str
) -> tuple[datetime | None, datetime | None]:
    """The moments that start ``day_from`` and end ``day_to`` in the merchant's time zone."""
    zone = clock.zone(time_zone)
    start = datetime.combine(day_from, time.min, zone) if day_from else None
    end = datetime.combine(day_to + timedelta(days=1), time.min, zone) if day_to else None
    return start, end


def movements(
    actor: Actor,
    *,
    location_id: int | None = None,
    sku_id: int | None = None,
    kind: str = "",
    reference: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[StockMovement]:
    """The ledger at the locations the actor sees, newest first."""
    qs = (
        StockMovement.objects.filter(location__in=visible_locations(actor))
        .select_related("sku__product", "location")
        .order_by("-created_at", "-id")
    )
    if location_id is not None:
        qs = qs.filter(location_id=location_id)
    if sku_id is not None:
        qs = qs.filter(sku_id=sku_id)
    if kind:
        qs = qs.filter(kind=kind)
    if reference.strip():
        qs = qs.filter(reference=reference.strip())
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    if until is not None:
        qs = qs.filter(created_at__lt=until)
    return qs


def find_sku(text: str) -> Sku | None:
    """A SKU of the bound merchant by its code or barcode (what a scanner types)."""
    text = text.strip()
    if not text:
        return None
    return (
        Sku.objects.select_related("product")
        .filter(Q(code__iexact=text) | Q(barcode=text))
        .order_by("id")
        .first()
    )
