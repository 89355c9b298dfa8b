"""Console pages of analytics, mounted at ``/console/analytics/``: the overview and cohorts.

(RFM, fission and leaderboards are in ``views_console_boards``; what the pages share is here.)

Every page reads its period, filters and "group by" from the query string through
``analytics.forms`` (a bad value is a 400 naming the field), calls the metrics functions, and
turns the results into display rows, ECharts options (``analytics.charts``) and downloadable
tables: ``?export=csv|xlsx&table=NAME`` answers the named table of the page as a file, with
the same filters. Views only read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from siyu.analytics import charts, cohorts, metrics
from siyu.analytics.forms import (
    DIMENSION_LABELS,
    PERIODS,
    SOURCE_LABELS,
    DashboardForm,
    DashboardQuery,
    dimension_labels,
    filter_choices,
    parse_choice,
)
from siyu.analytics.reference import SaleStats
from siyu.core.actors import Actor
from siyu.core.errors import InvalidInput
from siyu.core.models import Merchant
from siyu.core.money import format_amount, to_decimal
from siyu.core.permissions import Perm
from siyu.web.console import console_view
from siyu.web.tables import FORMATS, Cell, Table, download, slug

# How each overview number is shown: money, a count, a ratio with two decimals, a share.
MONEY, COUNT, DECIMAL, PERCENT = "money", "count", "decimal", "percent"
NUMBER_KINDS = {
    "gmv": MONEY,
    "net_sales": MONEY,
    "paid_orders": COUNT,
    "orders": COUNT,
    "buyers": COUNT,
    "aov": MONEY,
    "refunds": MONEY,
    "refund_count": COUNT,
    "frequency": DECIMAL,
    "repurchase_rate": PERCENT,
    "new_buyers": COUNT,
    "returning_buyers": COUNT,
    "dau": DECIMAL,
    "wau": COUNT,
    "mau": COUNT,
}
NUMBER_LABELS = {
    "gmv": gettext_lazy("GMV"),
    "net_sales": gettext_lazy("Net sales"),
    "paid_orders": gettext_lazy("Paid orders"),
    "orders": gettext_lazy("Orders"),
    "buyers": gettext_lazy("Buyers"),
    "aov": gettext_lazy("AOV"),
    "refunds": gettext_lazy("Refunds"),
    "refund_count": gettext_lazy("Refunded orders"),
    "frequency": gettext_lazy("Purchase frequency"),
    "repurchase_rate": gettext_lazy("Repurchase rate"),
    "new_buyers": gettext_lazy("New buyers"),
    "returning_buyers": gettext_lazy("Returning buyers"),
    "dau": gettext_lazy("DAU"),
    "wau": gettext_lazy("WAU"),
    "mau": gettext_lazy("MAU"),
}
assert set(NUMBER_KINDS) == set(NUMBER_LABELS)

TableBuilder = Callable[[], Table]


# --- shared ----------------------------------------------------------------------------------


def actor_of(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


def analytics_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A console page under ``analytics.view``; bad query parameters answer 400 naming them."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except InvalidInput as error:
            return render(
                request,
                "analytics/console/bad_request.html",
                {"error": error, "fields": sorted(error.fields.items())},
                status=400,
            )

    return console_view(Perm.ANALYTICS_VIEW)(guarded)


def read_query(
    request: HttpRequest, default_period: str = "30d"
) -> tuple[DashboardForm, DashboardQuery]:
    form = DashboardForm(request.GET, default_period=default_period)
    return form, form.query(actor_of(request).merchant)


def export_response(
    request: HttpRequest, query: DashboardQuery | str, tables: Mapping[str, TableBuilder]
) -> HttpResponse | None:
    """The asked table as a file when the query string has ``export``; None otherwise.

    The file is named after the table and the period of ``query`` (or the text given)."""
    fmt = request.GET.get("export")
    if fmt is None:
        return None
    if fmt not in FORMATS:
        raise InvalidInput(
            _("Unknown export format."), fields={"export": _("must be “csv” or “xlsx”")}
        )
    name = request.GET.get("table", "")
    if name not in tables:
        raise InvalidInput(
            _("Unknown table."), fields={"table": _("must be one of: %s") % ", ".join(tables)}
        )
    table = tables[name]()
    if isinstance(query, str):
        suffix = query
    else:
        suffix = f"{query.period.start.isoformat()}-{query.last_day.isoformat()}"
    stem = f"{slug(table.title)}-{suffix}"
    return download(table, fmt, filename=stem)


def amount(merchant: Merchant, fen: int | None) -> Decimal | None:
    """Fen as an exact decimal of the merchant's currency, for a spreadsheet."""
    return None if fen is None else to_decimal(fen, merchant.currency)


