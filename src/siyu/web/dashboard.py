"""The console dashboard's figures (read-only; combines selectors of several apps).

Each block appears only for roles that may open the page it links to. Later
capabilities (orders, customers, groups) add their headline numbers here.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from siyu.catalog.models import Product
from siyu.catalog.selectors import status_counts
from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.models import AuditEntry, Membership
from siyu.core.permissions import Perm
from siyu.stores.models import Store
from siyu.webhooks.models import WebhookDelivery, WebhookEndpoint

BRAND = "#c2410c"
MUTED = "#d6d3d1"


def _store_stat() -> dict[str, Any]:
    counts = Store.objects.aggregate(
        total=Count("id", filter=~Q(status=Store.Status.CLOSED)),
        open=Count("id", filter=Q(status=Store.Status.OPEN)),
        pickup=Count("id", filter=Q(status=Store.Status.OPEN, pickup_enabled=True)),
    )
    return {
        "label": _("Stores open"),
        "value": f"{counts['open']} / {counts['total']}",
        "note": _("%(n)s with in-store pickup") % {"n": counts["pickup"]},
        "url": reverse("stores:store_list"),
    }


def _product_stat() -> dict[str, Any]:
    counts = status_counts()
    return {
        "label": _("Products on sale"),
        "value": counts.get(Product.Status.ON_SALE, 0),
        "note": _("%(n)s drafts or off sale")
        % {"n": sum(counts.values()) - counts.get(Product.Status.ON_SALE, 0)},
        "url": reverse("catalog:product_list"),
    }


def _staff_stat(actor: Actor) -> dict[str, Any]:
    active = Membership.objects.filter(merchant=actor.merchant, is_active=True).count()
    return {
        "label": _("Active staff"),
        "value": active,
        "note": "",
        "url": reverse("stores:staff_list"),
    }


def _webhook_stat() -> dict[str, Any]:
    since = clock.now() - timedelta(days=7)
    failed = WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.FAILED, created_at__gte=since
    ).count()
    active = WebhookEndpoint.objects.filter(is_active=True).count()
    return {
        "label": _("Webhook endpoints"),
        "value": active,
        "note": _("%(n)s failed deliveries in 7 days") % {"n": failed},
        "url": reverse("webhooks:endpoint_list"),
    }


def _catalog_chart() -> dict[str, Any] | None:
    """Products per top-level category, on sale versus the rest (an ECharts option)."""
    rows = Product.objects.values("category__parent__name", "category__name").annotate(
        on_sale=Count("id", filter=Q(status=Product.Status.ON_SALE)),
        other=Count("id", filter=~Q(status=Product.Status.ON_SALE)),
    )
    totals: dict[str, list[int]] = {}
    for row in rows:
        name = row["category__parent__name"] or row["category__name"] or _("Uncategorised")
        bucket = totals.setdefault(name, [0, 0])
        bucket[0] += row["on_sale"]
        bucket[1] += row["other"]
    if not totals:
        return None
    names = sorted(totals, key=lambda n: sum(totals[n]))
    return {
        "title": _("Products by category"),
        "data": {
            "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
            "legend": {"bottom": 0},
            "grid": {"left": 8, "right": 16, "top": 8, "bottom": 32, "containLabel": True},
            "xAxis": {"type": "value", "minInterval": 1},
            "yAxis": {"type": "category", "data": names},
            "series": [
                {
                    "name": _("On sale"),
                    "type": "bar",
                    "stack": "n",
                    "color": BRAND,
                    "data": [totals[n][0] for n in names],
                },
                {
                    "name": _("Draft or off sale"),
                    "type": "bar",
                    "stack": "n",
                    "color": MUTED,
                    "data": [totals[n][1] for n in names],
                },
            ],
        },
    }


def overview(actor: Actor) -> dict[str, Any]:
    stats: list[dict[str, Any]] = []
    context: dict[str, Any] = {"stats": stats}
    if actor.can(Perm.STORES_VIEW):
        stats.append(_store_stat())
    if actor.can(Perm.CATALOG_VIEW):
        stats.append(_product_stat())
        context["chart"] = _catalog_chart()
    if actor.can(Perm.STAFF_VIEW):
        stats.append(_staff_stat(actor))
    if actor.can(Perm.WEBHOOKS_VIEW):
        stats.append(_webhook_stat())
    if actor.can(Perm.AUDIT_VIEW):
        context["recent_activity"] = list(AuditEntry.objects.order_by("-created_at", "-id")[:8])
    return context
