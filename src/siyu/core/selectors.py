"""Reads of the core shared by pages and the API."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet

from siyu.core.clock import zone
from siyu.core.models import ApiKey, AuditEntry, DomainEvent, Merchant


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
