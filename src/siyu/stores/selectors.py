"""Reads of stores and staff shared by the console pages, the API and other apps."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from django.db.models import Count, FloatField, Prefetch, Q, QuerySet, TextField
from django.db.models.functions import Cast

from siyu.core import clock
from siyu.core.models import Membership, Merchant
from siyu.core.tenancy import current_merchant
from siyu.stores import geo, hours
from siyu.stores.models import Store, StoreStaff

# Nearest-store search without a radius looks in growing boxes until it has
# enough stores; the last step covers the whole Earth.
SEARCH_RADII_M: tuple[float, ...] = (5_000, 25_000, 150_000, 1_000_000, geo.HALF_CIRCUMFERENCE_M)
MAX_NEAREST = 100
# "Open now" needs each candidate's hours: read for the nearest first, in growing batches.
HOURS_BATCH = 64
HOURS_BATCH_MAX = 4096


def stores(
    *,
    q: str = "",
    city: str = "",
    district: str = "",
    status: str = "",
    pickup: bool | None = None,
) -> QuerySet[Store]:
    """Stores of the bound merchant, filtered; ``q`` searches name, code and address."""
    qs = Store.objects.all().order_by("code")
    q = q.strip()
    if q:
        qs = qs.filter(
            Q(name__icontains=q)
            | Q(code__icontains=q)
            | Q(address__icontains=q)
            | Q(district__icontains=q)
        )
    if city:
        qs = qs.filter(city=city)
    if district:
        qs = qs.filter(district=district)
    if status:
        qs = qs.filter(status=status)
    if pickup is not None:
        qs = qs.filter(pickup_enabled=pickup)
    return qs


def stores_with_staff_count(**filters: object) -> QuerySet[Store]:
    return stores(**filters).annotate(staff_count=Count("assignments"))  # type: ignore[arg-type]


def cities() -> list[str]:
    return list(Store.objects.order_by("city").values_list("city", flat=True).distinct())


def districts(city: str = "") -> list[str]:
    qs = Store.objects.exclude(district="")
    if city:
        qs = qs.filter(city=city)
    return list(qs.order_by("district").values_list("district", flat=True).distinct())


def store_staff(store: Store) -> list[Membership]:
    """The staff assigned to ``store``, active first, then by role and name."""
    memberships = (
        Membership.objects.filter(merchant_id=store.merchant_id, store_assignments__store=store)
        .select_related("user")
        .order_by("-is_active", "role", "user__display_name", "user__username")
    )
    return list(memberships)


def assigned_store_ids(membership: Membership | None) -> set[int]:
    if membership is None:
        return set()
    return set(StoreStaff.objects.filter(membership=membership).values_list("store_id", flat=True))


def local_now(merchant: Merchant) -> datetime:
    return clock.local(clock.now(), merchant.time_zone)


@dataclass(frozen=True)
class NearbyStore:
    store: Store
    distance_m: int  # great-circle distance from the searched point, rounded to metres

    @property
    def distance_text(self) -> str:
        return geo.format_distance(self.distance_m)

    def __getattr__(self, name: str) -> Any:
        # reads like the store itself (``nearby.name``), for templates and API schemas
        if name.startswith("__") or name == "store":
            raise AttributeError(name)
        return getattr(self.store, name)


def nearest_stores(
    lat: float | Decimal,
    lng: float | Decimal,
    *,
    limit: int = 10,
    pickup_only: bool = False,
    open_only: bool = False,
    radius_m: float | None = None,
    at: datetime | None = None,
) -> list[NearbyStore]:
    """The bound merchant's stores nearest to (lat, lng), nearest first.

    Stores closed for good never appear; temporarily closed ones appear unless
    ``pickup_only`` or ``open_only``. ``pickup_only`` keeps open stores with
    pickup on; ``open_only`` keeps stores whose opening hours cover ``at``
    (default: now, in the merchant's time zone). With ``radius_m`` only stores
    within that many metres count (one query); without it the search widens
    step by step (``SEARCH_RADII_M``) until ``limit`` stores are found.

    The database preselects candidates inside a latitude/longitude box (range
    conditions on the indexed columns); the exact distance and the order are
    computed here.
    """
    merchant = current_merchant()
    limit = max(1, min(limit, MAX_NEAREST))
    moment = at if at is not None and at.tzinfo is None else None  # naive: already local
    if moment is None:
        moment = clock.local(at or clock.now(), merchant.time_zone)
    base = Store.objects.exclude(status=Store.Status.CLOSED)
    if pickup_only or open_only:
        base = base.filter(status=Store.Status.OPEN)
    if pickup_only:
        base = base.filter(pickup_enabled=True)
    open_by_pk: dict[int, bool] = {}  # each store's hours are read and checked at most once
    open_by_hours: dict[str, bool] = {}  # a chain has few distinct weekly schedules

    def is_open(raw: str | None) -> bool:
        key = raw or "{}"
        if key not in open_by_hours:
            open_by_hours[key] = hours.is_open_at(json.loads(key), moment)
        return open_by_hours[key]

    def nearest_open(ranked: list[tuple[float, int]]) -> list[tuple[float, int]]:
        """The first ``limit`` open stores of ``ranked``, reading hours in growing batches."""
        chosen: list[tuple[float, int]] = []
        start, size = 0, HOURS_BATCH
        while start < len(ranked) and len(chosen) < limit:
            chunk = ranked[start : start + size]
            unknown = [pk for _d, pk in chunk if pk not in open_by_pk]
            if unknown:
                # the hours as text, decoded once per distinct schedule rather than per store
                weekly = base.filter(pk__in=unknown).annotate(
                    hours_text=Cast("opening_hours", TextField())
                )
                for pk, text in weekly.values_list("pk", "hours_text"):
                    open_by_pk[pk] = is_open(text)
            chosen += [(d, pk) for d, pk in chunk if open_by_pk.get(pk)]
            start, size = start + size, min(size * 4, HOURS_BATCH_MAX)
        return chosen[:limit]

    radii = (radius_m,) if radius_m is not None else SEARCH_RADII_M
    found: list[tuple[float, int]] = []
    for radius in radii:
        box = geo.bounding_box(lat, lng, radius)
        in_lng = Q()
        for lo, hi in box.lng_ranges:
            in_lng |= Q(
                longitude__gte=_edge(lo, ROUND_FLOOR), longitude__lte=_edge(hi, ROUND_CEILING)
            )
        # only what the ranking needs; the winners' full rows are read once at the end
        rows = (
            base.filter(
                in_lng,
                latitude__gte=_edge(box.min_lat, ROUND_FLOOR),
                latitude__lte=_edge(box.max_lat, ROUND_CEILING),
            )
            .annotate(lat=Cast("latitude", FloatField()), lng=Cast("longitude", FloatField()))
            .values_list("pk", "lat", "lng")
        )
        ranked = [
            (d, row[0])
            for d, row in geo.rank_by_distance(
                lat,
                lng,
                rows,
                lambda row: (row[1], row[2]),
                limit=None if open_only else limit,
                max_distance_m=radius,
            )
        ]
        found = nearest_open(ranked) if open_only else ranked
        if len(found) >= limit:
            break
    if not found:
        return []
    by_pk = Store.objects.in_bulk([pk for _d, pk in found])
    return [NearbyStore(by_pk[pk], round(d)) for d, pk in found]


def _edge(value: float, rounding: str) -> Decimal:
    """A box edge at the column's precision, rounded outwards so no store on the edge is lost."""
    return Decimal(repr(value)).quantize(Decimal("0.000001"), rounding=rounding)


def staff_members(
    merchant: Merchant,
    *,
    q: str = "",
    role: str = "",
    store_id: int | None = None,
    active: bool | None = None,
) -> QuerySet[Membership]:
    """Memberships of ``merchant`` with their users and stores (prefetched)."""
    qs = (
        Membership.objects.filter(merchant=merchant)
        .select_related("user")
        .prefetch_related(
            Prefetch(
                "store_assignments",
                queryset=StoreStaff.unscoped.select_related("store").order_by("store__code"),
            )
        )
        .order_by("-is_active", "role", "user__username")
    )
    q = q.strip()
    if q:
        qs = qs.filter(
            Q(user__username__icontains=q)
            | Q(user__display_name__icontains=q)
            | Q(user__phone__icontains=q)
            | Q(user__email__icontains=q)
        )
    if role:
        qs = qs.filter(role=role)
    if store_id is not None:
        qs = qs.filter(store_assignments__store_id=store_id)
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs


def staff_member(merchant: Merchant, pk: int) -> Membership | None:
    return staff_members(merchant).filter(pk=pk).first()
