"""Reads of the core shared by pages and the API."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.core.cache import cache
from django.db.models import Q, QuerySet

from siyu.core.clock import zone
from siyu.core.models import ApiKey, AuditEntry, DomainEvent, Merchant

STOREFRONT_MERCHANT_SECONDS = 30


def _storefront_key(slug: str) -> str:
    return f"storefront-merchant:{slug}"


def storefront_merchant(slug: str) -> Merchant | None:
    """The active merchant whose shop is at ``slug`` (every storefront request asks), or None.

    Read through the cache for ``STOREFRONT_MERCHANT_SECONDS`` (an unknown slug too):
    one query fewer per storefront request. Saving or deleting a merchant forgets its
    entry (see :func:`forget_storefront_merchant`); a change made without ``save()``
    shows within the half minute.
    """
    key = _storefront_key(slug)
    found = cache.get(key)
    if found is None:
        found = Merchant.objects.filter(slug=slug, status=Merchant.Status.ACTIVE).first()
        cache.set(key, found if found is not None else False, STOREFRONT_MERCHANT_SECONDS)
    return found or None


def forget_storefront_merchant(merchant: Merchant) -> None:
    """Drop the cached storefront lookup of ``merchant`` (saved or deleted just now)."""
    cache.delete(_storefront_key(merchant.slug))


def local_day_start(day: date, merchant: Merchant) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone(merchant.time_zone))


def audit_entries(
    merchant: Merchant,
    *,
    q: str = "",
    action: str = "",
    since: date | None = None,
    until: date | None = None,
    object_type: str = "",
    object_id: str = "",
) -> QuerySet[AuditEntry]:
    qs = AuditEntry.objects.select_related("actor_user").order_by("-created_at", "-id")
    if q:
        qs = qs.filter(
            Q(object_repr__icontains=q) | Q(actor_label__icontains=q) | Q(action__icontains=q)
        )
    if action:
        qs = qs.filter(action__startswith=action)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if since:
        qs = qs.filter(created_at__gte=local_day_start(since, merchant))
    if until:
        qs = qs.filter(created_at__lt=local_day_start(until + timedelta(days=1), merchant))
    return qs


def api_keys() -> QuerySet[ApiKey]:
    return ApiKey.objects.select_related("created_by").order_by("revoked_at", "-created_at")


def events(*, event_type: str = "", after_id: int = 0) -> QuerySet[DomainEvent]:
    qs = DomainEvent.objects.order_by("id")
    if event_type:
        qs = qs.filter(event_type=event_type)
    if after_id:
        qs = qs.filter(id__gt=after_id)
    return qs