def shown(merchant: Merchant, kind: str, value: Any) -> str:
    """A number as the page shows it; "—" when there is none."""
    if value is None:
        return "—"
    if kind == MONEY:
        return format_amount(int(value), merchant.currency)
    if kind == PERCENT:
        return f"{value * 100:.1f}%"
    if kind == DECIMAL:
        return f"{value:.2f}"
    return f"{int(value):,}"


def shown_change(change: float | None) -> tuple[str, str]:
    """A period-over-period change as text and a CSS class (up, down or flat)."""
    if change is None:
        return "—", "flat"
    if change > 0:
        return f"+{change * 100:.1f}%", "up"
    if change < 0:
        return f"{change * 100:.1f}%", "down"
    return "0.0%", "flat"


def page_context(
    request: HttpRequest,
    form: DashboardForm,
    query: DashboardQuery,
    tab: str,
    filters: tuple[str, ...],
) -> dict[str, Any]:
    """What every analytics page's header shows: tabs, the period picker and the filters."""
    merchant = actor_of(request).merchant
    choices = filter_choices(merchant) if filters else {}
    fields = []
    for name in filters:
        current = request.GET.get(name, "")
        options = [(str(v), label, str(v) == current) for v, label in choices.get(name, [])]
        fields.append(
            {"name": name, "label": FILTER_LABELS[name], "options": options, "value": current}
        )
    return {
        "tab": tab,
        "form": form,
        "query": query,
        "periods": list(PERIODS.items()),
        "dimensions": list(DIMENSION_LABELS.items()),
        "filter_fields": fields,
        "extra_selects": [],
        "time_zone": merchant.time_zone,
        "currency": merchant.currency,
    }


FILTER_LABELS = {
    "store": gettext_lazy("Store"),
    "group": gettext_lazy("Group"),
    "guide": gettext_lazy("Guide"),
    "channel": gettext_lazy("Join channel"),
    "distributor": gettext_lazy("Distributor"),
    "campaign": gettext_lazy("Campaign id"),
    "segment": gettext_lazy("Customer segment"),
}


ALL_FILTERS = ("store", "group", "guide", "channel", "distributor", "campaign", "segment")
CUSTOMER_FILTERS = ("channel", "segment")


# --- overview --------------------------------------------------------------------------------


def _number_rows(merchant: Merchant, overview: metrics.Overview) -> list[dict[str, Any]]:
    rows = []
    for row in overview.rows():
        name = row["name"]
        kind = NUMBER_KINDS[name]
        change_text, change_class = shown_change(row["change"])
        rows.append(
            {
                **row,
                "label": NUMBER_LABELS[name],
                "kind": kind,
                "shown": shown(merchant, kind, row["value"]),
                "previous_shown": shown(merchant, kind, row["previous"]),
                "change_shown": change_text,
                "change_class": change_class,
            }
        )
    return rows


def _cell(merchant: Merchant, kind: str, value: Any) -> Cell:
    if value is None:
        return None
    if kind == MONEY:
        return amount(merchant, int(value))
    if kind in (PERCENT, DECIMAL):
        return round(float(value), 4)
    return int(value)


