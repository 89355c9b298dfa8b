"""Console page of community uplift: does joining a group change how customers buy?

The estimate is ``analytics.uplift.estimate`` (difference in differences against matched
customers who had not joined at the same time; docs/uplift.md). This page feeds it the
merchant's whole history: kept sales (not refunded in full) per customer and calendar month,
each customer's first-order month, and the month of their first group join (``GroupSpan``),
months counted in the merchant's time zone. It shows the effect on monthly purchase frequency
and on AOV with their 95 % intervals, the sample sizes, the verdict ("too thin to tell"
included), the pre-trend check, and the members' and matched controls' curves around joining.

:func:`siyu.analytics.uplift_data.uplift_inputs` reads the arrays it needs.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from siyu.analytics import charts, uplift
from siyu.analytics.forms import parse_choice
from siyu.analytics.uplift_data import uplift_inputs
from siyu.analytics.uplift_verdict import Effect
from siyu.analytics.views_console import TableBuilder, actor_of, analytics_view, export_response
from siyu.core.models import Merchant
from siyu.core.money import format_amount
from siyu.web.tables import Table

WINDOWS = ("2", "3", "6")


def _effect_row(merchant: Merchant, label: str, effect: Effect, money: bool) -> dict[str, Any]:
    def value(x: float | None) -> str:
        if x is None:
            return "—"
        return format_amount(round(x), merchant.currency) if money else f"{x:+.3f}"

    def share(x: float | None) -> str:
        return "—" if x is None else f"{x * 100:+.1f}%"

    return {
        "label": label,
        "effect": value(effect.effect),
        "interval": f"{value(effect.low)} … {value(effect.high)}" if effect.interval else "—",
        "relative": share(effect.relative),
        "relative_interval": (
            f"{share(effect.relative_low)} … {share(effect.relative_high)}"
            if effect.relative_interval
            else "—"
        ),
        "naive": value(effect.naive),
        "members": effect.n_members,
        "controls": effect.n_controls,
        "verdict": effect.verdict,
        "verdict_label": effect.verdict_label,
        "pre_trend": effect.pre_trend_label,
        "raw": effect,
    }


@analytics_view
def uplift_page(request: HttpRequest) -> HttpResponse:
    merchant = actor_of(request).merchant
    window = int(parse_choice(request.GET.get("window"), WINDOWS, "window", "3"))
    inputs = uplift_inputs(merchant)
    result = (
        uplift.estimate(inputs.activity, inputs.acquired, inputs.joined, window=window)
        if inputs is not None
        else None
    )
    effects = []
    if result is not None:
        effects = [
            _effect_row(merchant, _("Monthly purchase frequency"), result.frequency, False),
            _effect_row(merchant, _("AOV"), result.aov, True),
        ]
    curves = result.curves if result is not None else None
    tables: dict[str, TableBuilder] = {
        "effects": lambda: Table(
            title=_("Community uplift"),
            headings=[
                _("Metric"),
                _("Effect"),
                _("Low end (95%)"),
                _("High end (95%)"),
                _("Relative"),
                _("Members"),
                _("Matched controls"),
                _("Verdict"),
            ],
            rows=[
                [
                    str(e["label"]),
                    e["raw"].effect,
                    e["raw"].low,
                    e["raw"].high,
                    e["raw"].relative,
                    e["members"],
                    e["controls"],
                    str(e["verdict_label"]),
                ]
                for e in effects
            ],
        ),
        "curves": lambda: Table(
            title=_("Members and matched customers around joining"),
            headings=[
                _("Months since joining"),
                _("Members: orders"),
                _("Controls: orders"),
                _("Members: spend"),
                _("Controls: spend"),
            ],
            rows=[
                [m, round(a, 4), round(b, 4), round(c / 100, 2), round(d / 100, 2)]
                for m, a, b, c, d in zip(
                    curves.months,
                    curves.members_orders,
                    curves.controls_orders,
                    curves.members_spend,
                    curves.controls_spend,
                    strict=True,
                )
            ]
            if curves
            else [],
        ),
    }
    exported = export_response(request, f"window-{window}", tables)
    if exported is not None:
        return exported
    return render(
        request,
        "analytics/console/uplift.html",
        {
            "tab": "uplift",
            "window": str(window),
            "windows": WINDOWS,
            "result": result,
            "effects": effects,
            "chart": charts.uplift_curves(
                curves.months if curves else [],
                curves.members_orders if curves else [],
                curves.controls_orders if curves else [],
                members_name=_("Group members"),
                controls_name=_("Matched customers who had not joined"),
                y_name=_("Orders per customer per month"),
            ),
        },
    )
