"""Reads of webhooks shared by the console pages and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.apps import apps
from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from siyu.core import clock
from siyu.core.events import EVENT_TYPES
from siyu.core.models import Merchant
from siyu.core.selectors import local_day_start
from siyu.webhooks.events import PING
from siyu.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

Status = WebhookDelivery.Status

# Areas whose name is not an app label (the app's verbose name is used otherwise).
AREA_LABELS: dict[str, Promise] = {
    "staff": _("Staff"),
    "merchant": _("Merchant"),
    "webhooks": _("Webhooks"),
}


def endpoints(*, since_days: int = 7) -> QuerySet[WebhookEndpoint]:
    """The bound merchant's endpoints with their finished deliveries of the last days."""
    since = clock.now() - timedelta(days=since_days)
    recent = Q(deliveries__created_at__gte=since)
    return WebhookEndpoint.objects.annotate(
        recent_succeeded=Count(
            "deliveries", filter=recent & Q(deliveries__status=Status.SUCCEEDED)
        ),
        recent_failed=Count("deliveries", filter=recent & Q(deliveries__status=Status.FAILED)),
    ).order_by("-created_at", "-id")


def success_rate(succeeded: int, failed: int) -> float | None:
    """Share of finished deliveries that succeeded (0–1); None when none finished."""
    total = succeeded + failed
    return None if total == 0 else succeeded / total


def deliveries(
    merchant: Merchant,
    *,
    endpoint_id: int | None = None,
    status: str = "",
    event_type: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[WebhookDelivery]:
    qs = WebhookDelivery.objects.select_related("endpoint").order_by("-created_at", "-id")
    if endpoint_id:
        qs = qs.filter(endpoint_id=endpoint_id)
    if status:
        qs = qs.filter(status=status)
    if event_type:
        qs = qs.filter(event_type=event_type)
    if since:
        qs = qs.filter(created_at__gte=local_day_start(since, merchant))
    if until:
        qs = qs.filter(created_at__lt=local_day_start(until + timedelta(days=1), merchant))
    return qs


def delivery_with_attempts(delivery_id: int) -> WebhookDelivery | None:
    return (
        WebhookDelivery.objects.select_related("endpoint", "replay_of")
        .prefetch_related(
            Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("number", "id"))
        )
        .filter(pk=delivery_id)
        .first()
    )


@dataclass(frozen=True)
class DayCount:
    day: date
    succeeded: int
    failed: int


def daily_counts(merchant: Merchant, endpoint_id: int, *, days: int = 14) -> list[DayCount]:
    """Finished deliveries per day (merchant's time zone) of the last ``days`` days, gaps as 0."""
    zone = clock.zone(merchant.time_zone)
    today = clock.local(clock.now(), merchant.time_zone).date()
    first = today - timedelta(days=days - 1)
    rows = (
        WebhookDelivery.objects.filter(
            endpoint_id=endpoint_id,
            created_at__gte=local_day_start(first, merchant),
            status__in=[Status.SUCCEEDED, Status.FAILED],
        )
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day", "status")
        .annotate(n=Count("id"))
    )
    counts: dict[tuple[date, str], int] = {(r["day"], r["status"]): r["n"] for r in rows}
    return [
        DayCount(
            day,
            counts.get((day, Status.SUCCEEDED), 0),
            counts.get((day, Status.FAILED), 0),
        )
        for day in (first + timedelta(days=i) for i in range(days))
    ]


@dataclass(frozen=True)
class EventChoice:
    name: str
    label: str


@dataclass(frozen=True)
class EventArea:
    area: str
    label: str
    events: list[EventChoice]


def area_label(area: str) -> str:
    if area in AREA_LABELS:
        return str(AREA_LABELS[area])
    try:
        return str(apps.get_app_config(area).verbose_name)
    except LookupError:
        return area.replace("_", " ").capitalize()


def event_areas() -> list[EventArea]:
    """Every registered event type, grouped by area (the name before the first dot)."""
    groups: dict[str, list[EventChoice]] = {}
    for name in sorted(EVENT_TYPES):
        if name == PING:  # sent on demand to one endpoint, not subscribed to
            continue
        groups.setdefault(name.split(".", 1)[0], []).append(
            EventChoice(name, str(EVENT_TYPES[name].label))
        )
    return [EventArea(area, area_label(area), items) for area, items in sorted(groups.items())]