GROUP_COLUMNS = (
    ("gmv", MONEY),
    ("net_sales", MONEY),
    ("refunds", MONEY),
    ("orders", COUNT),
    ("buyers", COUNT),
    ("aov", MONEY),
    ("frequency", DECIMAL),
    ("repurchase_rate", PERCENT),
    ("new_buyers", COUNT),
)


def grouped_rows(merchant: Merchant, query: DashboardQuery) -> list[tuple[str, SaleStats]]:
    """The period's sales per value of the chosen dimension, biggest net sales first."""
    if query.by is None:
        return []
    stats = metrics.sale_stats(merchant, query.period, query.filters, by=query.by)
    labels = dimension_labels(merchant, query.by, stats)
    ordered = sorted(stats.items(), key=lambda item: (-item[1].net_sales, labels[item[0]]))
    return [(labels[key], s) for key, s in ordered]


def grouped_table(
    merchant: Merchant, query: DashboardQuery, rows: list[tuple[str, SaleStats]]
) -> Table:
    headings = [str(DIMENSION_LABELS[query.by or "source"])] + [
        str(NUMBER_LABELS[name]) for name, _kind in GROUP_COLUMNS
    ]
    return Table(
        title=_("Sales by %(dimension)s") % {"dimension": DIMENSION_LABELS[query.by or "source"]},
        headings=headings,
        rows=[
            [label, *(_cell(merchant, kind, getattr(s, name)) for name, kind in GROUP_COLUMNS)]
            for label, s in rows
        ],
    )


@analytics_view
def overview(request: HttpRequest) -> HttpResponse:
    merchant = actor_of(request).merchant
    form, query = read_query(request)
    figures = metrics.overview(merchant, query.period, query.filters)
    numbers = _number_rows(merchant, figures)
    days = metrics.daily(merchant, query.period, query.filters)
    sources = [
        (key, SOURCE_LABELS[key], stats, share) for key, (stats, share) in figures.sources.items()
    ]
    grouped = grouped_rows(merchant, query)
    tables: dict[str, TableBuilder] = {
        "numbers": lambda: Table(
            title=_("Overview"),
            headings=[
                _("Metric"),
                _("This period"),
                _("Previous period"),
                _("Change"),
                _("Definition"),
            ],
            rows=[
                [
                    str(r["label"]),
                    _cell(merchant, r["kind"], r["value"]),
                    _cell(merchant, r["kind"], r["previous"]),
                    None if r["change"] is None else round(r["change"], 4),
                    str(r["definition"]),
                ]
                for r in numbers
            ],
        ),
        "daily": lambda: Table(
            title=_("Sales per day"),
            headings=[_("Day"), _("GMV"), _("Net sales"), _("Orders"), _("Buyers")],
            rows=[
                [d, amount(merchant, s.gmv), amount(merchant, s.net_sales), s.orders, s.buyers]
                for d, s in days
            ],
        ),
        "sources": lambda: Table(
            title=_("Sales by source"),
            headings=[_("Source"), _("Net sales"), _("Orders"), _("Share")],
            rows=[
                [
                    str(label),
                    amount(merchant, s.net_sales),
                    s.orders,
                    None if share is None else round(share, 4),
                ]
                for _key, label, s, share in sources
            ],
        ),
    }
    if query.by:
        tables["grouped"] = lambda: grouped_table(merchant, query, grouped)
    exported = export_response(request, query, tables)
    if exported is not None:
        return exported
    context = page_context(request, form, query, "overview", ALL_FILTERS)
    context.update(
        {
            "numbers": numbers,
            "activity": figures.activity,
            "daily_chart": charts.daily_sales(
                [(d, s.net_sales, s.orders) for d, s in days],
                sales=_("Net sales"),
                orders=_("Orders"),
            ),
            "has_sales": any(s.paid_orders for _d, s in days),
            "sources": [
                {
                    "label": label,
                    "net_sales": format_amount(s.net_sales, merchant.currency),
                    "orders": s.orders,
                    "share": shown(merchant, PERCENT, share),
                }
                for _key, label, s, share in sources
            ],
            "source_chart": charts.share_pie(
                [(str(label), s.net_sales) for _key, label, s, _share in sources],
                name=_("Net sales"),
            ),
            "source_definition": metrics.DEFINITIONS["source_share"],
            "grouped": [
                {
                    "label": label,
                    "cells": [
                        shown(merchant, kind, getattr(s, name)) for name, kind in GROUP_COLUMNS
                    ],
                }
                for label, s in grouped
            ],
            "group_headings": [NUMBER_LABELS[name] for name, _kind in GROUP_COLUMNS],
            "by_label": DIMENSION_LABELS[query.by] if query.by else "",
        }
    )
    return render(request, "analytics/console/overview.html", context)


