"""Console pages of analytics: the RFM grid, fission and the guide and distributor leaderboards.

Same rules as ``views_console``: the query string gives the period (a bad value is a 400
naming the field), the views call the metrics functions and only read, and every table and
chart downloads as CSV or XLSX through ``?export=csv|xlsx&table=NAME``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from siyu.analytics import charts, metrics, metrics_boards, metrics_fission, rfm
from siyu.analytics.forms import dimension_labels
from siyu.analytics.views_console import (
    COUNT,
    MONEY,
    PERCENT,
    TableBuilder,
    actor_of,
    amount,
    analytics_view,
    export_response,
    page_context,
    read_query,
    shown,
)
from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context
from siyu.web.tables import Table

SCORES = (1, 2, 3, 4, 5)
TOP_INVITERS = 20


# --- RFM -------------------------------------------------------------------------------------


@analytics_view
def rfm_page(request: HttpRequest) -> HttpResponse:
    """The 5×5 grid (recency × mean of frequency and monetary) and the named cells, scored
    on all history up to the last day of the chosen period."""
    merchant = actor_of(request).merchant
    form, query = read_query(request)
    scored = rfm.rfm_cells(merchant, query.period.end)
    counts = rfm.grid(scored)
    total = len(scored)
    named: dict[str, int] = {}
    for score in scored.values():
        named[score.cell] = named.get(score.cell, 0) + 1
    cells: list[dict[str, Any]] = [
        {
            "key": key,
            "label": str(label),
            "count": named.get(key, 0),
            "share": named.get(key, 0) / total if total else None,
        }
        for key, label in rfm.CELLS.items()
    ]
    tables: dict[str, TableBuilder] = {
        "grid": lambda: Table(
            title=_("RFM grid"),
            headings=[_("R / FM"), *(str(fm) for fm in SCORES)],
            rows=[[r, *(counts.get((r, fm), 0) for fm in SCORES)] for r in reversed(SCORES)],
        ),
        "cells": lambda: Table(
            title=_("RFM cells"),
            headings=[_("Cell"), _("Customers"), _("Share")],
            rows=[
                [c["label"], c["count"], None if c["share"] is None else round(c["share"], 4)]
                for c in cells
            ],
        ),
    }
    exported = export_response(request, query, tables)
    if exported is not None:
        return exported
    y_scores = list(reversed(SCORES))
    points = [(fm - 1, y, counts.get((r, fm), 0)) for y, r in enumerate(y_scores) for fm in SCORES]
    context = page_context(request, form, query, "rfm", ())
    context.update(
        {
            "total": total,
            "definition": metrics.DEFINITIONS["rfm"],
            "grid": [
                {
                    "r": r,
                    "cells": [
                        {
                            "fm": fm,
                            "count": counts.get((r, fm), 0),
                            "cell": str(rfm.CELLS[rfm.CELL_MAP[r][fm]]),
                        }
                        for fm in SCORES
                    ],
                }
                for r in y_scores
            ],
            "scores": SCORES,
            "cells": [{**c, "share_shown": shown(merchant, PERCENT, c["share"])} for c in cells],
            "chart": charts.heatmap(
                [str(fm) for fm in SCORES],
                [str(r) for r in y_scores],
                points,
                name=_("Customers"),
                x_name=_("FM score (mean of frequency and monetary)"),
                y_name=_("R score"),
            ),
        }
    )
    return render(request, "analytics/console/rfm.html", context)


# --- fission ---------------------------------------------------------------------------------


def _customer_names(merchant: Merchant, ids: list[int]) -> dict[int, str]:
    from siyu.customers.models import Customer

    with merchant_context(merchant):
        return {
            c.pk: str(c.name or c.phone or f"#{c.pk}")
            for c in Customer.objects.filter(pk__in=ids).only("pk", "name", "phone")
        }


def _fission_row(label: str, f: metrics_fission.Fission) -> dict[str, Any]:
    return {
        "label": label,
        "invitations": f.invitations,
        "inviters": f.inviters,
        "bought": f.invitees_bought,
        "k_factor": f.k_factor,
        "k_shown": "—" if f.k_factor is None else f"{f.k_factor:.2f}",
        "conversion": f.conversion,
        "conversion_shown": "—" if f.conversion is None else f"{f.conversion * 100:.1f}%",
    }


def _fission_table(title: str, first: str, rows: list[dict[str, Any]]) -> Table:
    return Table(
        title=title,
        headings=[
            first,
            _("Invitations"),
            _("Inviters"),
            _("Invitees who bought"),
            _("K-factor"),
            _("Conversion"),
        ],
        rows=[
            [
                r["label"],
                r["invitations"],
                r["inviters"],
                r["bought"],
                None if r["k_factor"] is None else round(r["k_factor"], 4),
                None if r["conversion"] is None else round(r["conversion"], 4),
            ]
            for r in rows
        ],
    )


@analytics_view
def fission_page(request: HttpRequest) -> HttpResponse:
    merchant = actor_of(request).merchant
    form, query = read_query(request)
    period = query.period
    total = metrics_fission.fission(merchant, period)[None]
    by_kind = metrics_fission.fission(merchant, period, by="kind")
    by_activity = metrics_fission.fission(merchant, period, by="activity")
    by_inviter = metrics_fission.fission(merchant, period, by="inviter")
    trees = metrics_fission.referral_trees(merchant)
    none = _("(none)")
    kinds = [
        _fission_row(str(k) if k else none, f)
        for k, f in sorted(by_kind.items(), key=lambda i: (-i[1].invitations, str(i[0])))
    ]
    activities = [
        _fission_row(f"#{k}" if k is not None else none, f)
        for k, f in sorted(by_activity.items(), key=lambda i: (-i[1].invitations, i[0] or 0))
    ]
    top = sorted(
        by_inviter.items(), key=lambda i: (-i[1].invitees_bought, -i[1].invitations, i[0])
    )[:TOP_INVITERS]
    names = _customer_names(merchant, [int(k) for k, _f in top])
    inviters = [_fission_row(names.get(int(k), f"#{k}"), f) for k, f in top]
    stages = [
        (_("Invitations"), total.invitations),
        (_("Invitees who bought"), total.invitees_bought),
    ]
    tables: dict[str, TableBuilder] = {
        "funnel": lambda: Table(
            title=_("Fission funnel"),
            headings=[_("Stage"), _("Customers")],
            rows=[[str(label), n] for label, n in stages],
        ),
        "kinds": lambda: _fission_table(_("Fission by kind"), _("Kind"), kinds),
        "activities": lambda: _fission_table(_("Fission by activity"), _("Activity"), activities),
        "inviters": lambda: _fission_table(_("Top inviters"), _("Inviter"), inviters),
        "levels": lambda: Table(
            title=_("Referral tree levels"),
            headings=[_("Level"), _("Customers")],
            rows=[[level, n] for level, n in trees.levels.items()],
        ),
    }
    exported = export_response(request, query, tables)
    if exported is not None:
        return exported
    context = page_context(request, form, query, "fission", ())
    context.update(
        {
            "total": _fission_row("", total),
            "trees": trees,
            "kinds": kinds,
            "activities": activities,
            "inviters": inviters,
            "definitions": {
                name: metrics.DEFINITIONS[name]
                for name in ("invitations", "invitees_bought", "k_factor", "tree_depth")
            },
            "chart": charts.funnel([(str(label), n) for label, n in stages], name=_("Fission")),
            "has_links": bool(total.invitations),
        }
    )
    return render(request, "analytics/console/fission.html", context)


# --- leaderboards ----------------------------------------------------------------------------

BOARD_COLUMNS = (
    ("customers_added", COUNT),
    ("active_customers", COUNT),
    ("net_sales", MONEY),
    ("orders", COUNT),
    ("commission", MONEY),
)


def _board(
    merchant: Merchant, kind: str, rows: list[metrics_boards.BoardRow]
) -> list[dict[str, Any]]:
    labels = dimension_labels(merchant, kind, [r.id for r in rows])
    result = []
    for r in rows:
        values = {
            "customers_added": r.customers_added,
            "active_customers": r.active_customers,
            "net_sales": r.sales.net_sales,
            "orders": r.sales.orders,
            "commission": r.commission,
        }
        result.append(
            {
                "id": r.id,
                "label": labels[r.id],
                "values": values,
                "cells": [shown(merchant, k, values[name]) for name, k in BOARD_COLUMNS],
            }
        )
    return result


def _board_table(merchant: Merchant, title: str, first: str, rows: list[dict[str, Any]]) -> Table:
    return Table(
        title=title,
        headings=[
            first,
            _("Customers added"),
            _("Active customers"),
            _("Attributed sales"),
            _("Orders"),
            _("Commission"),
        ],
        rows=[
            [
                r["label"],
                *(
                    amount(merchant, r["values"][name]) if k == MONEY else r["values"][name]
                    for name, k in BOARD_COLUMNS
                ),
            ]
            for r in rows
        ],
    )


@analytics_view
def leaderboards(request: HttpRequest) -> HttpResponse:
    merchant = actor_of(request).merchant
    form, query = read_query(request)
    guides = _board(merchant, "guide", metrics_boards.guide_board(merchant, query.period))
    distributors = _board(
        merchant, "distributor", metrics_boards.distributor_board(merchant, query.period)
    )
    tables: dict[str, TableBuilder] = {
        "guides": lambda: _board_table(merchant, _("Guide leaderboard"), _("Guide"), guides),
        "distributors": lambda: _board_table(
            merchant, _("Distributor leaderboard"), _("Distributor"), distributors
        ),
    }
    exported = export_response(request, query, tables)
    if exported is not None:
        return exported
    context = page_context(request, form, query, "leaderboards", ())
    context.update(
        {
            "guides": guides,
            "distributors": distributors,
            "definitions": {
                name: metrics.DEFINITIONS[name]
                for name in (
                    "customers_added",
                    "active_customers",
                    "attributed_sales",
                    "commission",
                )
            },
            "guide_chart": charts.ranked_bars(
                [(r["label"], r["values"]["net_sales"]) for r in guides[:10]],
                name=_("Attributed sales"),
            ),
            "distributor_chart": charts.ranked_bars(
                [(r["label"], r["values"]["net_sales"]) for r in distributors[:10]],
                name=_("Attributed sales"),
            ),
        }
    )
    return render(request, "analytics/console/leaderboards.html", context)
