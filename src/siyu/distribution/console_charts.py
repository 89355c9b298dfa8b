"""The ECharts option of commission by month (pure: data in, dict out)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from siyu.distribution.selectors import MonthCommission

EARNED_COLOR = "#2563eb"
SETTLED_COLOR = "#15803d"
REVERSED_COLOR = "#b91c1c"


def commission_by_month(
    months: Sequence[MonthCommission], *, earned: str, settled: str, reversed_: str
) -> dict[str, Any]:
    """Bars per month in yuan: earned (pending entries), settled, reversed by refunds."""

    def yuan(fen: int) -> float:
        return round(fen / 100, 2)

    series = [
        (earned, [m.earned for m in months], EARNED_COLOR),
        (settled, [m.settled for m in months], SETTLED_COLOR),
        (reversed_, [m.reversed for m in months], REVERSED_COLOR),
    ]
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"data": [name for name, _data, _color in series], "bottom": 0},
        "grid": {"left": 56, "right": 12, "top": 16, "bottom": 48},
        "xAxis": {"type": "category", "data": [m.month.strftime("%Y-%m") for m in months]},
        "yAxis": {"type": "value", "name": "¥"},
        "series": [
            {
                "name": name,
                "type": "bar",
                "data": [yuan(v) for v in data],
                "itemStyle": {"color": c},
            }
            for name, data, c in series
        ],
    }