# --- cohorts ---------------------------------------------------------------------------------

COHORT_VALUES = ("retention", "revenue")


@analytics_view
def cohort_page(request: HttpRequest) -> HttpResponse:
    merchant = actor_of(request).merchant
    form, query = read_query(request, default_period="this_year")
    key = parse_choice(request.GET.get("key"), cohorts.COHORT_KEYS, "key", "month")
    value = parse_choice(request.GET.get("value"), COHORT_VALUES, "value", "retention")
    matrix = cohorts.cohort_matrix(
        merchant, query.period, query.period.end, by=key, filters=query.filters
    )
    width = matrix.width
    field = "retention" if value == "retention" else "revenue_per_customer"
    kind = PERCENT if value == "retention" else MONEY
    key_label = _("Acquisition month") if key == "month" else _("Join channel")

    def label(row_key: str) -> str:
        return row_key or _("(none)")

    headings = [key_label, _("Customers"), *(_("Month %(n)d") % {"n": k} for k in range(width))]
    value_title = _("Retention") if value == "retention" else _("Revenue per customer")
    tables: dict[str, TableBuilder] = {
        "cohorts": lambda: Table(
            title=_("Cohorts: %(value)s") % {"value": value_title},
            headings=headings,
            rows=[
                [
                    label(row.key),
                    row.size,
                    *(_cell(merchant, kind, getattr(cell, field)) for cell in row.cells),
                ]
                for row in matrix.rows
            ],
        ),
    }
    exported = export_response(request, query, tables)
    if exported is not None:
        return exported
    points = [
        (cell.months_since, y, _heat_value(getattr(cell, field), kind))
        for y, row in enumerate(matrix.rows)
        for cell in row.cells
    ]
    context = page_context(request, form, query, "cohorts", CUSTOMER_FILTERS)
    context.update(
        {
            "key": key,
            "value": value,
            "extra_selects": [
                {
                    "name": "key",
                    "label": _("Cohorts by"),
                    "options": [("month", _("Acquisition month")), ("channel", _("Join channel"))],
                    "value": key,
                },
                {
                    "name": "value",
                    "label": _("Show"),
                    "options": [
                        ("retention", _("Retention")),
                        ("revenue", _("Revenue per customer")),
                    ],
                    "value": value,
                },
            ],
            "value_title": value_title,
            "definition": metrics.DEFINITIONS[field],
            "headings": headings,
            "rows": [
                {
                    "label": label(row.key),
                    "size": row.size,
                    "cells": [shown(merchant, kind, getattr(cell, field)) for cell in row.cells],
                }
                for row in matrix.rows
            ],
            "chart": charts.heatmap(
                [str(k) for k in range(width)],
                [label(row.key) for row in matrix.rows],
                points,
                name=value_title,
                x_name=_("Months since the first order"),
                percent=kind == PERCENT,
            ),
        }
    )
    return render(request, "analytics/console/cohorts.html", context)


def _heat_value(value: Any, kind: str) -> float | int | None:
    """A heatmap square's value: a share as is (drawn as a percentage), money in yuan."""
    if value is None:
        return None
    return charts.yuan(int(value)) if kind == MONEY else value
