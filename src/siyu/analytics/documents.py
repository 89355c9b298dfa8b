"""The analytics numbers as plain JSON-ready documents, shared by ``siyu report --json`` and
the staff API (``/api/v1/analytics/...``), so both say exactly the same. Money in minor units
(fen), shares and rates as fractions, days as ISO dates; ``to`` is the last day included."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from siyu.analytics import cohorts, lifetime, metrics, rfm
from siyu.analytics.models import LifetimeRun
from siyu.analytics.reference import Period, SaleStats
from siyu.core.models import Merchant

STAT_FIELDS = (
    "gmv",
    "net_sales",
    "refunds",
    "paid_orders",
    "orders",
    "buyers",
    "aov",
    "frequency",
    "repurchase_rate",
    "new_buyers",
    "returning_buyers",
    "refund_count",
)


def stats_document(stats: SaleStats) -> dict[str, Any]:
    return {name: getattr(stats, name) for name in STAT_FIELDS}


def _span(period: Period) -> dict[str, str]:
    return {"from": period.start.isoformat(), "to": (period.end - timedelta(days=1)).isoformat()}


def overview_document(
    merchant: Merchant,
    period: Period,
    figures: metrics.Overview,
    by: str | None = None,
    grouped: list[tuple[str, Any, SaleStats]] | None = None,
) -> dict[str, Any]:
    """The overview of ``period`` beside the period before it, with each number's change and
    definition; with ``by``, the period's sales per value of the dimension."""
    document: dict[str, Any] = {
        "merchant": merchant.slug,
        "currency": merchant.currency,
        **_span(period),
        "previous": _span(period.previous()),
        "numbers": {
            row["name"]: {
                "value": row["value"],
                "previous": row["previous"],
                "change": row["change"],
                "definition": str(metrics.DEFINITIONS.get(row["name"], "")),
            }
            for row in figures.rows()
        },
        "sources": {
            source: {"net_sales": stats.net_sales, "orders": stats.orders, "share": share}
            for source, (stats, share) in figures.sources.items()
        },
    }
    if by:
        document["by"] = by
        document["groups"] = [
            {"key": key, "label": label, **stats_document(stats)}
            for label, key, stats in grouped or []
        ]
    return document


def cohort_document(matrix: cohorts.CohortMatrix) -> dict[str, Any]:
    return {
        "by": matrix.by,
        "rows": [
            {
                "key": row.key,
                "size": row.size,
                "cells": [
                    {
                        "months_since": cell.months_since,
                        "eligible": cell.eligible,
                        "buyers": cell.buyers,
                        "net_sales": cell.net_sales,
                        "retention": cell.retention,
                        "revenue_per_customer": cell.revenue_per_customer,
                    }
                    for cell in row.cells
                ],
            }
            for row in matrix.rows
        ],
    }


def rfm_document(merchant: Merchant, as_of: date) -> dict[str, Any]:
    scored = rfm.rfm_cells(merchant, as_of)
    counts: dict[str, int] = dict.fromkeys(rfm.CELLS, 0)
    for score in scored.values():
        counts[score.cell] = counts.get(score.cell, 0) + 1
    return {
        "as_of": as_of.isoformat(),
        "customers": len(scored),
        "cells": counts,
        "grid": [
            {"recency": r, "fm": fm, "customers": n}
            for (r, fm), n in sorted(rfm.grid(scored).items())
        ],
    }


def lifetime_document(run: LifetimeRun | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {
        "id": run.pk,
        "as_of": run.as_of.isoformat(),
        "unit": run.unit,
        "horizon_days": run.horizon_days,
        "status": run.status,
        "sales": run.sales,
        "customers": run.customers,
        "repeat_customers": run.repeat_customers,
        "params": run.params,
        "log_likelihood": run.log_likelihood,
        "converged": run.converged,
        "cautions": [{"code": c, "message": m} for c, m in lifetime.cautions(run)],
        "holdout": run.holdout,
        "seconds": round(run.seconds, 3),
        "created_at": run.created_at.isoformat(),
    }
