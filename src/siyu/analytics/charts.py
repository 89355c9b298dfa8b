"""ECharts options of the analytics console (pure: data in, option dicts out).

Labels arrive translated; amounts arrive in fen and are drawn in yuan (a chart is display
only: the tables and exports keep the exact amounts). Options are plain JSON (no functions),
rendered by the console's ``data-chart`` script through ``json_script``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

SALES_COLOR = "#c2410c"
ORDERS_COLOR = "#1d4ed8"
MEMBERS_COLOR = "#15803d"
CONTROLS_COLOR = "#6b7280"
HEAT_COLORS = ["#fff7ed", "#fdba74", "#ea580c", "#9a3412"]
PALETTE = ["#c2410c", "#1d4ed8", "#15803d", "#7c3aed", "#0891b2", "#a16207", "#6b7280"]


def yuan(fen: int | None) -> float | None:
    """Fen as yuan for drawing (two decimals)."""
    return None if fen is None else round(fen / 100, 2)


def daily_sales(
    days: Sequence[tuple[date, int, int]], *, sales: str, orders: str
) -> dict[str, Any]:
    """Bars of net sales (yuan, left axis) and a line of orders (right axis), one point per
    day: ``days`` is ``[(day, net_sales_fen, orders), ...]``."""
    return {
        "color": [SALES_COLOR, ORDERS_COLOR],
        "tooltip": {"trigger": "axis"},
        "legend": {"data": [sales, orders], "bottom": 0},
        "grid": {"left": 48, "right": 40, "top": 16, "bottom": 56, "containLabel": True},
        "xAxis": {"type": "category", "data": [d.isoformat() for d, _s, _o in days]},
        "yAxis": [
            {"type": "value", "name": "¥", "splitLine": {"show": True}},
            {"type": "value", "minInterval": 1, "splitLine": {"show": False}},
        ],
        "dataZoom": [{"type": "inside"}] if len(days) > 45 else [],
        "series": [
            {
                "name": sales,
                "type": "bar",
                "barMaxWidth": 24,
                "data": [yuan(s) for _d, s, _o in days],
            },
            {
                "name": orders,
                "type": "line",
                "yAxisIndex": 1,
                "smooth": True,
                "symbolSize": 4,
                "data": [o for _d, _s, o in days],
            },
        ],
    }


def share_pie(parts: Sequence[tuple[str, int]], *, name: str) -> dict[str, Any]:
    """A ring of net sales (fen) by part; parts with nothing are left out."""
    return {
        "color": PALETTE,
        "tooltip": {"trigger": "item", "formatter": "{b}: ¥{c} ({d}%)"},
        "legend": {"bottom": 0, "type": "scroll"},
        "series": [
            {
                "name": name,
                "type": "pie",
                "radius": ["40%", "68%"],
                "center": ["50%", "45%"],
                "avoidLabelOverlap": True,
                "label": {"formatter": "{b}\n{d}%"},
                "data": [{"name": label, "value": yuan(fen)} for label, fen in parts if fen],
            }
        ],
    }


def heatmap(
    x_labels: Sequence[str],
    y_labels: Sequence[str],
    points: Sequence[tuple[int, int, float | int | None]],
    *,
    name: str,
    x_name: str = "",
    y_name: str = "",
    percent: bool = False,
) -> dict[str, Any]:
    """A heatmap of ``points`` ``(x, y, value)``; a None value is an empty square.

    With ``percent`` the values are shares (0–1) drawn as percentages with one decimal.
    """
    data = []
    top = 0.0
    for x, y, value in points:
        if value is None:
            continue
        shown = round(value * 100, 1) if percent else value
        top = max(top, float(shown))
        data.append([x, y, shown])
    return {
        "tooltip": {"position": "top"},
        "grid": {"left": 8, "right": 8, "top": 24, "bottom": 72, "containLabel": True},
        "xAxis": {
            "type": "category",
            "name": x_name,
            "nameLocation": "middle",
            "nameGap": 28,
            "data": list(x_labels),
            "splitArea": {"show": True},
        },
        "yAxis": {
            "type": "category",
            "name": y_name,
            "data": list(y_labels),
            "inverse": True,
            "splitArea": {"show": True},
        },
        "visualMap": {
            "min": 0,
            "max": top or 1,
            "calculable": True,
            "orient": "horizontal",
            "left": "center",
            "bottom": 0,
            "itemHeight": 120,
            "inRange": {"color": HEAT_COLORS},
        },
        "series": [
            {
                "name": name,
                "type": "heatmap",
                "data": data,
                "label": {"show": True, "fontSize": 10},
                "emphasis": {"itemStyle": {"borderColor": "#111", "borderWidth": 1}},
            }
        ],
    }


def funnel(stages: Sequence[tuple[str, int]], *, name: str) -> dict[str, Any]:
    """A funnel of counts, widest first (the order given is kept)."""
    top = max((n for _label, n in stages), default=0)
    return {
        "color": PALETTE,
        "tooltip": {"trigger": "item", "formatter": "{b}: {c}"},
        "series": [
            {
                "name": name,
                "type": "funnel",
                "left": "10%",
                "width": "80%",
                "min": 0,
                "max": top or 1,
                "sort": "none",
                "gap": 2,
                "label": {"show": True, "position": "inside", "formatter": "{b}: {c}"},
                "data": [{"name": label, "value": n} for label, n in stages],
            }
        ],
    }


def ranked_bars(rows: Sequence[tuple[str, int]], *, name: str) -> dict[str, Any]:
    """Horizontal bars of net sales (fen, drawn in yuan), the first row on top."""
    return {
        "color": [SALES_COLOR],
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "grid": {"left": 8, "right": 24, "top": 8, "bottom": 8, "containLabel": True},
        "xAxis": {"type": "value", "name": "¥"},
        "yAxis": {"type": "category", "inverse": True, "data": [label for label, _v in rows]},
        "series": [
            {
                "name": name,
                "type": "bar",
                "barMaxWidth": 20,
                "data": [yuan(v) for _label, v in rows],
            }
        ],
    }


def histogram(labels: Sequence[str], counts: Sequence[int], *, name: str) -> dict[str, Any]:
    """Touching bars of counts per bucket (the buckets' labels given in order)."""
    return {
        "color": [SALES_COLOR],
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "grid": {"left": 8, "right": 8, "top": 16, "bottom": 8, "containLabel": True},
        "xAxis": {
            "type": "category",
            "data": list(labels),
            "axisLabel": {"interval": 0, "rotate": 30},
        },
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [{"name": name, "type": "bar", "barCategoryGap": "4%", "data": list(counts)}],
    }


def uplift_curves(
    months: Sequence[int],
    members: Sequence[float],
    controls: Sequence[float],
    *,
    members_name: str,
    controls_name: str,
    y_name: str,
) -> dict[str, Any]:
    """Members' and matched controls' mean orders per month around joining (month 0, shaded:
    left out of the estimate)."""
    labels = [f"{m:+d}" if m else "0" for m in months]
    return {
        "color": [MEMBERS_COLOR, CONTROLS_COLOR],
        "tooltip": {"trigger": "axis"},
        "legend": {"data": [members_name, controls_name], "bottom": 0},
        "grid": {"left": 8, "right": 16, "top": 24, "bottom": 56, "containLabel": True},
        "xAxis": {"type": "category", "data": labels},
        "yAxis": {"type": "value", "name": y_name},
        "series": [
            {
                "name": members_name,
                "type": "line",
                "data": [round(v, 4) for v in members],
                "markArea": {"silent": True, "data": [[{"xAxis": "0"}, {"xAxis": "0"}]]}
                if 0 in months
                else {},
            },
            {
                "name": controls_name,
                "type": "line",
                "lineStyle": {"type": "dashed"},
                "data": [round(v, 4) for v in controls],
            },
        ],
    }


def holdout_check(
    labels: Sequence[str],
    actual: Sequence[float | None],
    predicted: Sequence[float | None],
    *,
    actual_name: str,
    predicted_name: str,
    x_name: str,
    y_name: str,
) -> dict[str, Any]:
    """The calibration/holdout check as in the BG/NBD paper's figure: mean purchases per
    customer in the holdout period, actual (solid) and predicted (dashed), by the number of
    repeat purchases before it (``labels``: 0, 1, ..., 7+). A None is a gap."""

    def rounded(values: Sequence[float | None]) -> list[float | None]:
        return [None if v is None else round(v, 3) for v in values]

    return {
        "color": [ORDERS_COLOR, SALES_COLOR],
        "tooltip": {"trigger": "axis"},
        "legend": {"data": [actual_name, predicted_name], "bottom": 0},
        "grid": {"left": 8, "right": 16, "top": 32, "bottom": 72, "containLabel": True},
        "xAxis": {
            "type": "category",
            "name": x_name,
            "nameLocation": "middle",
            "nameGap": 28,
            "data": list(labels),
        },
        # The axis name starts at the axis and runs right, so a phone does not cut it off.
        "yAxis": {"type": "value", "name": y_name, "nameTextStyle": {"align": "left"}},
        "series": [
            {"name": actual_name, "type": "line", "symbolSize": 6, "data": rounded(actual)},
            {
                "name": predicted_name,
                "type": "line",
                "symbolSize": 6,
                "lineStyle": {"type": "dashed"},
                "data": rounded(predicted),
            },
        ],
    }
