"""Console page of customer lifetime value: the distribution, the top customers, and the
high-value customers who are probably leaving.

Reads what the lifetime-value refresh stored on each customer (``Customer.clv_value``: the
predicted value of the next 12 months in fen; ``clv_alive``: the chance still active in per
cent; ``clv_segment``; ``clv_scored_at``), so the page costs a few indexed reads however large
the history is. Every table and the chart download as CSV or XLSX
(``?export=csv|xlsx&table=NAME``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from siyu.analytics import charts
from siyu.analytics.views_console import (
    TableBuilder,
    actor_of,
    amount,
    analytics_view,
    export_response,
)
from siyu.core.models import Merchant
from siyu.core.money import format_amount
from siyu.core.tenancy import merchant_context
from siyu.customers.models import Customer
from siyu.customers.rules import VALUE_SEGMENTS, rfm_and_value_labels
from siyu.web.tables import Table

# Bucket edges of predicted value in whole units of the currency (yuan): [0, 50), [50, 100), ...
EDGES = (0, 50, 100, 200, 500, 1000, 2000, 5000)
TOP = 20


def _buckets(merchant: Merchant, scored: Any) -> list[tuple[str, int]]:
    """Scored customers per bucket of predicted value, in one counting query."""
    unit = 100  # minor units per yuan (the bucket labels are in the currency's whole units)
    aggregates = {}
    labels = []
    for i, low in enumerate(EDGES):
        high = EDGES[i + 1] if i + 1 < len(EDGES) else None
        condition = Q(clv_value__gte=low * unit)
        if high is not None:
            condition &= Q(clv_value__lt=high * unit)
            labels.append(f"{low}–{high}")
        else:
            labels.append(f"≥{low}")
        aggregates[f"b{i}"] = Count("pk", filter=condition)
    counts = scored.aggregate(**aggregates)
    return [(label, int(counts[f"b{i}"] or 0)) for i, label in enumerate(labels)]


def _customer_rows(merchant: Merchant, rows: Any, labels: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "id": c.pk,
            "name": c.name or c.phone or f"#{c.pk}",
            "value": c.clv_value,
            "value_shown": format_amount(c.clv_value, merchant.currency),
            "alive": c.clv_alive,
            "segment": labels.get(c.clv_segment, c.clv_segment),
            "orders": c.order_count,
        }
        for c in rows
    ]


def _customer_table(merchant: Merchant, title: str, rows: list[dict[str, Any]]) -> Table:
    return Table(
        title=title,
        headings=[
            _("Customer"),
            _("Predicted value, next 12 months"),
            _("Chance still active (%)"),
            _("Value segment"),
            _("Orders"),
        ],
        rows=[
            [r["name"], amount(merchant, r["value"]), r["alive"], r["segment"], r["orders"]]
            for r in rows
        ],
    )


@analytics_view
def value_page(request: HttpRequest) -> HttpResponse:
    merchant = actor_of(request).merchant
    labels = rfm_and_value_labels()
    with merchant_context(merchant):
        scored = Customer.objects.filter(clv_scored_at__isnull=False)
        summary = scored.aggregate(n=Count("pk"), total=Sum("clv_value"), at=Max("clv_scored_at"))
        buckets = _buckets(merchant, scored)
        by_segment = {
            r["clv_segment"]: r["n"]
            for r in scored.values("clv_segment").annotate(n=Count("pk")).order_by()
        }
        fields = ("pk", "name", "phone", "clv_value", "clv_alive", "clv_segment", "order_count")
        top = _customer_rows(
            merchant, scored.only(*fields).order_by("-clv_value", "pk")[:TOP], labels
        )
        leaving = _customer_rows(
            merchant,
            scored.filter(clv_segment="high_value_leaving")
            .only(*fields)
            .order_by("-clv_value", "pk")[:TOP],
            labels,
        )
    total = int(summary["n"] or 0)
    segments = [
        {
            "key": key,
            "label": labels[key],
            "count": by_segment.get(key, 0),
            "share": f"{by_segment.get(key, 0) / total * 100:.1f}%" if total else "—",
        }
        for key in VALUE_SEGMENTS
    ]
    tables: dict[str, TableBuilder] = {
        "distribution": lambda: Table(
            title=_("Predicted value distribution"),
            headings=[
                _("Predicted value (%(currency)s)") % {"currency": merchant.currency},
                _("Customers"),
            ],
            rows=[[label, n] for label, n in buckets],
        ),
        "segments": lambda: Table(
            title=_("Value segments"),
            headings=[_("Value segment"), _("Customers")],
            rows=[[s["label"], s["count"]] for s in segments],
        ),
        "top": lambda: _customer_table(merchant, _("Top customers by predicted value"), top),
        "leaving": lambda: _customer_table(merchant, _("High value, probably leaving"), leaving),
    }
    scored_day = summary["at"].date().isoformat() if summary["at"] else "unscored"
    exported = export_response(request, scored_day, tables)
    if exported is not None:
        return exported
    return render(
        request,
        "analytics/console/value.html",
        {
            "tab": "value",
            "total": total,
            "predicted_total": format_amount(int(summary["total"] or 0), merchant.currency),
            "predicted_mean": format_amount(
                round(int(summary["total"] or 0) / total) if total else 0, merchant.currency
            ),
            "scored_at": summary["at"],
            "segments": segments,
            "top": top,
            "leaving": leaving,
            "chart": charts.histogram(
                [label for label, _n in buckets],
                [n for _label, n in buckets],
                name=_("Customers"),
            ),
        },
    )
